"""SQLModel tables. No secrets here, ever: credentials live in the keyring."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

MONEY = {"max_digits": 12, "decimal_places": 2}


class PortalAccount(SQLModel, table=True):
    """One configured portal account and what the worker knows of its health."""

    __tablename__ = "portal_account"

    portal: str = Field(primary_key=True)  # the name in config, e.g. "unity"
    adapter: str
    state: str = "active"  # active | needs_attention
    attention_reason: str | None = None
    attention_since: datetime | None = None
    # The keyring entry's `updated_at` that the portal rejected: the account is
    # not tried again until the stored credentials change.
    rejected_credentials_stamp: str | None = None
    unavailable_until: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_success_at: datetime | None = None


class Claim(SQLModel, table=True):
    """A claim the practice submitted (from its PM system), with its latest known status."""

    claim_id: str = Field(primary_key=True)  # the practice's claim id (patient control number)
    payer_id: str = Field(index=True)
    member_id: str
    patient_name: str  # display only; never logged
    dos_from: date
    dos_to: date
    billed_amount: Decimal = Field(**MONEY)
    submitted_date: date
    rendering_npi: str
    procedure_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    prior_auth_number: str | None = None
    imported_at: datetime
    updated_at: datetime

    # latest status, copied from the newest observation for listing and cadence
    status: str = Field(default="unchecked", index=True)
    category_code: str | None = None
    status_text: str | None = None
    payer_claim_number: str | None = None
    paid_amount: Decimal | None = Field(default=None, **MONEY)
    last_checked_at: datetime | None = None
    status_changed_at: datetime | None = None
    last_error: str | None = None


class ClaimStatusObservation(SQLModel, table=True):
    """What a portal said about a claim, recorded only when it differs from before."""

    __tablename__ = "claim_status_observation"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: str = Field(foreign_key="claim.claim_id", index=True)
    observed_at: datetime
    portal: str
    run_id: str
    status: str
    category_code: str | None = None
    status_code: str | None = None
    status_text: str | None = None
    status_date: date | None = None
    payer_claim_number: str | None = None
    billed_amount: Decimal | None = Field(default=None, **MONEY)
    allowed_amount: Decimal | None = Field(default=None, **MONEY)
    paid_amount: Decimal | None = Field(default=None, **MONEY)
    check_number: str | None = None
    payment_date: date | None = None
    # [{"group_code", "carc", "amount", "rarcs", "line_procedure"}]
    adjustments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    changes: str  # what changed, e.g. "status: pending -> paid"
    evidence_id: int | None = Field(default=None, foreign_key="evidence.id")


class Evidence(SQLModel, table=True):
    """Files saved when a page was not what we expected (screenshot, HTML)."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime
    portal: str
    claim_id: str | None = None
    reason: str
    url: str
    screenshot_path: str | None = None
    html_path: str | None = None


class CheckRun(SQLModel, table=True):
    """One `check` run: when, and what it found per portal."""

    __tablename__ = "check_run"

    id: str = Field(primary_key=True)
    started_at: datetime
    finished_at: datetime | None = None
    summary: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Denial(SQLModel, table=True):
    """One denying adjustment (group + CARC on a claim or line), from a portal or an ERA."""

    id: int | None = Field(default=None, primary_key=True)
    # Same claim, payer claim number, group, CARC and line: the same denial, whoever reported it.
    fingerprint: str = Field(unique=True)
    claim_id: str | None = Field(default=None, foreign_key="claim.claim_id", index=True)  # None: not in our claims
    reported_claim_id: str  # the claim id as the payer sent it (CLP01 / patient control number)
    source: str  # "portal" or "era"
    source_ref: str  # the portal's name, or the ERA file id
    payer_id: str | None = None
    payer_claim_number: str | None = None
    group_code: str
    carc: str
    rarcs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    amount: Decimal = Field(**MONEY)
    line_procedure: str | None = None
    denial_date: date | None = None  # the payer's determination date
    category: str
    owner: str
    kind: str  # soft | hard | unknown
    bill_patient: bool = False
    appealable: bool = True  # False when a remark code says the payer grants no appeal rights
    status: str = Field(default="open", index=True)  # open | appealed | resubmitted | written_off | resolved
    resolution: str | None = None
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None


class DenialEvent(SQLModel, table=True):
    """What happened to a denial: seen, worked by staff, resolved. Kept for the appeal trail."""

    __tablename__ = "denial_event"

    id: int | None = Field(default=None, primary_key=True)
    denial_id: int = Field(foreign_key="denial.id", index=True)
    at: datetime
    actor: str  # "worker" or "staff"
    status: str
    note: str | None = None


class EraFile(SQLModel, table=True):
    """An 835 remittance file that was imported (once: the same bytes never twice)."""

    __tablename__ = "era_file"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True)
    source: str  # the portal's name, or "file"
    file_id: str  # the portal's id for it, or the file name
    trace_number: str | None = None
    payment_amount: Decimal | None = Field(default=None, **MONEY)
    payment_date: date | None = None
    imported_at: datetime
    claims: int = 0
    unmatched_claims: int = 0


class EraClaim(SQLModel, table=True):
    """One CLP of an imported ERA: what the payer paid or denied, matched to our claim when we have it."""

    __tablename__ = "era_claim"

    id: int | None = Field(default=None, primary_key=True)
    era_file_id: int = Field(foreign_key="era_file.id", index=True)
    reported_claim_id: str = Field(index=True)
    claim_id: str | None = Field(default=None, foreign_key="claim.claim_id")
    status_code: str
    billed: Decimal = Field(**MONEY)
    paid: Decimal = Field(**MONEY)
    patient_responsibility: Decimal | None = Field(default=None, **MONEY)
    payer_claim_number: str | None = None


class Authorization(SQLModel, table=True):
    """A prior authorization the practice holds (from its PM system), with what the payer says now."""

    auth_number: str = Field(primary_key=True)
    payer_id: str = Field(index=True)
    member_id: str
    patient_name: str  # display only; never logged
    servicing_npi: str
    procedure_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    units_approved: int
    start_date: date
    end_date: date
    scheduled_date: date | None = None  # the next service booked against it
    imported_at: datetime
    updated_at: datetime
    # latest portal state
    status: str = Field(default="unchecked", index=True)
    portal_units_approved: int | None = None
    units_used: int | None = None
    portal_start: date | None = None
    portal_end: date | None = None
    portal_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    denial_reason: str | None = None
    last_checked_at: datetime | None = None
    status_changed_at: datetime | None = None
    last_error: str | None = None


class AuthorizationObservation(SQLModel, table=True):
    __tablename__ = "authorization_observation"

    id: int | None = Field(default=None, primary_key=True)
    auth_number: str = Field(foreign_key="authorization.auth_number", index=True)
    observed_at: datetime
    portal: str
    run_id: str
    status: str
    units_approved: int | None = None
    units_used: int | None = None
    start: date | None = None
    end: date | None = None
    procedure_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    denial_reason: str | None = None
    changes: str


class Provider(SQLModel, table=True):
    """A rendering provider of the practice (from its PM system or credentialing file)."""

    npi: str = Field(primary_key=True)
    name: str
    caqh_attested_date: date | None = None  # last CAQH ProView attestation, where the practice records it
    imported_at: datetime
    updated_at: datetime


class Enrollment(SQLModel, table=True):
    """A provider's enrollment with one payer, as last seen on that payer's portal."""

    __table_args__ = (UniqueConstraint("npi", "payer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    npi: str = Field(index=True)
    payer_id: str
    portal: str
    status: str
    effective: date | None = None
    termination: date | None = None
    revalidation_due: date | None = None
    payer_provider_id: str | None = None
    era_enrolled: bool | None = None
    eft_enrolled: bool | None = None
    last_checked_at: datetime
    status_changed_at: datetime


class EnrollmentObservation(SQLModel, table=True):
    __tablename__ = "enrollment_observation"

    id: int | None = Field(default=None, primary_key=True)
    npi: str = Field(index=True)
    payer_id: str
    observed_at: datetime
    portal: str
    run_id: str
    status: str
    effective: date | None = None
    termination: date | None = None
    revalidation_due: date | None = None
    payer_provider_id: str | None = None
    era_enrolled: bool | None = None
    eft_enrolled: bool | None = None
    changes: str


class Finding(SQLModel, table=True):
    """Something that will become a denial unless a person acts: one row per (kind, subject)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # kind + subject
    kind: str = Field(index=True)  # e.g. auth_expiring, enrollment_inactive
    subject: str  # auth number, "npi/payer" or claim id
    payer_id: str | None = None
    message: str  # what is wrong and what to do, no PHI
    due: date | None = None  # when it bites
    amount_at_risk: Decimal | None = Field(default=None, **MONEY)
    claims_at_risk: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", index=True)  # open | resolved
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None
