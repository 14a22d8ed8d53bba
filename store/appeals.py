"""Appeals of denials: prepared or queued by staff, filed on the portals by the worker (or sent by staff by fax or
mail), then followed to a decision. Each state change is its own short transaction, committed before the portal is
touched again: the intent (`submitting`) is on disk before the click, so a crash leaves a trace the next attempt
looks behind. Every query on the appeal table is here."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlmodel import Session, col, select

from store.models import AppealRow, Denial

OPEN_STATES = ("queued", "submitting", "needs_look")  # the worker still has to file it
WAITING_STATES = ("prepared", *OPEN_STATES)  # prepared or on its way: not filed yet
FILED_STATES = ("filed", "decided")
STATES = ("prepared", "queued", "submitting", "needs_look", "refused", "filed", "decided")


def content_key(denial_id: int, level: int) -> str:
    """What makes two appeals the same one: the denial and the level (no PHI in it)."""
    return f"{denial_id}|{level}"


def add_appeal(session: Session, row: AppealRow) -> None:
    row.content_key = content_key(row.denial_id, row.level)
    session.add(row)


def get_appeal(session: Session, appeal_id: str) -> AppealRow | None:
    return session.get(AppealRow, appeal_id)


def list_appeals(
    session: Session,
    states: Collection[str] | None = None,
    *,
    claim_id: str | None = None,
    denial_id: int | None = None,
) -> list[AppealRow]:
    """Appeals in these states (all when None), of one claim or denial if asked, newest first."""
    statement = select(AppealRow)
    if states is not None:
        statement = statement.where(col(AppealRow.state).in_(list(states)))
    if claim_id is not None:
        statement = statement.where(AppealRow.claim_id == claim_id)
    if denial_id is not None:
        statement = statement.where(AppealRow.denial_id == denial_id)
    order = (col(AppealRow.created_at).desc(), col(AppealRow.appeal_id))
    return list(session.exec(statement.order_by(*order)))


def denials_of_claim(session: Session, claim_id: str) -> list[Denial]:
    """The claim's denials, whatever their status, oldest first: what its appeals are of."""
    statement = select(Denial).where(Denial.claim_id == claim_id).order_by(col(Denial.id))
    return list(session.exec(statement))


def same_appeal(session: Session, denial_id: int, level: int) -> AppealRow | None:
    """The appeal of this denial at this level that is prepared, on its way or filed (a refused one is not)."""
    statement = select(AppealRow).where(AppealRow.content_key == content_key(denial_id, level))
    return session.exec(statement).first()


def filed_count(session: Session, denial_id: int) -> int:
    """How many appeals of this denial were filed (sent or confirmed), decided or not."""
    return len(list_appeals(session, FILED_STATES, denial_id=denial_id))


def confirmations_taken(session: Session, payer_id: str) -> set[str]:
    """The payer's confirmation numbers some appeal of ours already holds."""
    statement = select(AppealRow.confirmation_number).where(
        AppealRow.payer_id == payer_id, col(AppealRow.confirmation_number).is_not(None)
    )
    return {number for number in session.exec(statement) if number}


def status_due(session: Session, checked_before: datetime | None) -> list[AppealRow]:
    """Filed, undecided appeals filed online whose status was not read since `checked_before` (all when None)."""
    statement = select(AppealRow).where(
        AppealRow.state == "filed", col(AppealRow.portal).is_not(None), col(AppealRow.confirmation_number).is_not(None)
    )
    if checked_before is not None:
        statement = statement.where(
            col(AppealRow.status_checked_at).is_(None) | (col(AppealRow.status_checked_at) < checked_before)
        )
    return list(session.exec(statement.order_by(col(AppealRow.filed_at), col(AppealRow.appeal_id))))


# --- the worker's steps, one short transaction each ---------------------------------------------------------------


def record_intent(session: Session, appeal_id: str, now: datetime) -> AppealRow:
    """Submitting now: the state, the attempt and its time, to be committed before the click."""
    row = _row(session, appeal_id)
    row.state, row.attempts, row.intent_at, row.updated_at = "submitting", row.attempts + 1, now, now
    session.add(row)
    return row


def mark_filed(
    session: Session,
    appeal_id: str,
    *,
    confirmation: str | None,
    filed_at: datetime,
    filed_by: str,
    response_due: date,
    portal_status: str | None,
    adopted: bool,
    now: datetime,
) -> AppealRow:
    row = _row(session, appeal_id)
    row.state, row.confirmation_number, row.adopted = "filed", confirmation, adopted
    row.filed_at, row.filed_by, row.response_due = filed_at, filed_by, response_due
    row.portal_status, row.status_checked_at = portal_status, now if portal_status else None
    row.updated_at, row.last_error = now, None
    session.add(row)
    return row


def mark_refused(session: Session, appeal_id: str, words: str, now: datetime) -> None:
    row = _row(session, appeal_id)
    row.state, row.refusal, row.updated_at, row.last_error = "refused", words, now, None
    row.content_key = None  # the same denial and level may be appealed anew
    session.add(row)


def mark_needs_look(session: Session, appeal_id: str, error: str, now: datetime) -> None:
    row = _row(session, appeal_id)
    row.state, row.last_error, row.updated_at = "needs_look", error, now
    session.add(row)


def keep_evidence_id(session: Session, appeal_id: str, evidence_id: int) -> None:
    row = _row(session, appeal_id)
    row.evidence_id = evidence_id
    session.add(row)


def record_status(session: Session, appeal_id: str, status: str, now: datetime) -> AppealRow:
    """What the portal's status page said, and when it was read."""
    row = _row(session, appeal_id)
    row.portal_status, row.status_checked_at, row.updated_at, row.last_error = status, now, now, None
    session.add(row)
    return row


def requeue(session: Session, appeal_id: str, now: datetime, packet_path: str | None = None) -> AppealRow:
    """A refused appeal, corrected by staff (perhaps with a new packet), queued again."""
    row = _row(session, appeal_id)
    if packet_path is not None:
        row.packet_path = packet_path
    row.state, row.refusal, row.updated_at = "queued", None, now
    row.content_key = content_key(row.denial_id, row.level)
    session.add(row)
    return row


def _row(session: Session, appeal_id: str) -> AppealRow:
    row = session.get(AppealRow, appeal_id)
    if row is None:
        raise LookupError(f"appeal {appeal_id} is not in the store")
    return row
