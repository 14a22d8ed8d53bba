"""Prior-authorization requests to submit on the portals: queued by staff, moved through their states by the
worker. Each state change is its own short transaction, committed before the portal is touched again: the
intent (`submitting`) is on disk before the click, so a crash leaves a trace the next attempt looks behind."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session, col, select

from store.models import Authorization, AuthRequestRow

OPEN_STATES = ("queued", "submitting", "needs_look")  # the worker still has something to do
STATES = ("queued", "submitting", "submitted", "refused", "needs_look")


def content_key(row: AuthRequestRow) -> str:
    """What makes two requests the same one: payer, member, codes (in any order) and dates. A hash: it holds PHI."""
    text = "|".join(
        [
            row.payer_id,
            row.member_id.upper(),
            ";".join(sorted(row.procedure_codes)),
            str(row.start_date),
            str(row.end_date),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def add_request(session: Session, row: AuthRequestRow) -> None:
    row.content_key = content_key(row)
    session.add(row)


def get_request(session: Session, request_id: str) -> AuthRequestRow | None:
    return session.get(AuthRequestRow, request_id)


def list_requests(
    session: Session, states: Collection[str] | None = None, payer_ids: Collection[str] | None = None
) -> list[AuthRequestRow]:
    """Requests in these states (all when None), newest queued first."""
    statement = select(AuthRequestRow)
    if states is not None:
        statement = statement.where(col(AuthRequestRow.state).in_(list(states)))
    if payer_ids is not None:
        statement = statement.where(col(AuthRequestRow.payer_id).in_(list(payer_ids)))
    return list(session.exec(statement.order_by(col(AuthRequestRow.queued_at).desc(), col(AuthRequestRow.request_id))))


def same_request(session: Session, row: AuthRequestRow) -> AuthRequestRow | None:
    """A request already queued or submitted for the same payer, member, codes and dates (not a refused one)."""
    return session.exec(select(AuthRequestRow).where(AuthRequestRow.content_key == content_key(row))).first()


def references_taken(session: Session, payer_id: str) -> set[str]:
    """The payer's reference numbers some request of ours already holds."""
    statement = select(AuthRequestRow.reference_number).where(
        AuthRequestRow.payer_id == payer_id, col(AuthRequestRow.reference_number).is_not(None)
    )
    return {reference for reference in session.exec(statement) if reference}


def record_intent(session: Session, request_id: str, now: datetime) -> AuthRequestRow:
    """Submitting now: the state, the attempt and its time, to be committed before the click."""
    row = _row(session, request_id)
    row.state, row.attempts, row.intent_at, row.updated_at = "submitting", row.attempts + 1, now, now
    session.add(row)
    return row


def mark_submitted(session: Session, request_id: str, reference: str, now: datetime, *, adopted: bool) -> None:
    row = _row(session, request_id)
    row.state, row.reference_number, row.adopted = "submitted", reference, adopted
    row.submitted_at, row.updated_at, row.last_error = now, now, None
    session.add(row)


def mark_refused(session: Session, request_id: str, words: str, now: datetime) -> None:
    row = _row(session, request_id)
    row.state, row.refusal, row.updated_at, row.last_error = "refused", words, now, None
    row.content_key = None  # the same request may be queued anew
    session.add(row)


def mark_needs_look(session: Session, request_id: str, error: str, now: datetime) -> None:
    row = _row(session, request_id)
    row.state, row.last_error, row.updated_at = "needs_look", error, now
    session.add(row)


def requeue(session: Session, request_id: str, now: datetime, **changes: object) -> AuthRequestRow:
    """A refused request, edited by staff (`changes`: any request field), queued again."""
    row = _row(session, request_id)
    for name, value in changes.items():
        setattr(row, name, value)
    row.state, row.refusal, row.updated_at = "queued", None, now
    row.content_key = content_key(row)
    session.add(row)
    return row


def add_authorization_for(session: Session, row: AuthRequestRow, now: datetime) -> None:
    """The submitted request as an authorization to track, its reference as the number (kept if already there)."""
    assert row.reference_number is not None
    if session.get(Authorization, row.reference_number) is not None:
        return
    session.add(
        Authorization(
            auth_number=row.reference_number,
            payer_id=row.payer_id,
            member_id=row.member_id,
            patient_name="",
            servicing_npi=row.servicing_npi,
            procedure_codes=list(row.procedure_codes),
            units_approved=row.units,
            start_date=row.start_date,
            end_date=row.end_date,
            scheduled_date=row.start_date,
            imported_at=now,
            updated_at=now,
        )
    )


def _row(session: Session, request_id: str) -> AuthRequestRow:
    row = session.get(AuthRequestRow, request_id)
    if row is None:
        raise LookupError(f"auth request {request_id} is not in the store")
    return row
