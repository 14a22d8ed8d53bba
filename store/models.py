"""SQLModel tables. No secrets here, ever: credentials live in the keyring."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Text, UniqueConstraint, column, func
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Money columns: Field(max_digits=12, decimal_places=2), dollars and cents up to ten billion.


class PortalAccount(SQLModel, table=True):
    """One configured portal account and what the worker knows of its health."""

    __tablename__ = "portal_account"

    portal: str = Field(primary_key=True)  # the name in config, e.g. "unity"
    adapter: str
    state: str = "active"  # active | needs_attention
    attention_reason: str | None = None
    attention_since: datetime | None = None
    # When the portal last rejected this account's login. Credentials stored before then, on any
    # host, are not tried again: each host keeps its own keyring, and a copy of the rejected
    # password on a second host must not become a second strike toward a lockout.
    credentials_rejected_at: datetime | None = None
    # What versions before revision 0003 wrote instead (one host's keyring stamp); kept so a worker
    # still on such a version runs during a rolling upgrade. Nothing reads it any more.
    rejected_credentials_stamp: str | None = None
    unavailable_until: datetime | None = None
    consecutive_failures: int = 0
    # times the circuit breaker paused the portal; the server default lets rows of older versions upgrade
    pauses: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_error: str | None = None
    last_success_at: datetime | None = None


class Claim(SQLModel, table=True):
    """A claim the practice submitted (from its PM system), with its latest known status."""

    # The workspace's search by patient name, case-insensitively from the start of the name:
    # lower(patient_name) >= 'smi' AND lower(patient_name) < 'smj' reads this index on SQLite and PostgreSQL.
    __table_args__ = (Index("ix_claim_patient_name_lower", func.lower(column("patient_name"))),)

    claim_id: str = Field(primary_key=True)  # the practice's claim id (patient control number)
    payer_id: str = Field(index=True)
    member_id: str = Field(index=True)
    patient_name: str  # display only; never logged
    dos_from: date
    dos_to: date
    billed_amount: Decimal = Field(max_digits=12, decimal_places=2)
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
    payer_claim_number: str | None = Field(default=None, index=True)
    paid_amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
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
    payer_claim_number: str | None = Field(default=None, index=True)  # searched: the claim's older numbers too
    billed_amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    allowed_amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    paid_amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    check_number: str | None = Field(default=None, index=True)
    payment_date: date | None = None
    # [{"group_code", "carc", "amount", "rarcs", "line_procedure"}]
    adjustments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    changes: str  # what changed, e.g. "status: pending -> paid"
    evidence_id: int | None = Field(default=None, foreign_key="evidence.id")


class Evidence(SQLModel, table=True):
    """Files saved when a page was not what we expected (screenshot, HTML, and a Playwright trace of the task)."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime
    portal: str
    claim_id: str | None = None
    reason: str
    url: str
    screenshot_path: str | None = None
    html_path: str | None = None
    trace_path: str | None = None  # only for a task that failed after login: a trace never spans a login
    pdf_path: str | None = None  # the page printed by Chromium: kept for pages a person may have to show later
    archive_path: str | None = None  # the page as MHTML, kept mid-check and printed (pdf, screenshot) when idle
    # tries at printing the archive: one that cannot be printed is not tried forever
    print_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class CheckRun(SQLModel, table=True):
    """One `check` run: when, and what it found per portal."""

    __tablename__ = "check_run"

    id: str = Field(primary_key=True)
    started_at: datetime
    finished_at: datetime | None = None
    summary: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Who ran it: a run whose process is gone without finishing is marked interrupted by the next
    # `check`, `run` or `status` on that host. The process's start time tells a reused pid apart.
    host: str | None = None
    pid: int | None = None
    process_started: float | None = None
    interrupted_at: datetime | None = None


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
    amount: Decimal = Field(max_digits=12, decimal_places=2)
    line_procedure: str | None = None
    denial_date: date | None = None  # the payer's determination date
    category: str
    owner: str
    kind: str  # soft | hard | unknown
    bill_patient: bool = False
    appealable: bool = True  # False when a remark code says the payer grants no appeal rights
    status: str = Field(default="open", index=True)  # open | appealed | resubmitted | written_off | resolved
    assignee: str | None = Field(default=None, index=True)  # the staff user working it (workspace login name)
    resolution: str | None = None
    first_seen_at: datetime = Field(index=True)  # "new denials since yesterday"
    last_seen_at: datetime
    resolved_at: datetime | None = None
    write_off_amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)  # when written off
    write_off_reason: str | None = None  # why staff wrote it off (e.g. "appeal upheld at the last level")


class DenialEvent(SQLModel, table=True):
    """What happened to a denial: seen, worked by staff, resolved. Kept for the appeal trail."""

    __tablename__ = "denial_event"

    id: int | None = Field(default=None, primary_key=True)
    denial_id: int = Field(foreign_key="denial.id", index=True)
    at: datetime
    actor: str  # "worker", "staff" (the CLI) or the workspace user's login name
    status: str
    note: str | None = None


class EraFile(SQLModel, table=True):
    """An 835 remittance file that was imported (once: the same bytes never twice)."""

    __tablename__ = "era_file"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True)
    source: str  # the portal's name, or "file"
    file_id: str  # the portal's id for it, or the file name
    trace_number: str | None = Field(default=None, index=True)  # TRN02: the check or EFT number
    payment_amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    payment_date: date | None = None
    imported_at: datetime
    claims: int = 0
    unmatched_claims: int = 0
    # 835 balancing rules the file breaks: [{"level", "claim_id", "difference", "text"}] (flows/era_balance.py)
    warnings: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )


class EraClaim(SQLModel, table=True):
    """One CLP of an imported ERA: what the payer paid or denied, matched to our claim when we have it."""

    __tablename__ = "era_claim"

    id: int | None = Field(default=None, primary_key=True)
    era_file_id: int = Field(foreign_key="era_file.id", index=True)
    reported_claim_id: str = Field(index=True)
    claim_id: str | None = Field(default=None, foreign_key="claim.claim_id")
    status_code: str
    billed: Decimal = Field(max_digits=12, decimal_places=2)
    paid: Decimal = Field(max_digits=12, decimal_places=2)
    patient_responsibility: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    payer_claim_number: str | None = Field(default=None, index=True)
    filing_indicator: str | None = None  # CLP06: which kind of payer, for a claim we do not know yet
    service_from: date | None = None  # the ERA's dates of service, where deadlines count from
    service_to: date | None = None


class EraProviderAdjustment(SQLModel, table=True):
    """One PLB amount of an imported ERA: money taken back (recoupment) or added (interest) for the payee."""

    __tablename__ = "era_provider_adjustment"

    id: int | None = Field(default=None, primary_key=True)
    era_file_id: int = Field(foreign_key="era_file.id", index=True)
    trace_number: str  # TRN02 of the payment it adjusts
    provider_id: str
    fiscal_date: date | None = None
    reason: str
    reference: str | None = None
    amount: Decimal = Field(max_digits=12, decimal_places=2)


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
    amount_at_risk: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    claims_at_risk: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", index=True)  # open | resolved
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None


# --- the task queue and worker health (issue 5) ------------------------------


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in code, a naive UTC timestamp in the database.

    SQLite drops tzinfo on read and PostgreSQL's `timestamp` would shift an aware
    value by the session's TimeZone; storing naive UTC and tagging it on read gives
    the same instant on both, and lease times compare in SQL and in Python alike.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("queue and health times must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Task(SQLModel, table=True):
    """One unit of portal work, enqueued by a scheduler job and leased by a runner."""

    __tablename__ = "task"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)  # claim_status | authorization | enrollment | remittances
    portal: str = Field(index=True)  # config name of the portal account that answers it
    target: str = Field(index=True)  # claim id, auth number, NPI, or the portal name for remittances
    reason: str  # why it was enqueued (shown by `status`/`schedule`)
    priority: int = 0  # higher is leased first (near a deadline)
    state: str = Field(default="queued", index=True)  # queued | leased | done | failed
    # f"{kind}:{portal}:{target}" while queued/leased, NULL once done/failed: one open task per target.
    open_key: str | None = Field(default=None, unique=True)
    attempts: int = 0  # leases taken on it (a crash mid-task counts)
    not_before: datetime = Field(sa_type=UtcDateTime)
    lease_owner: str | None = None
    lease_expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = None
    evidence: str | None = None  # file name of the evidence of its last failure
    outcome: str | None = None  # short words on what the task found, e.g. "changed", "unchanged"
    enqueued_at: datetime = Field(sa_type=UtcDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class HostCredentials(SQLModel, table=True):
    """When one install's keyring last had credentials stored, per portal: what `status` shows without the key.

    Each install (a host and its data directory) keeps its own keyring. Rows are written whenever a worker
    reads that keyring and whenever a person changes it; no row at all means it has not been read since."""

    __tablename__ = "host_credentials"

    holder: str = Field(primary_key=True)  # "host:data directory"
    portal: str = Field(primary_key=True)
    stored_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # None: nothing stored for it there
    recorded_at: datetime = Field(sa_type=UtcDateTime)


class AccountLease(SQLModel, table=True):
    """At most one live browser session per portal account, across processes and hosts."""

    __tablename__ = "account_lease"

    portal: str = Field(primary_key=True)
    owner: str | None = None
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The fencing token: one more at every take of the account, so a holder that was too slow and lost it
    # can tell, and is told by every write it tries, that a newer holder exists.
    generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_request_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # per-portal pacing


class FlowPause(SQLModel, table=True):
    """LayoutChanged pauses one kind of work on one portal until someone fixes the adapter."""

    __tablename__ = "flow_pause"
    __table_args__ = (UniqueConstraint("portal", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    portal: str
    kind: str
    reason: str
    evidence: str | None = None
    since: datetime = Field(sa_type=UtcDateTime)
    until: datetime = Field(sa_type=UtcDateTime)


class WorkerHeartbeat(SQLModel, table=True):
    """One row per worker process: tells a dead worker from an idle one."""

    __tablename__ = "worker_heartbeat"

    worker_id: str = Field(primary_key=True)
    host: str
    pid: int
    started_at: datetime = Field(sa_type=UtcDateTime)
    beat_at: datetime = Field(sa_type=UtcDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    runners: int
    # per-runner state, e.g. {"runner-1": "working summit (3/25)"}
    detail: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class JobRun(SQLModel, table=True):
    """The last run of one scheduler job (e.g. "claims" or "claims:lakeshore")."""

    __tablename__ = "job_run"

    job: str = Field(primary_key=True)
    last_started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = None
    last_enqueued: int = 0


# --- alerts and the daily summary (issue 6) ------------------------------------------


class Alert(SQLModel, table=True):
    """Something a person should act on: one row per (kind, target), updated in place, never repeated."""

    __tablename__ = "alert"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # f"{kind}|{subject}"
    kind: str = Field(index=True)  # timely_filing | denial_deadline | auth_expiring | ... | job_stale
    subject: str  # claim id, denial id, auth number, "npi/payer", portal, job
    title: str  # one line: ids, payer, amount, dates, codes; never a patient name
    action: str  # what to do, e.g. "File a first-level appeal by 2026-12-01"
    owner: str  # department: billing | coding | front_desk | credentialing | it ...
    payer_id: str | None = None
    claim_id: str | None = None
    amount: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    due: date | None = None
    codes: str | None = None
    severity: str  # info | low | medium | high | critical
    rung: str | None = None  # "30d" "14d" "7d" "3d" "1d" "overdue"; None off the ladder
    status: str = Field(default="open", index=True)  # open | acknowledged | snoozed | resolved
    opened_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_by: str | None = None  # who acknowledged or snoozed it: a workspace login, or the CLI's --by
    snoozed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    resolution_reported: bool = False  # a sent summary has said "resolved" once
    reported_rung: str | None = None  # the rung last shown in a sent summary (a new rung is news again)
    reported_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Digest(SQLModel, table=True):
    """One daily summary per (day, channel): what it said, and whether it went out (never twice)."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("digest_date", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    digest_date: date
    channel: str
    state: str = "pending"  # pending | sending | sent | failed | unconfirmed
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    subject: str
    body_text: str = Field(sa_type=Text)
    body_html: str = Field(sa_type=Text)
    alert_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    resolved_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class StaffUser(SQLModel, table=True):
    """A person who logs in to the workspace. The password is kept only as an Argon2id hash."""

    __tablename__ = "staff_user"

    name: str = Field(primary_key=True)  # the login name, e.g. "maria"
    role: str  # admin | billing | coding | front_desk | credentialing
    password_hash: str
    disabled: bool = False
    failed_logins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AuditEntry(SQLModel, table=True):
    """Who saw or changed what, when, from where (HIPAA audit control). Never a password or patient name."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    user_name: str | None = Field(default=None, index=True)  # None: nobody logged in (a failed login)
    action: str = Field(index=True)  # e.g. view_claim, view_evidence, export, login, login_failed, set_status
    subject: str | None = None  # claim id, evidence id, export name, the login name tried
    remote_addr: str | None = None
    detail: str | None = None


class WebSession(SQLModel, table=True):
    """A logged-in browser. The cookie holds only a signed random id; logging out deletes the row."""

    __tablename__ = "web_session"

    id: str = Field(
        primary_key=True
    )  # SHA-256 of the random token in the cookie, so a copy of the table logs nobody in
    user_name: str = Field(foreign_key="staff_user.name", index=True)
    csrf_token: str
    created_at: datetime = Field(sa_type=UtcDateTime)
    last_seen_at: datetime = Field(sa_type=UtcDateTime)
    remote_addr: str | None = None


# --- before the visit: appointments and their eligibility checks (issue 18) ------------------------


class Appointment(SQLModel, table=True):
    """A visit on the practice's schedule (from its PM system's export), to check coverage for beforehand.

    Patient name, date of birth and member id are PHI: stored because the portals ask for them, shown only
    where names are turned on, never logged or put in a finding or an alert."""

    appointment_id: str = Field(primary_key=True)  # the PM system's id for the visit
    appointment_date: date = Field(index=True)
    appointment_time: time  # practice local time
    patient_name: str = Field(repr=False)  # display only; never logged
    date_of_birth: date = Field(repr=False)
    member_id: str = Field(repr=False)
    payer_id: str = Field(index=True)
    rendering_npi: str
    procedure_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    auth_number: str | None = None
    # scheduled | cancelled: absent from a newer export that covers its day (back to scheduled if it returns)
    status: str = Field(default="scheduled", index=True)
    imported_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


class EligibilityCheck(SQLModel, table=True):
    """What a payer's portal answered about one appointment's coverage, once per appointment per practice day
    (the day-before check and the same-day re-check are on different days), with the evidence of it."""

    __tablename__ = "eligibility_check"
    __table_args__ = (UniqueConstraint("appointment_id", "checked_on"),)

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: str = Field(foreign_key="appointment.appointment_id", index=True)
    checked_on: date  # the practice's date of the check: at most one check per appointment per day
    service_date: date  # the appointment's date when it was checked (a rescheduled visit is checked again)
    checked_at: datetime = Field(sa_type=UtcDateTime)
    portal: str
    run_id: str
    payer_id: str
    coverage: str  # active | inactive | not_found
    portal_words: str
    member_id: str | None = Field(default=None, repr=False)  # PHI: the member id the payer has now
    plan_name: str | None = None
    coverage_start: date | None = None
    coverage_end: date | None = None
    new_payer_id: str | None = None
    new_member_id: str | None = Field(default=None, repr=False)  # PHI
    other_insurance_primary: str | None = None
    auth_required_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    in_network: bool | None = None
    deductible: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    deductible_met: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    coinsurance_percent: Decimal | None = Field(default=None, max_digits=5, decimal_places=2)
    copay: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    evidence_id: int | None = None  # the Evidence row of the page's screenshot and HTML (purged with it)
    pdf_path: str | None = None  # the page printed as PDF: the eligibility confirmation an appeal needs


# --- prior-authorization requests submitted through the portals (issue 18) ---------------------


class AuthRequestRow(SQLModel, table=True):
    """A prior-authorization request staff queued for the worker to submit on the payer's portal, exactly once.

    state: queued -> submitting (intent recorded before the click: attempts, intent_at) -> submitted
    (reference_number) | refused (refusal: the portal's words) | needs_look (an ambiguous failure: the portal
    is looked at before anything else). Member id and date of birth are PHI: never logged or put in a message."""

    __tablename__ = "auth_request"

    request_id: str = Field(primary_key=True)  # the practice's id, typed into the form's provider reference
    payer_id: str = Field(index=True)
    member_id: str = Field(repr=False)
    date_of_birth: date = Field(repr=False)
    servicing_npi: str
    procedure_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    units: int
    start_date: date
    end_date: date
    diagnosis_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attachments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # PDF paths
    state: str = Field(default="queued", index=True)  # queued | submitting | submitted | refused | needs_look
    # payer|member|codes|dates while not refused: the same request queued twice (a double click on two
    # workspace processes at once) is refused by the database, not only by a look before the insert.
    content_key: str | None = Field(default=None, unique=True, repr=False)
    attempts: int = 0  # submits started (intents recorded)
    intent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # the last intent, before its click
    reference_number: str | None = Field(default=None, index=True)  # the payer's number: the auth number
    adopted: bool = False  # found on the portal by the look rather than read off a confirmation
    refusal: str | None = None  # the portal's words when it refused the form
    last_error: str | None = None  # the last ambiguous failure, as error_text words
    queued_by: str  # a workspace login, or the CLI's --by
    queued_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AppealRow(SQLModel, table=True):
    """An appeal (or reconsideration) of one denial at one level, from its packet to the payer's decision.

    Online (channel portal or clearinghouse), it is filed exactly once, like any portal write:
    queued -> submitting (intent recorded before the click) -> filed (confirmation_number) | refused
    (the portal's words) | needs_look (an ambiguous failure: the portal is looked at before anything else).
    By fax or mail, staff say when it was sent: prepared -> filed. A filed appeal's status is followed
    (portal_status) until decided: overturned (amount_recovered) or upheld (the next level opens from
    decided_on). Member id is PHI: never logged or put in a message."""

    __tablename__ = "appeal"

    appeal_id: str = Field(primary_key=True)  # the practice's id, typed into the form's provider reference
    denial_id: int = Field(foreign_key="denial.id", index=True)
    claim_id: str | None = Field(default=None, index=True)
    payer_id: str = Field(index=True)
    level: int  # 1 for the first of the payer's appeal levels (payer_rules.toml)
    level_name: str
    channel: str  # portal | clearinghouse | fax | mail (payer_playbook.toml)
    portal: str | None = None  # the portal that takes it online, by its config name
    state: str = Field(default="prepared", index=True)  # prepared|queued|submitting|needs_look|refused|filed|decided
    # denial|level while not refused: the same appeal queued twice is refused by the database.
    content_key: str | None = Field(default=None, unique=True, repr=False)
    packet_path: str | None = None  # the packet PDF (appeal build)
    disputed_amount: Decimal = Field(max_digits=12, decimal_places=2)
    attempts: int = 0  # submits started (intents recorded)
    intent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    confirmation_number: str | None = Field(default=None, index=True)
    adopted: bool = False  # found on the portal by the look rather than read off a confirmation
    refusal: str | None = None  # the portal's words when it refused the form
    last_error: str | None = None
    filed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # confirmed online, or sent as staff said
    filed_by: str | None = None  # "worker", or the staff login that sent it by fax or mail
    response_due: date | None = None  # filed + the playbook's response_days: silence after it is followed up
    portal_status: str | None = None  # received | in_review | upheld | overturned, as last read
    status_checked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decision: str | None = Field(default=None, index=True)  # overturned | upheld
    decided_on: date | None = None  # the payer's decision date: the next level's window starts from it
    decision_source: str | None = None  # portal | era | staff
    amount_recovered: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    evidence_id: int | None = Field(default=None, foreign_key="evidence.id")  # the confirmation page
    created_by: str  # a workspace login, or the CLI's --by
    created_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(sa_type=UtcDateTime)


# --- the outbound feed to the practice management system (issue 20) -------------------------------


class FeedEvent(SQLModel, table=True):
    """One change the worker recorded, written in the same transaction as the change (an outbox), to be
    sent to every configured feed channel in `seq` order. The body never holds a patient name: names are
    added when an event is sent, and only where the installation turns them on."""

    __tablename__ = "feed_event"
    # AUTOINCREMENT: SQLite would reuse the highest seq once the purge emptied the table, and a channel's
    # cursor past it would skip the new events.
    __table_args__ = {"sqlite_autoincrement": True}

    seq: int | None = Field(default=None, primary_key=True)  # the delivery order
    event_id: str = Field(unique=True)  # "evt_" + 32 hex: the receiver deduplicates by it
    type: str = Field(index=True)  # e.g. claim.status_changed (docs/feed-events.md)
    version: int = 1  # of the body's schema for this type
    occurred_at: datetime = Field(sa_type=UtcDateTime)  # when the change happened, by the practice's clock
    recorded_at: datetime = Field(sa_type=UtcDateTime, index=True)  # wall clock: what `feed replay --since` reads
    claim_id: str | None = Field(default=None, index=True)  # the patient control number the PM system knows
    subject: str  # what the event is about: claim id, denial id, auth number, "npi/payer", appointment id
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # PostgreSQL: the writing transaction's id. Sequence values are taken before commit, so a later seq can
    # commit first; an event is only read once every transaction of the database older than its own has
    # ended, so a cursor never passes a seq that is still to appear. SQLite writers take turns: None there.
    txid: int | None = Field(default=None, sa_type=BigInteger)


class FeedChannelState(SQLModel, table=True):
    """Where one configured channel stands: the last event it acknowledged, who is delivering, what failed."""

    __tablename__ = "feed_channel"

    name: str = Field(primary_key=True)  # the channel's name in [feed.channels]
    delivered_seq: int = 0  # every event up to this seq was acknowledged (or is not for this channel)
    delivered_count: int = 0  # events acknowledged since the channel was created
    last_delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    lease_owner: str | None = None  # the process delivering now: one at a time keeps each claim's order
    lease_expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    consecutive_failures: int = 0
    failing_since: datetime | None = Field(default=None, sa_type=UtcDateTime)  # the first failure of this spell
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # backoff after a failure
    last_error: str | None = None  # the receiver's answer, or why the channel could not be used; no PHI
    last_error_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
