"""Filing an appeal on the payer's portal exactly once, and following it to the payer's decision.

Filing is a portal write, so it follows the rules every write does (flows/auth_requests.py):

1. Look before any submit: the portal's appeals on file for the claim are read first, every time (first try,
   retry after a timeout, restart after a crash). An appeal whose provider reference is ours, or, when the
   portal kept no reference, one at the same level filed since our intent, is adopted: recorded as filed with
   its confirmation number, and nothing is sent.
2. Record the intent (state `submitting`, attempt, time) and commit it before the click, so a crash between
   the click and the record leaves an appeal that the next attempt looks for.
3. After an ambiguous failure (no answer after the click, a 5xx, a strange page, a crash) the appeal is
   `needs_look`: it is never submitted again without the look of rule 1.

A refusal (the form's edit messages) files nothing: the appeal becomes `refused` with the portal's words and
a finding for billing; it is not tried again until staff correct it and queue it again. So does a portal that
does not know the claim, or a packet gone from the data folder, both found before anything is typed.

A filed appeal keeps the confirmation page as evidence (screenshot and PDF), moves its denial to "appealed",
and is due an answer by filed + the playbook's response_days. Its status page is then read once a practice day
until the payer decides; the decision is recorded by flows.appeal_decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.appeal_decisions import record_decision
from flows.cadence import as_utc, today_in
from flows.findings import FindingChanges, FindingDraft, sync_findings
from flows.kept_evidence import KeepsEvidence
from flows.playbook import Playbook
from portals.capabilities import AppealPortal
from portals.errors import ClaimNotFound, PortalError, RequestRefused
from portals.identifiers import same_id
from portals.types import AppealFiling, AppealReceipt
from store import appeals as appeals_store
from store.claims import get_claim
from store.db import session_scope
from store.denials import set_status
from store.evidence import add_evidence
from store.models import AppealRow, Claim, Denial, Evidence

log = structlog.get_logger(__name__)

REFUSED = "appeal_refused"
APPEAL_FINDINGS = (REFUSED,)
ONLINE_CHANNELS = ("portal", "clearinghouse")
DECIDED = ("upheld", "overturned")
CONFIRMATION = "appeal confirmation"
FOUND_ON_PORTAL = "appeal found on the portal"
DECISION_PAGE = "appeal decision"
# The portal's day and ours may differ by the time zones between: an appeal the portal dates the day before
# our intent can still be ours.
INTENT_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class FileOutcome:
    """What one filing task did, for the queue's record."""

    words: str
    state: str  # the appeal's state afterwards
    confirmation: str | None = None
    adopted: bool = False


def as_filing(row: AppealRow, claim: Claim, payer_claim_number: str, denial: Denial) -> AppealFiling:
    return AppealFiling(
        appeal_id=row.appeal_id,
        payer_id=row.payer_id,
        claim_id=claim.claim_id,
        payer_claim_number=payer_claim_number,
        member_id=claim.member_id,
        dos_from=claim.dos_from,
        billed_amount=claim.billed_amount,
        disputed_amount=row.disputed_amount,
        level=row.level,
        reason=appeal_reason(denial),
        packet_pdf=row.packet_path or "",
    )


def appeal_reason(denial: Denial) -> str:
    """The argument in a few words, for the form's reason field: the category and codes, never PHI."""
    codes = "/".join([f"{denial.group_code}-{denial.carc}", *denial.rarcs])
    return f"Request review of denial {codes} ({denial.category.replace('_', ' ')})"


def ours_on_file(row: AppealRow, receipts: Sequence[AppealReceipt], taken: set[str]) -> AppealReceipt | None:
    """The appeal on the portal that is this one, if any (rule 1). A confirmation another appeal of ours already
    holds is never adopted twice; of several matches (a portal that filed twice), the first filed."""
    free = sorted((r for r in receipts if r.confirmation_number not in taken), key=lambda r: r.confirmation_number)
    by_reference = [r for r in free if same_id(r.provider_reference, row.appeal_id)]
    if by_reference:
        return by_reference[0]
    if row.intent_at is None:
        return None  # never sent: an appeal without our reference is someone else's
    since = as_utc(row.intent_at).date() - INTENT_SLACK
    for receipt in free:
        if (
            not receipt.provider_reference
            and receipt.level in (None, row.level)
            and (receipt.submitted_on is None or receipt.submitted_on >= since)
        ):
            return receipt
    return None


def file_appeal(
    portal: AppealPortal,
    appeal_id: str,
    engine: Engine,
    *,
    now: Callable[[], datetime],
    tz: tzinfo | None,
    playbook: Playbook,
    keep_evidence: KeepsEvidence,
) -> FileOutcome:
    """Look, then (only if nothing of ours is on file) record the intent and submit once. Errors other than a
    refusal are raised for the failure policy, with the appeal left `needs_look`."""
    with session_scope(engine) as session:
        row = appeals_store.get_appeal(session, appeal_id)
        taken = appeals_store.confirmations_taken(session, row.payer_id) if row else set()
        claim = get_claim(session, row.claim_id) if row and row.claim_id else None
        denial = session.get(Denial, row.denial_id) if row else None
    if row is None or claim is None or denial is None:
        return FileOutcome("appeal, claim or denial no longer in the store", "gone")
    if row.state not in appeals_store.OPEN_STATES:
        return FileOutcome(f"already {row.state}", row.state, row.confirmation_number)
    payer_claim_number = denial.payer_claim_number or claim.payer_claim_number or ""
    try:
        found = ours_on_file(row, portal.find_appeals(row.payer_id, payer_claim_number), taken)
    except ClaimNotFound as exc:
        if row.intent_at is not None:  # a submit was started: a claim the portal no longer shows proves nothing
            _needs_look(engine, row, claim, exc, now())
            raise
        # Never sent, and the portal does not know the claim: nothing of ours is there, and nothing can be.
        words = f"the portal has no claim {payer_claim_number or '(no payer claim number)'} to appeal"
        return _refuse(engine, row, words, now(), f"refused: {words}")
    except PortalError as exc:
        _needs_look(engine, row, claim, exc, now())
        raise
    if found is not None:
        kept = _keep(keep_evidence, portal, row, FOUND_ON_PORTAL)
        _record_filed(engine, row, found, kept, now=now(), tz=tz, playbook=playbook, adopted=True)
        return FileOutcome(
            f"found on the portal as {found.confirmation_number}: adopted", "filed", found.confirmation_number, True
        )
    if not row.packet_path or not Path(row.packet_path).is_file():
        words = "its packet PDF is gone from the worker's data folder: queue it again with a packet"
        return _refuse(engine, row, words, now(), "not filed: the packet is missing")
    with session_scope(engine) as session:
        row = appeals_store.record_intent(session, appeal_id, now())
    try:
        receipt = portal.submit_appeal(as_filing(row, claim, payer_claim_number, denial))
    except RequestRefused as refused:
        return _refuse(engine, row, without_phi(refused.words, claim), now(), "refused by the portal")
    except Exception as exc:
        _needs_look(engine, row, claim, exc, now())
        raise
    kept = _keep(keep_evidence, portal, row, CONFIRMATION)
    _record_filed(engine, row, receipt, kept, now=now(), tz=tz, playbook=playbook, adopted=False)
    return FileOutcome(f"filed as {receipt.confirmation_number}", "filed", receipt.confirmation_number)


def _refuse(engine: Engine, row: AppealRow, words: str, at: datetime, outcome: str) -> FileOutcome:
    """Nothing was filed and nothing will be until staff correct it: refused, with a finding for billing."""
    with session_scope(engine) as session:
        appeals_store.mark_refused(session, row.appeal_id, words, at)
        sync_appeal_findings(session, at)
    return FileOutcome(outcome, "refused")


def _keep(keep_evidence: KeepsEvidence, portal: AppealPortal, row: AppealRow, reason: str) -> Evidence | None:
    """The page on screen (the confirmation, or the list that shows the appeal) as evidence with its PDF. The
    appeal is filed whatever happens here: a disk that refuses the files loses the evidence, not the record."""
    try:
        kept = keep_evidence(portal.snapshot(pdf=True), portal=portal.portal, subject=row.appeal_id, reason=reason)
    except OSError as exc:
        log.warning("appeal_evidence_not_kept", appeal=row.appeal_id, error=type(exc).__name__)
        return None
    evidence = kept.evidence
    evidence.claim_id, evidence.pdf_path = row.claim_id, kept.pdf_path
    return evidence


def _needs_look(engine: Engine, row: AppealRow, claim: Claim, exc: Exception, at: datetime) -> None:
    words = f"{type(exc).__name__}: {exc.message}" if isinstance(exc, PortalError) else type(exc).__name__
    with session_scope(engine) as session:
        current = appeals_store.get_appeal(session, row.appeal_id)
        if current is not None and current.state in ("submitting", "needs_look"):
            appeals_store.mark_needs_look(session, row.appeal_id, without_phi(words, claim), at)


def _record_filed(
    engine: Engine,
    row: AppealRow,
    receipt: AppealReceipt,
    evidence: Evidence | None,
    *,
    now: datetime,
    tz: tzinfo | None,
    playbook: Playbook,
    adopted: bool,
) -> None:
    """Filed, with its confirmation, its evidence and its due date; the denial appealed: one transaction."""
    filed_on = receipt.submitted_on or today_in(now, tz)
    response_days = playbook.level(row.payer_id, row.level).response_days
    with session_scope(engine) as session:
        filed = appeals_store.mark_filed(
            session,
            row.appeal_id,
            confirmation=receipt.confirmation_number,
            filed_at=now,
            filed_by="worker",
            response_due=filed_on + timedelta(days=response_days),
            portal_status=receipt.status,
            adopted=adopted,
            now=now,
        )
        if evidence is not None:
            appeals_store.keep_evidence_id(session, row.appeal_id, add_evidence(session, evidence))
        how = "found on" if adopted else "filed on"
        appeal_denial(session, filed, now, "worker", f"{how} {row.portal} as {receipt.confirmation_number}")
        sync_appeal_findings(session, now)


def appeal_denial(session: Session, appeal: AppealRow, at: datetime, actor: str, how: str) -> None:
    """The denial is appealed now (its history keeps it, and counts it as a level filed). A denial closed
    meanwhile (paid, written off) stays closed; one already marked appealed is not counted twice."""
    denial = session.get(Denial, appeal.denial_id)
    if denial is None or denial.status in ("appealed", "resolved", "written_off"):
        return
    set_status(session, denial, "appealed", at, actor, f"appeal {appeal.appeal_id} ({appeal.level_name}) {how}")


def without_phi(words: str, claim: Claim) -> str:
    """The portal's words with the member's id taken out, should a portal echo it."""
    return words.replace(claim.member_id, "[member]") if claim.member_id else words


# --- following a filed appeal -------------------------------------------------------------------------------------


def status_read_due_before(now: datetime, tz: tzinfo | None) -> datetime:
    """Appeals whose status was last read before this moment (the start of the practice's day) are due a read:
    once a practice day, the day of filing excepted (the confirmation said where it stood)."""
    start = datetime.combine(today_in(now, tz), time(0), tzinfo=tz)
    return as_utc(start)


def follow_appeal(
    portal: AppealPortal,
    appeal_id: str,
    engine: Engine,
    *,
    now: Callable[[], datetime],
    tz: tzinfo | None,
    keep_evidence: KeepsEvidence,
) -> str:
    """Read a filed appeal's status page and store it; a decision there is recorded (an overturn resolves the
    denial with the amount recovered, an upheld one opens the next level). Portal errors are raised."""
    with session_scope(engine) as session:
        row = appeals_store.get_appeal(session, appeal_id)
    if row is None:
        return "appeal no longer in the store"
    if row.state != "filed" or row.confirmation_number is None:
        return f"{row.state}: nothing to follow"
    receipt = portal.appeal_status(row.payer_id, row.confirmation_number)
    evidence = _keep(keep_evidence, portal, row, DECISION_PAGE) if receipt.status in DECIDED else None
    at = now()
    with session_scope(engine) as session:
        row = appeals_store.record_status(session, appeal_id, receipt.status, at)
        if receipt.status not in DECIDED:
            return f"{receipt.status.replace('_', ' ')} (confirmation {row.confirmation_number})"
        if evidence is not None:
            add_evidence(session, evidence)
        record_decision(
            session,
            row,
            decision=receipt.status,
            decided_on=receipt.decided_on or today_in(at, tz),
            amount_recovered=receipt.amount_overturned if receipt.status == "overturned" else None,
            source="portal",
            actor="worker",
            at=at,
        )
    return f"decided: {receipt.status} (confirmation {row.confirmation_number})"


# --- findings -----------------------------------------------------------------------------------------------------


def appeal_findings(refused: Iterable[AppealRow], still_refused: Callable[[AppealRow], bool]) -> list[FindingDraft]:
    """One finding per refused appeal not appealed again since, for billing, with the portal's words (no PHI)."""
    return [
        FindingDraft(
            REFUSED,
            row.appeal_id,
            row.payer_id,
            f"appeal {row.appeal_id} ({row.level_name}) of claim {row.claim_id} was refused by {row.portal}: "
            f"\u201c{row.refusal}\u201d. Nothing was filed. Correct it (a new packet with "
            f"`portal-worker appeal requeue {row.appeal_id} --packet FILE`) and it is filed again.",
            amount_at_risk=row.disputed_amount,
            claims_at_risk=(row.claim_id,) if row.claim_id else (),
        )
        for row in refused
        if row.state == "refused" and still_refused(row)
    ]


def sync_appeal_findings(session: Session, at: datetime) -> FindingChanges:
    """Open a finding for each refused appeal; it resolves once the appeal is queued again, the denial appealed
    anew at that level, or the denial closed."""

    def still_refused(row: AppealRow) -> bool:
        denial = session.get(Denial, row.denial_id)
        closed = denial is None or denial.status in ("resolved", "written_off")
        return not closed and appeals_store.same_appeal(session, row.denial_id, row.level) is None

    refused = appeals_store.list_appeals(session, ["refused"])
    return sync_findings(session, APPEAL_FINDINGS, appeal_findings(refused, still_refused), at)


def due_appeals(rows: Iterable[AppealRow]) -> list[tuple[str, str, str]]:
    """(appeal id, payer id, why) of the appeals the worker still has to file."""
    why = {
        "queued": "queued, to file",
        "submitting": "an attempt did not finish: look on the portal first",
        "needs_look": "an attempt failed after the click: look on the portal first",
    }
    return [(r.appeal_id, r.payer_id, why[r.state]) for r in rows if r.state in why]


def filed_on_day(day: date, tz: tzinfo | None) -> datetime:
    """The moment a fax or letter sent on `day` is recorded as filed: noon of that practice day."""
    return as_utc(datetime.combine(day, time(12), tzinfo=tz))
