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


@dataclass(frozen=True)
class PageSnapshot:
    """What was on screen when something went wrong: kept as evidence by the worker."""

    url: str
    html: str  # password inputs already blanked
    screenshot_png: bytes = field(repr=False)


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
