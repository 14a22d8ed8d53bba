"""Typed values that cross the boundary between portal adapters and flows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Credentials:
    """What logging in to one portal account takes. Never logged, never stored outside the keyring."""

    username: str
    password: str = field(repr=False)
    totp_secret: str | None = field(default=None, repr=False)
    # security question (as the portal words it, matched case-insensitively) -> answer
    security_answers: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ClaimQuery:
    """What an adapter needs to find one claim on a portal (no patient name)."""

    claim_id: str  # the practice's claim id (patient control number, CLM01)
    payer_id: str
    member_id: str = field(repr=False)
    dos_from: date
    dos_to: date
    billed_amount: Decimal
    rendering_npi: str
    payer_claim_number: str | None = None
    # The claim's detail page, as the portal's own claim list linked it (ListedClaim.detail_path): an adapter
    # goes straight there, and checks the page shows this claim, instead of searching for it.
    detail_path: str | None = None
    # The detail pages the batch opens after this claim's, in order, when the list linked them too: an adapter
    # that reads pages in place asks for them as soon as this one has come (PortalAdapter.goto_in_place's `ahead`).
    next_detail_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Adjustment:
    """One CAS adjustment: group code + CARC + amount, with the RARCs the payer attached."""

    group_code: str  # CO, PR, OA, PI, CR
    carc: str
    amount: Decimal
    rarcs: tuple[str, ...] = ()
    line_procedure: str | None = None  # CPT/HCPCS of the service line, None for claim level


@dataclass(frozen=True)
class ClaimStatusResult:
    """What a portal says about one claim, normalised to X12 277 terms."""

    claim_id: str
    category_code: str  # 277 STC01-1, e.g. "F1" paid, "P1" in process
    status_code: str | None  # 277 STC01-2 where the portal shows it
    status_text: str
    status_date: date | None = None
    payer_claim_number: str | None = None
    billed_amount: Decimal | None = None
    allowed_amount: Decimal | None = None
    paid_amount: Decimal | None = None
    check_number: str | None = None  # check or EFT trace number
    payment_date: date | None = None
    adjustments: tuple[Adjustment, ...] = ()


# The fields of ClaimStatusResult a claim list may show (adjustment lines are never on a list).
LISTABLE_FIELDS = frozenset(
    {
        "status_text",
        "category_code",
        "status_code",
        "status_date",
        "payer_claim_number",
        "billed_amount",
        "allowed_amount",
        "paid_amount",
        "check_number",
        "payment_date",
    }
)


@dataclass(frozen=True)
class ListedClaim:
    """One row of a portal's claim list: what the list shows of a claim, and where its detail page is.

    `result` holds the row's status-level fields; a field the list does not show is None and is
    not named in `shows`, so it is never compared (None is also a real value: no payment yet).
    The state (`category_code`) is always shown; adjustment lines never are."""

    result: ClaimStatusResult
    shows: frozenset[str]  # which LISTABLE_FIELDS this list shows
    detail_path: str | None = None  # the portal path the row links to, for ClaimQuery.detail_path

    @property
    def claim_id(self) -> str:
        return self.result.claim_id


@dataclass(frozen=True)
class PageSnapshot:
    """What was on screen when something went wrong: kept as evidence by the worker."""

    url: str
    html: str  # password inputs already blanked
    screenshot_png: bytes = field(repr=False)
    pdf: bytes = field(default=b"", repr=False)  # the page printed to PDF, when asked for
    archive: bytes = field(default=b"", repr=False)  # the page as one MHTML file, to be printed later


@dataclass(frozen=True)
class RemittanceFile:
    """An ERA (X12 835) file a portal offers for download."""

    file_id: str  # the portal's own id for the file, stable across visits
    name: str
    issued: date | None = None  # the payment/production date the portal lists


@dataclass(frozen=True)
class AuthorizationResult:
    """A prior authorization as the payer's portal shows it, normalised."""

    auth_number: str
    status: str  # approved | pending | denied | expired | cancelled
    procedure_codes: tuple[str, ...]
    units_approved: int | None
    units_used: int | None
    servicing_npi: str | None
    start: date | None
    end: date | None
    denial_reason: str | None = None
    member_id: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class EnrollmentResult:
    """A provider's enrollment/credentialing with one payer, as its portal shows it, normalised."""

    npi: str
    payer_id: str
    status: str  # in_process | active | denied | terminated
    effective: date | None
    termination: date | None
    revalidation_due: date | None
    payer_provider_id: str | None
    era_enrolled: bool | None = None  # clearinghouses also show ERA/EFT enrollment
    eft_enrolled: bool | None = None


# --- before the visit: eligibility and prior-authorization requests (issue 18) ----------------------------


@dataclass(frozen=True)
class EligibilityQuery:
    """One appointment's coverage question: who, with which payer, seen by whom, for what, on which day."""

    payer_id: str
    member_id: str = field(repr=False)
    date_of_birth: date = field(repr=False)
    provider_npi: str
    service_date: date
    procedure_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EligibilityResult:
    """What a portal's eligibility and benefits inquiry answered, normalised.

    `coverage` is active, inactive or not_found. The other fields are None or empty where the portal did
    not show them (never a guessed default): a rule can tell "no copay" (Decimal 0) from "not shown"."""

    payer_id: str  # the payer the portal answered for (the one asked)
    coverage: str  # active | inactive | not_found
    portal_words: str  # the coverage line as the portal words it, for the finding and the evidence
    member_id: str | None = field(default=None, repr=False)  # the member id the payer has now
    plan_name: str | None = None
    coverage_start: date | None = None
    coverage_end: date | None = None
    new_payer_id: str | None = None  # the coverage moved to another payer (a plan change)
    new_member_id: str | None = field(default=None, repr=False)  # the member id under the new plan or payer
    other_insurance_primary: str | None = None  # coordination of benefits: the primary payer, as shown
    auth_required_codes: tuple[str, ...] = ()  # planned codes the payer says need prior authorization
    in_network: bool | None = None  # the provider asked about, with this member's plan
    deductible: Decimal | None = None
    deductible_met: Decimal | None = None
    coinsurance_percent: Decimal | None = None
    copay: Decimal | None = None


@dataclass(frozen=True)
class AuthRequest:
    """A prior-authorization request to submit on a payer's online form.

    `request_id` is the practice's own id for it: typed into the form's provider reference field, so a
    look at the portal's requests can tell this request from any other."""

    request_id: str
    payer_id: str
    member_id: str = field(repr=False)
    date_of_birth: date = field(repr=False)
    servicing_npi: str
    procedure_codes: tuple[str, ...]
    units: int
    start: date
    end: date
    diagnosis_codes: tuple[str, ...]
    attachments: tuple[str, ...] = ()  # paths of PDF files to upload with it


@dataclass(frozen=True)
class AuthRequestReceipt:
    """A request as the portal lists it after submission: its reference number and where it stands."""

    reference_number: str  # the payer's number for it (becomes the authorization number to track)
    status: str  # pending | approved | denied | cancelled
    procedure_codes: tuple[str, ...]
    start: date | None
    end: date | None
    provider_reference: str | None = None  # what was typed in the form's reference field (our request_id)
    member_id: str | None = field(default=None, repr=False)
    submitted_on: date | None = None


@dataclass(frozen=True)
class AppealFiling:
    """An appeal (or reconsideration) to file on a payer's online form, with its packet to upload.

    `appeal_id` is the practice's own id for it: typed into the form's provider reference field, so a
    look at the portal's appeals for the claim can tell this appeal from any other."""

    appeal_id: str
    payer_id: str
    claim_id: str  # the patient control number the claim was billed under
    payer_claim_number: str
    member_id: str = field(repr=False)
    dos_from: date = field(repr=False)
    billed_amount: Decimal
    disputed_amount: Decimal
    level: int  # 1 for the first level of the payer's appeal_levels
    reason: str  # the argument in a few words (the denial category and CARC), never PHI
    packet_pdf: str  # path of the packet PDF to upload


@dataclass(frozen=True)
class AppealReceipt:
    """An appeal as the portal shows it: its confirmation number and where it stands."""

    confirmation_number: str
    status: str  # received | in_review | upheld | overturned
    payer_claim_number: str | None = None
    provider_reference: str | None = None  # what was typed in the form's reference field (our appeal_id)
    level: int | None = None
    submitted_on: date | None = None
    decided_on: date | None = None
    amount_overturned: Decimal | None = None  # what the payer will now pay, when overturned
    decision_words: str | None = None  # the payer's reason, as shown
