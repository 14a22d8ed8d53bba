"""Every list staff see, as a Table a spreadsheet or the PM system can take back (flows/exports.py writes
it as CSV or Excel): amounts as numbers, dates as dates, each code in its own column, ids as the PM system
knows them.

Minimum necessary: a patient's name is in an export only where the installation turns names on
(`alerts.include_patient_names`, as for alerts and summaries), and then in a last `patient_name` column,
so the columns before it never move. Lists about a patient (claims, worklist, authorizations, alerts)
can carry it; providers, enrollments and findings have no patient to name. Member ids are never exported:
the PM system matches claims and authorizations by their own ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from flows.tables import Cell, Column, Kind, Table
from flows.worklist import WorkItem
from store.list_exports import ExportedClaim
from store.models import Alert, Authorization, Enrollment, Finding, Provider

PATIENT_NAME = Column("patient_name", "Patient", Kind.TEXT)

WORKLIST_COLUMNS = (
    Column("id", "Denial", Kind.COUNT),
    Column("claim", "Claim"),
    Column("payer", "Payer"),
    Column("payer_claim_number", "Payer claim #"),
    Column("dos", "Service date", Kind.DATE),
    Column("billed", "Billed", Kind.MONEY),
    Column("amount", "Denied", Kind.MONEY),
    Column("group", "Group"),
    Column("carc", "CARC"),
    Column("rarcs", "RARCs"),
    Column("category", "Category"),
    Column("owner", "Owner"),
    Column("assignee", "Assigned to"),
    Column("codes", "Codes in words"),
    Column("action", "Next step"),
    Column("deadline", "Deadline", Kind.DATE),
    Column("days_left", "Days left", Kind.COUNT),
    Column("status", "Status"),
    Column("warnings", "ERA warnings"),
)
CLAIM_COLUMNS = (
    Column("claim", "Claim"),
    Column("payer", "Payer"),
    Column("payer_claim_number", "Payer claim #"),
    Column("dos_from", "Service from", Kind.DATE),
    Column("dos_to", "Service to", Kind.DATE),
    Column("billed", "Billed", Kind.MONEY),
    Column("submitted", "Submitted", Kind.DATE),
    Column("rendering_npi", "Rendering NPI"),
    Column("procedures", "Procedures"),
    Column("prior_auth_number", "Prior auth #"),
    Column("state", "State"),
    Column("status_text", "Payer's words"),
    Column("paid", "Paid", Kind.MONEY),
    Column("check_eft_number", "Check/EFT #"),
    Column("payment_date", "Paid on", Kind.DATE),
    Column("open_denials", "Open denials", Kind.COUNT),
    Column("denied", "Denied", Kind.MONEY),
    Column("carcs", "CARCs"),
    Column("rarcs", "RARCs"),
    Column("last_checked", "Last checked", Kind.DATETIME),
    Column("state_changed", "State changed", Kind.DATETIME),
)
AUTHORIZATION_COLUMNS = (
    Column("auth_number", "Authorization #"),
    Column("payer", "Payer"),
    Column("servicing_npi", "Servicing NPI"),
    Column("procedures", "Procedures"),
    Column("units_approved", "Units approved", Kind.COUNT),
    Column("start", "Start", Kind.DATE),
    Column("end", "End", Kind.DATE),
    Column("scheduled", "Next service", Kind.DATE),
    Column("state", "State"),
    Column("payer_units_approved", "Payer: units approved", Kind.COUNT),
    Column("units_used", "Units used", Kind.COUNT),
    Column("payer_start", "Payer: start", Kind.DATE),
    Column("payer_end", "Payer: end", Kind.DATE),
    Column("payer_procedures", "Payer: procedures"),
    Column("denial_reason", "Denial reason"),
    Column("last_checked", "Last checked", Kind.DATETIME),
    Column("state_changed", "State changed", Kind.DATETIME),
)
ENROLLMENT_COLUMNS = (
    Column("npi", "NPI"),
    Column("provider", "Provider"),
    Column("caqh_attested", "CAQH attested", Kind.DATE),
    Column("payer", "Payer"),
    Column("portal", "Portal"),
    Column("status", "Enrollment"),
    Column("effective", "Effective", Kind.DATE),
    Column("termination", "Terminated", Kind.DATE),
    Column("revalidation_due", "Revalidate by", Kind.DATE),
    Column("payer_provider_id", "Payer's provider id"),
    Column("era_enrolled", "ERA"),
    Column("eft_enrolled", "EFT"),
    Column("last_checked", "Last checked", Kind.DATETIME),
    Column("status_changed", "Status changed", Kind.DATETIME),
)
FINDING_COLUMNS = (
    Column("id", "Finding", Kind.COUNT),
    Column("kind", "Kind"),
    Column("subject", "Subject"),
    Column("payer", "Payer"),
    Column("due", "Due", Kind.DATE),
    Column("amount_at_risk", "At risk", Kind.MONEY),
    Column("claims_at_risk", "Claims at risk", Kind.COUNT),
    Column("claim_ids", "Claims"),
    Column("message", "What to do"),
    Column("status", "Status"),
    Column("first_seen", "First seen", Kind.DATETIME),
    Column("last_seen", "Last seen", Kind.DATETIME),
    Column("resolved", "Resolved", Kind.DATETIME),
)
ALERT_COLUMNS = (
    Column("id", "Alert", Kind.COUNT),
    Column("severity", "Severity"),
    Column("kind", "Kind"),
    Column("subject", "Subject"),
    Column("claim", "Claim"),
    Column("payer", "Payer"),
    Column("amount", "Amount", Kind.MONEY),
    Column("due", "Due", Kind.DATE),
    Column("codes", "Codes"),
    Column("title", "Alert"),
    Column("action", "What to do"),
    Column("owner", "Owner"),
    Column("status", "Status"),
    Column("acknowledged_by", "Acknowledged by"),
    Column("acknowledged", "Acknowledged", Kind.DATETIME),
    Column("snoozed_until", "Snoozed until", Kind.DATETIME),
    Column("opened", "Opened", Kind.DATETIME),
    Column("resolved", "Resolved", Kind.DATETIME),
)


def _columns(columns: tuple[Column, ...], patient_names: bool) -> tuple[Column, ...]:
    return (*columns, PATIENT_NAME) if patient_names else columns


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite gives UTC back without its zone: the writers put every moment on the practice's clock."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _words(codes: Sequence[str]) -> str:
    return " ".join(codes)


def worklist_table(items: Sequence[WorkItem], *, patient_names: bool = False) -> Table:
    """The worklist's columns since its first CSV (`worklist --csv` readers rely on them)."""
    rows: list[tuple[Cell, ...]] = []
    for item in items:
        d, claim = item.denial, item.claim
        row: tuple[Cell, ...] = (
            d.id,
            d.claim_id or f"{d.reported_claim_id} (not in claims)",
            d.payer_id,
            d.payer_claim_number,
            claim.dos_from if claim else None,
            claim.billed_amount if claim else None,
            d.amount,
            d.group_code,
            d.carc,
            _words(d.rarcs),
            d.category,
            d.owner,
            d.assignee,
            item.codes,
            item.action,
            item.deadline.due if item.deadline else None,
            item.days_left,
            d.status,
            "; ".join(item.warnings),
        )
        rows.append((*row, claim.patient_name if claim else None) if patient_names else row)
    return Table("worklist", "Worklist", _columns(WORKLIST_COLUMNS, patient_names), rows)


def claims_table(claims: Sequence[ExportedClaim], *, patient_names: bool = False) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for exported in claims:
        c, paid, denials = exported.claim, exported.payment, exported.denials
        row: tuple[Cell, ...] = (
            c.claim_id,
            c.payer_id,
            c.payer_claim_number,
            c.dos_from,
            c.dos_to,
            c.billed_amount,
            c.submitted_date,
            c.rendering_npi,
            _words(c.procedure_codes),
            c.prior_auth_number,
            c.status,
            c.status_text,
            c.paid_amount,
            paid.number if paid else None,
            paid.paid_on if paid else None,
            len(denials),
            sum((d.amount for d in denials), start=0) if denials else None,
            _words(list(dict.fromkeys(f"{d.group_code}-{d.carc}" for d in denials))),
            _words(list(dict.fromkeys(rarc for d in denials for rarc in d.rarcs))),
            _utc(c.last_checked_at),
            _utc(c.status_changed_at),
        )
        rows.append((*row, c.patient_name) if patient_names else row)
    return Table("claims", "Claims", _columns(CLAIM_COLUMNS, patient_names), rows)


def authorizations_table(auths: Sequence[Authorization], *, patient_names: bool = False) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for a in auths:
        row: tuple[Cell, ...] = (
            a.auth_number,
            a.payer_id,
            a.servicing_npi,
            _words(a.procedure_codes),
            a.units_approved,
            a.start_date,
            a.end_date,
            a.scheduled_date,
            a.status,
            a.portal_units_approved,
            a.units_used,
            a.portal_start,
            a.portal_end,
            _words(a.portal_codes),
            a.denial_reason,
            _utc(a.last_checked_at),
            _utc(a.status_changed_at),
        )
        rows.append((*row, a.patient_name) if patient_names else row)
    return Table("authorizations", "Authorizations", _columns(AUTHORIZATION_COLUMNS, patient_names), rows)


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def enrollments_table(
    rows: Sequence[tuple[Provider | None, Enrollment | None]], name: str = "enrollments", title: str = "Enrollments"
) -> Table:
    """Each provider's enrollment with each payer; a provider not checked yet has one row with no payer."""
    cells: list[tuple[Cell, ...]] = []
    for p, e in rows:
        cells.append(
            (
                p.npi if p else e.npi if e else None,
                p.name if p else None,
                p.caqh_attested_date if p else None,
                *(
                    (
                        e.payer_id,
                        e.portal,
                        e.status,
                        e.effective,
                        e.termination,
                        e.revalidation_due,
                        e.payer_provider_id,
                        _yes_no(e.era_enrolled),
                        _yes_no(e.eft_enrolled),
                        _utc(e.last_checked_at),
                        _utc(e.status_changed_at),
                    )
                    if e
                    else (None, None, "not checked yet", *([None] * 8))
                ),
            )
        )
    return Table(name, title, ENROLLMENT_COLUMNS, cells)


def findings_table(findings: Sequence[Finding]) -> Table:
    rows = [
        (
            f.id,
            f.kind,
            f.subject,
            f.payer_id,
            f.due,
            f.amount_at_risk,
            len(f.claims_at_risk),
            _words(f.claims_at_risk),
            f.message,
            f.status,
            _utc(f.first_seen_at),
            _utc(f.last_seen_at),
            _utc(f.resolved_at),
        )
        for f in findings
    ]
    return Table("findings", "Findings", FINDING_COLUMNS, rows)


def alerts_table(alerts: Sequence[Alert], patient_names: Mapping[str, str] | None = None) -> Table:
    """`patient_names`: claim id -> name where the installation carries names (None: it does not)."""
    rows: list[tuple[Cell, ...]] = []
    for a in alerts:
        row: tuple[Cell, ...] = (
            a.id,
            a.severity,
            a.kind,
            a.subject,
            a.claim_id,
            a.payer_id,
            a.amount,
            a.due,
            a.codes,
            a.title,
            a.action,
            a.owner,
            a.status,
            a.acknowledged_by,
            _utc(a.acknowledged_at),
            _utc(a.snoozed_until),
            _utc(a.opened_at),
            _utc(a.resolved_at),
        )
        named = patient_names.get(a.claim_id) if patient_names is not None and a.claim_id else None
        rows.append((*row, named) if patient_names is not None else row)
    return Table("alerts", "Alerts", _columns(ALERT_COLUMNS, patient_names is not None), rows)
