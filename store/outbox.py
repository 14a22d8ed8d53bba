"""The outbox: every change the store records becomes a feed event in the same transaction.

A listener on every Session's flush reads what the flush wrote (new rows, and the attribute history of
changed ones, which SQLAlchemy still holds in `after_flush`) and inserts one `feed_event` row per change
on the flush's own connection. So an event exists exactly when its change was committed, whatever code
path made the change (a portal check, an ERA import, the CLI, the workspace), and a rolled-back change
leaves no event behind. Bodies hold facts, not names: docs/feed-events.md is their reference, and
`flows/feed_format.py` turns them into what a channel sends.

Bulk UPDATE statements bypass the ORM and therefore this listener; none of the tables read here is written
that way (tests/test_feed_events.py holds the store to it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, inspect, literal_column, select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction

from store.models import (
    AppealRow,
    AuthorizationObservation,
    Claim,
    ClaimStatusObservation,
    Denial,
    DenialEvent,
    EligibilityCheck,
    EnrollmentObservation,
    EraClaim,
    EraFile,
    FeedEvent,
    Finding,
)

BODY_VERSION = 1
SETTLED_DENIAL_STATES = frozenset({"resolved", "written_off"})
PAYMENT_FIELDS = ("paid_amount", "check_number", "payment_date")

Row = dict[str, Any]


def event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def json_value(value: Any) -> Any:
    """Money as a string of dollars and cents (never a float), dates and times as ISO 8601 (UTC, with Z)."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return _utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return value


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _changed(instance: object, name: str) -> tuple[bool, Any]:
    """(whether the flush changed `name`, its value before)."""
    history = inspect(instance).attrs[name].history
    if not history.added and not history.deleted:
        return False, None
    before = history.deleted[0] if history.deleted else None
    return True, before


def _event(
    kind: str, occurred_at: datetime | None, claim_id: str | None, subject: str, body: dict[str, Any], now: datetime
) -> Row:
    return {
        "event_id": event_id(),
        "type": kind,
        "version": BODY_VERSION,
        "occurred_at": _utc(occurred_at) if occurred_at else now,
        "recorded_at": now,
        "claim_id": claim_id,
        "subject": subject,
        "body": {key: json_value(value) for key, value in body.items()},
    }


# --- one function per kind of row ------------------------------------------------------------------


class FlushView:
    """What one flush writes, indexed once: a remittance of a thousand claims is one flush."""

    def __init__(self, session: OrmSession) -> None:
        self.session = session
        self.new = list(session.new)
        self.dirty = [o for o in session.dirty if session.is_modified(o)]
        self.observed: dict[str, ClaimStatusObservation] = {}
        self.denial_notes: dict[int, list[DenialEvent]] = {}
        for instance in self.new:
            if isinstance(instance, ClaimStatusObservation):
                self.observed[instance.claim_id] = instance
            elif isinstance(instance, DenialEvent):
                self.denial_notes.setdefault(instance.denial_id, []).append(instance)


def _claim_events(claim: Claim, flush: FlushView, now: datetime) -> Iterator[Row]:
    changed, before = _changed(claim, "status")
    if not changed or before == claim.status:
        return
    observed = flush.observed.get(claim.claim_id) or _observation_behind(claim, flush.session)
    yield _event(
        "claim.status_changed",
        claim.status_changed_at,
        claim.claim_id,
        claim.claim_id,
        {
            "claim_id": claim.claim_id,
            "payer_id": claim.payer_id,
            "previous_status": None if before == "unchecked" else before,
            "status": claim.status,
            "category_code": claim.category_code,
            "status_text": claim.status_text,
            "payer_claim_number": claim.payer_claim_number,
            "paid_amount": claim.paid_amount,
            "source": "portal" if observed is not None else "era",
            "portal": observed.portal if observed is not None else None,
        },
        now,
    )


def _observation_behind(claim: Claim, session: OrmSession) -> ClaimStatusObservation | None:
    """The portal observation this status was copied from, when an earlier flush wrote it: an ERA's change has
    no observation of its time and status."""
    if claim.status_changed_at is None:
        return None
    statement = (
        select(ClaimStatusObservation)
        .where(
            ClaimStatusObservation.claim_id == claim.claim_id,  # type: ignore[arg-type]
            ClaimStatusObservation.observed_at == claim.status_changed_at,  # type: ignore[arg-type]
            ClaimStatusObservation.status == claim.status,  # type: ignore[arg-type]
        )
        .order_by(ClaimStatusObservation.id.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    with session.no_autoflush:
        return session.scalars(statement).first()


def _observation_payment(observation: ClaimStatusObservation, now: datetime) -> Iterator[Row]:
    if observation.paid_amount is None or not observation.paid_amount:
        return
    first = observation.changes.startswith("first seen")
    if not first and not any(name in observation.changes for name in PAYMENT_FIELDS):
        return
    yield _event(
        "claim.payment_seen",
        observation.observed_at,
        observation.claim_id,
        observation.claim_id,
        {
            "claim_id": observation.claim_id,
            "paid_amount": observation.paid_amount,
            "allowed_amount": observation.allowed_amount,
            "billed_amount": observation.billed_amount,
            "check_number": observation.check_number,
            "payment_date": observation.payment_date,
            "payer_claim_number": observation.payer_claim_number,
            "source": "portal",
            "portal": observation.portal,
            "era_file": None,
        },
        now,
    )


def _era_payment(era_claim: EraClaim, flush: FlushView, now: datetime, *, new: bool) -> Iterator[Row]:
    """A remittance paying (or taking back) money on one of our claims: when imported, or when matched later."""
    if era_claim.claim_id is None or not era_claim.paid:
        return
    if not new:
        changed, before = _changed(era_claim, "claim_id")
        if not changed or before is not None:
            return
    era_file = flush.session.get(EraFile, era_claim.era_file_id)
    yield _event(
        "claim.payment_seen",
        era_file.imported_at if era_file else None,
        era_claim.claim_id,
        era_claim.claim_id,
        {
            "claim_id": era_claim.claim_id,
            "paid_amount": era_claim.paid,
            "allowed_amount": None,
            "billed_amount": era_claim.billed,
            "check_number": era_file.trace_number if era_file else None,
            "payment_date": era_file.payment_date if era_file else None,
            "payer_claim_number": era_claim.payer_claim_number,
            "source": "era",
            "portal": None,
            "era_file": era_file.file_id if era_file else None,
        },
        now,
    )


def _denial_body(denial: Denial, flush: FlushView) -> dict[str, Any]:
    noted = flush.denial_notes.get(denial.id or 0)
    last = noted[-1] if noted else None
    return {
        "denial_id": denial.id,
        "claim_id": denial.claim_id or denial.reported_claim_id,
        "payer_id": denial.payer_id,
        "payer_claim_number": denial.payer_claim_number,
        "status": denial.status,
        "group_code": denial.group_code,
        "carc": denial.carc,
        "rarcs": list(denial.rarcs),
        "amount": denial.amount,
        "line_procedure": denial.line_procedure,
        "denial_date": denial.denial_date,
        "category": denial.category,
        "owner": denial.owner,
        "kind": denial.kind,
        "appealable": denial.appealable,
        "source": denial.source,
        "actor": last.actor if last else "worker",
        "note": last.note if last else None,
    }


def _denial_time(denial: Denial, flush: FlushView) -> datetime | None:
    noted = flush.denial_notes.get(denial.id or 0)
    return noted[-1].at if noted else denial.resolved_at or denial.last_seen_at


def _denial_events(denial: Denial, flush: FlushView, now: datetime, *, new: bool) -> Iterator[Row]:
    claim_id = denial.claim_id or denial.reported_claim_id
    if new:
        kind = "denial.opened"
    else:
        changed, before = _changed(denial, "status")
        if not changed or before == denial.status:
            return
        if denial.status == "resolved":
            kind = "denial.resolved"
        elif denial.status == "written_off":
            kind = "denial.written_off"
        elif before in SETTLED_DENIAL_STATES:
            kind = "denial.reopened"
        else:
            kind = "denial.status_changed"
    body = _denial_body(denial, flush)
    if kind == "denial.written_off":
        body |= {"write_off_amount": json_value(denial.write_off_amount), "write_off_reason": denial.write_off_reason}
    if not new:
        body["previous_status"] = before
    yield _event(kind, _denial_time(denial, flush), claim_id, str(denial.id), body, now)


def _appeal_body(appeal: AppealRow) -> dict[str, Any]:
    return {
        "appeal_id": appeal.appeal_id,
        "denial_id": appeal.denial_id,
        "claim_id": appeal.claim_id,
        "payer_id": appeal.payer_id,
        "level": appeal.level,
        "level_name": appeal.level_name,
        "channel": appeal.channel,
        "disputed_amount": appeal.disputed_amount,
        "confirmation_number": appeal.confirmation_number,
        "filed_at": appeal.filed_at,
        "filed_by": appeal.filed_by,
        "response_due": appeal.response_due,
    }


def _appeal_events(appeal: AppealRow, now: datetime, *, new: bool) -> Iterator[Row]:
    state_changed, _ = (True, None) if new else _changed(appeal, "state")
    if state_changed and appeal.state == "filed" and appeal.filed_at is not None:
        yield _event("appeal.filed", appeal.filed_at, appeal.claim_id, appeal.appeal_id, _appeal_body(appeal), now)
    decision_changed, before = (appeal.decision is not None, None) if new else _changed(appeal, "decision")
    if decision_changed and appeal.decision is not None:
        body = _appeal_body(appeal) | {
            "decision": appeal.decision,
            "previous_decision": before,
            "decided_on": json_value(appeal.decided_on),
            "decision_source": appeal.decision_source,
            "amount_recovered": json_value(appeal.amount_recovered),
        }
        yield _event("appeal.decided", appeal.updated_at, appeal.claim_id, appeal.appeal_id, body, now)


def _authorization_event(observation: AuthorizationObservation, now: datetime) -> Iterator[Row]:
    yield _event(
        "authorization.changed",
        observation.observed_at,
        None,
        observation.auth_number,
        {
            "auth_number": observation.auth_number,
            "status": observation.status,
            "units_approved": observation.units_approved,
            "units_used": observation.units_used,
            "start": observation.start,
            "end": observation.end,
            "procedure_codes": list(observation.procedure_codes),
            "denial_reason": observation.denial_reason,
            "changes": observation.changes,
            "portal": observation.portal,
        },
        now,
    )


def _enrollment_event(observation: EnrollmentObservation, now: datetime) -> Iterator[Row]:
    yield _event(
        "enrollment.changed",
        observation.observed_at,
        None,
        f"{observation.npi}/{observation.payer_id}",
        {
            "npi": observation.npi,
            "payer_id": observation.payer_id,
            "status": observation.status,
            "effective": observation.effective,
            "termination": observation.termination,
            "revalidation_due": observation.revalidation_due,
            "payer_provider_id": observation.payer_provider_id,
            "era_enrolled": observation.era_enrolled,
            "eft_enrolled": observation.eft_enrolled,
            "changes": observation.changes,
            "portal": observation.portal,
        },
        now,
    )


def _eligibility_event(check: EligibilityCheck, now: datetime) -> Iterator[Row]:
    # Member ids are PHI: flows/feed_format.py adds them back only where patient details are turned on.
    yield _event(
        "eligibility.checked",
        check.checked_at,
        None,
        check.appointment_id,
        {
            "appointment_id": check.appointment_id,
            "service_date": check.service_date,
            "payer_id": check.payer_id,
            "coverage": check.coverage,
            "plan_name": check.plan_name,
            "coverage_start": check.coverage_start,
            "coverage_end": check.coverage_end,
            "new_payer_id": check.new_payer_id,
            "member_id_changed": check.new_member_id is not None,
            "other_insurance_primary": check.other_insurance_primary,
            "auth_required_codes": list(check.auth_required_codes),
            "in_network": check.in_network,
            "deductible": check.deductible,
            "deductible_met": check.deductible_met,
            "coinsurance_percent": check.coinsurance_percent,
            "copay": check.copay,
            "portal": check.portal,
        },
        now,
    )


def _finding_events(finding: Finding, now: datetime, *, new: bool) -> Iterator[Row]:
    if new:
        kind = "finding.opened" if finding.status == "open" else None
    else:
        changed, before = _changed(finding, "status")
        kind = None if not changed or before == finding.status else f"finding.{finding.status}"
        kind = "finding.opened" if kind == "finding.open" else kind
    if kind is None:
        return
    yield _event(
        kind,
        finding.resolved_at if kind == "finding.resolved" else finding.last_seen_at,
        finding.claims_at_risk[0] if len(finding.claims_at_risk) == 1 else None,
        finding.key,
        {
            "kind": finding.kind,
            "subject": finding.subject,
            "payer_id": finding.payer_id,
            "message": finding.message,
            "due": finding.due,
            "amount_at_risk": finding.amount_at_risk,
            "claims_at_risk": list(finding.claims_at_risk),
            "status": finding.status,
        },
        now,
    )


def events_of_flush(session: OrmSession, now: datetime) -> list[Row]:
    """The events of what this flush writes, in a stable order: claims, payments, denials, appeals, others."""
    flush = FlushView(session)
    rows: list[Row] = []
    for instance in flush.dirty:
        if isinstance(instance, Claim):
            rows += _claim_events(instance, flush, now)
    for instance in flush.new:
        if isinstance(instance, ClaimStatusObservation):
            rows += _observation_payment(instance, now)
        elif isinstance(instance, EraClaim):
            rows += _era_payment(instance, flush, now, new=True)
    for instance in flush.dirty:
        if isinstance(instance, EraClaim):
            rows += _era_payment(instance, flush, now, new=False)
    for is_new, instances in ((True, flush.new), (False, flush.dirty)):
        for instance in instances:
            if isinstance(instance, Denial):
                rows += _denial_events(instance, flush, now, new=is_new)
            elif isinstance(instance, AppealRow):
                rows += _appeal_events(instance, now, new=is_new)
            elif isinstance(instance, Finding):
                rows += _finding_events(instance, now, new=is_new)
            elif isinstance(instance, AuthorizationObservation):
                rows += _authorization_event(instance, now)
            elif isinstance(instance, EnrollmentObservation):
                rows += _enrollment_event(instance, now)
            elif isinstance(instance, EligibilityCheck):
                rows += _eligibility_event(instance, now)
    return rows


def _load_before_set(target: object, value: Any, oldvalue: Any, initiator: Any) -> Any:
    return value


# An attribute set without having been read would otherwise keep no "before" value, and a status set to what
# it already was would look like a change.
for _attribute in (Claim.status, Denial.status, AppealRow.state, AppealRow.decision, Finding.status, EraClaim.claim_id):
    event.listen(_attribute, "set", _load_before_set, active_history=True, retval=True)


@event.listens_for(OrmSession, "after_flush")
def _write_events(session: OrmSession, flush_context: UOWTransaction) -> None:
    if not session.new and not session.dirty:
        return
    rows = events_of_flush(session, datetime.now(UTC))
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        txid: int = connection.execute(select(literal_column("pg_current_xact_id()::text::bigint"))).scalar_one()
        for row in rows:
            row["txid"] = txid
    connection.execute(FeedEvent.__table__.insert(), rows)  # type: ignore[attr-defined]
