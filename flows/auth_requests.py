"""Submitting a prior-authorization request on the payer's portal exactly once, and what comes of it.

The one write the worker makes to a portal, so it follows three rules:

1. Look before any submit: the portal's list of the member's requests is read first, every time
   (first try, retry after a timeout, restart after a crash). A request whose provider reference is
   ours, or, when the portal kept no reference, one for the same codes and dates filed since our
   intent, is adopted: marked submitted with its reference number, and nothing is sent.
2. Record the intent (state `submitting`, attempt, time) and commit it before the click, so a crash
   between the click and the record leaves a request that the next attempt looks for.
3. After an ambiguous failure (no answer after the click, a 5xx, a strange page, a crash) the request
   is `needs_look`: it is never submitted again without the look of rule 1.

A refusal (the portal's edit messages) files nothing: the request becomes `refused` with the
portal's words and a finding for the front desk; it is not tried again until staff edit and re-queue it.
A submitted request becomes an authorization tracked like every other (the auths job), its reference
number as the authorization number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from flows.authorizations import record_authorization
from flows.findings import FindingChanges, FindingDraft, sync_findings
from portals.capabilities import AuthRequestPortal
from portals.errors import PortalError, RequestRefused
from portals.identifiers import same_id
from portals.types import AuthorizationResult, AuthRequest, AuthRequestReceipt
from store import auth_requests as requests_store
from store.db import session_scope
from store.models import AuthRequestRow

REFUSED = "auth_request_refused"
REQUEST_FINDINGS = (REFUSED,)
# The portal's day and ours may differ by the time zones between: a request the portal dates the day
# before our intent can still be ours.
INTENT_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class SubmitOutcome:
    """What one submission task did, for the queue's record."""

    words: str
    state: str  # the request's state afterwards
    reference: str | None = None
    adopted: bool = False


def as_request(row: AuthRequestRow) -> AuthRequest:
    return AuthRequest(
        request_id=row.request_id,
        payer_id=row.payer_id,
        member_id=row.member_id,
        date_of_birth=row.date_of_birth,
        servicing_npi=row.servicing_npi,
        procedure_codes=tuple(row.procedure_codes),
        units=row.units,
        start=row.start_date,
        end=row.end_date,
        diagnosis_codes=tuple(row.diagnosis_codes),
        attachments=tuple(row.attachments),
    )


def ours_on_file(
    row: AuthRequestRow, receipts: Sequence[AuthRequestReceipt], taken: set[str]
) -> AuthRequestReceipt | None:
    """The request on the portal that is this one, if any (rule 1). A reference another request of ours
    already holds is never adopted twice; of several matches (a portal that filed twice), the first filed."""
    free = sorted((r for r in receipts if r.reference_number not in taken), key=lambda r: r.reference_number)
    by_reference = [r for r in free if same_id(r.provider_reference, row.request_id)]
    if by_reference:
        return by_reference[0]
    if row.intent_at is None:
        return None  # never sent: a request without our reference is someone else's
    since = row.intent_at.date() - INTENT_SLACK
    codes = sorted(row.procedure_codes)
    for receipt in free:
        if (
            not receipt.provider_reference
            and sorted(receipt.procedure_codes) == codes
            and (receipt.start, receipt.end) == (row.start_date, row.end_date)
            and (receipt.submitted_on is None or receipt.submitted_on >= since)
        ):
            return receipt
    return None


def submit_request(
    portal: AuthRequestPortal, request_id: str, engine: Engine, *, run_id: str, now: Callable[[], datetime]
) -> SubmitOutcome:
    """Look, then (only if nothing of ours is on file) record the intent and submit once. Errors other than
    a refusal are raised for the failure policy, with the request left `needs_look`."""
    with session_scope(engine) as session:
        row = requests_store.get_request(session, request_id)
        taken = requests_store.references_taken(session, row.payer_id) if row else set()
    if row is None:
        return SubmitOutcome("request no longer in the store", "gone")
    if row.state not in requests_store.OPEN_STATES:
        return SubmitOutcome(f"already {row.state}", row.state, row.reference_number)
    try:
        found = ours_on_file(row, portal.find_auth_requests(row.member_id), taken)
    except PortalError as exc:
        _needs_look(engine, row, exc, now())
        raise
    if found is not None:
        _record_submitted(engine, portal, row, found, run_id=run_id, at=now(), adopted=True)
        return SubmitOutcome(
            f"found on the portal as {found.reference_number}: adopted", "submitted", found.reference_number, True
        )
    with session_scope(engine) as session:
        row = requests_store.record_intent(session, request_id, now())
    try:
        receipt = portal.submit_auth_request(as_request(row))
    except RequestRefused as refused:
        with session_scope(engine) as session:
            requests_store.mark_refused(session, request_id, without_phi(refused.words, row), now())
            sync_request_findings(session, now())
        return SubmitOutcome("refused by the portal", "refused")
    except Exception as exc:
        _needs_look(engine, row, exc, now())
        raise
    _record_submitted(engine, portal, row, receipt, run_id=run_id, at=now(), adopted=False)
    return SubmitOutcome(f"submitted as {receipt.reference_number}", "submitted", receipt.reference_number)


def _needs_look(engine: Engine, row: AuthRequestRow, exc: Exception, at: datetime) -> None:
    words = f"{type(exc).__name__}: {exc.message}" if isinstance(exc, PortalError) else type(exc).__name__
    with session_scope(engine) as session:
        current = requests_store.get_request(session, row.request_id)
        if current is not None and current.state in ("submitting", "needs_look"):
            requests_store.mark_needs_look(session, row.request_id, without_phi(words, row), at)


def _record_submitted(
    engine: Engine,
    portal: AuthRequestPortal,
    row: AuthRequestRow,
    receipt: AuthRequestReceipt,
    *,
    run_id: str,
    at: datetime,
    adopted: bool,
) -> None:
    with session_scope(engine) as session:
        requests_store.mark_submitted(session, row.request_id, receipt.reference_number, at, adopted=adopted)
        submitted = requests_store.get_request(session, row.request_id)
        assert submitted is not None
        requests_store.add_authorization_for(session, submitted, at)
        sync_request_findings(session, at)
    said = AuthorizationResult(
        auth_number=receipt.reference_number,
        status=receipt.status,
        procedure_codes=receipt.procedure_codes,
        units_approved=None,
        units_used=None,
        servicing_npi=row.servicing_npi,
        start=receipt.start,
        end=receipt.end,
    )
    record_authorization(engine, receipt.reference_number, said, portal=portal.portal, run_id=run_id, at=at)


def without_phi(words: str, row: AuthRequestRow) -> str:
    """The portal's words with the member's id and date of birth taken out, should a portal echo them."""
    dob = row.date_of_birth
    for value in (row.member_id, dob.isoformat(), dob.strftime("%m/%d/%Y"), dob.strftime("%Y%m%d")):
        if value:
            words = words.replace(value, "[member]" if value == row.member_id else "[date of birth]")
    return words


# --- findings -----------------------------------------------------------------------------------


def request_findings(rows: Iterable[AuthRequestRow]) -> list[FindingDraft]:
    """One finding per refused request, for the front desk, with the portal's words (no PHI)."""
    return [
        FindingDraft(
            REFUSED,
            row.request_id,
            row.payer_id,
            f"prior-authorization request {row.request_id} ({', '.join(row.procedure_codes)}, "
            f"{row.start_date} to {row.end_date}) was refused by the portal: \u201c{row.refusal}\u201d. Nothing was "
            f"filed. Correct it and queue it again (`portal-worker auth requeue {row.request_id}`).",
            due=row.start_date,
        )
        for row in rows
        if row.state == "refused"
    ]


def sync_request_findings(session: Session, at: datetime) -> FindingChanges:
    return sync_findings(
        session, REQUEST_FINDINGS, request_findings(requests_store.list_requests(session, ["refused"])), at
    )


# --- queueing -----------------------------------------------------------------------------------


class RequestProblem(ValueError):
    """A request that cannot be queued; the message names the field and never a member id or date of birth."""


def queue_request(session: Session, row: AuthRequestRow) -> AuthRequestRow:
    """Queue a checked request in the caller's transaction, unless the same one (payer, member, codes, dates) is
    queued or submitted already: then that one is returned and nothing is written (a double click, a file
    imported twice). Two processes inserting it at once: the database keeps one (content_key is unique)."""
    same = requests_store.same_request(session, row)
    if same is not None:
        return same
    try:
        with session.begin_nested():
            requests_store.add_request(session, row)
    except IntegrityError:
        same = requests_store.same_request(session, row)
        if same is None:
            raise
        return same
    return row


def due_requests(rows: Iterable[AuthRequestRow]) -> list[tuple[str, str, str]]:
    """(request id, payer id, why) of the requests the worker still has to do something about."""
    why = {
        "queued": "queued, to submit",
        "submitting": "an attempt did not finish: look on the portal first",
        "needs_look": "an attempt failed after the click: look on the portal first",
    }
    return [(r.request_id, r.payer_id, why[r.state]) for r in rows if r.state in why]
