"""Claim status: which claims are due, and given a portal session, record what changed.

A flow never decides what to do about a failing portal: it raises the portal's error with
nothing recorded for the claim in hand, and the runner applies the failure policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from flows.changes import describe_changes
from flows.claim_evidence import first_sight, keep_first_sight
from flows.claim_states import ClaimState, state_of
from flows.denials import DenialChanges, record_portal_result
from flows.kept_evidence import KeepsEvidence
from flows.plausibility import Known, MissingClaims, refuse_renumbered, refuse_vanished
from portals.capabilities import PortalSession
from portals.errors import ClaimNotFound
from portals.identifiers import same_id
from portals.types import ClaimQuery, ClaimStatusResult
from store.db import session_scope
from store.models import Claim, ClaimStatusObservation
from store.observations import latest_observation, mark_checked, record_observation

# How long to wait before asking about a claim again, by its last known state.
# Paid claims are never asked about again; new submissions rarely reach a payer's
# claim-status system in their first days, so they are asked less often.
RECHECK_AFTER: dict[str, timedelta] = {
    ClaimState.PENDING: timedelta(hours=20),
    ClaimState.RECEIVED: timedelta(hours=20),
    ClaimState.INFO_REQUESTED: timedelta(hours=20),
    ClaimState.NOT_ON_FILE: timedelta(hours=20),  # timely filing runs while it is missing
    ClaimState.ERROR: timedelta(hours=20),
    ClaimState.REJECTED: timedelta(days=3),
    ClaimState.DENIED: timedelta(days=7),  # reversals and late payments do happen
    ClaimState.PARTIALLY_PAID: timedelta(days=7),
    ClaimState.FINALIZED: timedelta(days=7),
}
NEW_SUBMISSION_AGE = timedelta(days=7)
NEW_SUBMISSION_RECHECK = timedelta(days=3)
NEVER_AGAIN = frozenset({ClaimState.PAID})

log = structlog.get_logger(__name__)


@dataclass
class Plan:
    batches: dict[str, list[Claim]] = field(default_factory=dict)  # portal -> claims
    unrouted: list[Claim] = field(default_factory=list)  # no portal serves the payer


def plan_batches(claims: Iterable[Claim], portal_for_payer: Callable[[str], str | None]) -> Plan:
    """Group claims by the portal that answers for their payer, so one login serves many."""
    plan = Plan()
    for claim in claims:
        portal = portal_for_payer(claim.payer_id)
        if portal is None:
            plan.unrouted.append(claim)
        else:
            plan.batches.setdefault(portal, []).append(claim)
    return plan


def query_for(claim: Claim) -> ClaimQuery:
    return ClaimQuery(
        claim_id=claim.claim_id,
        payer_id=claim.payer_id,
        member_id=claim.member_id,
        dos_from=claim.dos_from,
        dos_to=claim.dos_to,
        billed_amount=claim.billed_amount,
        rendering_npi=claim.rendering_npi,
        payer_claim_number=claim.payer_claim_number,
    )


# --- recording -------------------------------------------------------------

COMPARED = (
    "status",
    "category_code",
    "status_code",
    "status_text",
    "status_date",
    "payer_claim_number",
    "billed_amount",
    "allowed_amount",
    "paid_amount",
    "check_number",
    "payment_date",
    "adjustments",
)


def observation_from(result: ClaimStatusResult | None, claim_id: str) -> dict[str, Any]:
    """The comparable fields of what the portal said; None means 'not on file'."""
    if result is None:
        return {
            "status": ClaimState.NOT_ON_FILE.value,
            "category_code": "A4",
            "status_code": None,
            "status_text": "Not on file",
            "status_date": None,
            "payer_claim_number": None,
            "billed_amount": None,
            "allowed_amount": None,
            "paid_amount": None,
            "check_number": None,
            "payment_date": None,
            "adjustments": [],
        }
    return {
        "status": state_of(result).value,
        "category_code": result.category_code,
        "status_code": result.status_code,
        "status_text": result.status_text,
        "status_date": result.status_date,
        "payer_claim_number": result.payer_claim_number,
        "billed_amount": result.billed_amount,
        "allowed_amount": result.allowed_amount,
        "paid_amount": result.paid_amount,
        "check_number": result.check_number,
        "payment_date": result.payment_date,
        "adjustments": [
            {
                "group_code": a.group_code,
                "carc": a.carc,
                "amount": f"{a.amount:.2f}",
                "rarcs": list(a.rarcs),
                "line_procedure": a.line_procedure,
            }
            for a in result.adjustments
        ],
    }


@dataclass(frozen=True)
class Recorded:
    claim_id: str
    status: ClaimState
    changes: str  # '' when nothing changed
    new_denials: int = 0
    resolved_denials: int = 0
    held: bool = False  # a found claim missing now: recorded or refused when its batch ends (MissingClaims)
    observation_id: int | None = None  # the observation recorded, when something changed
    first_sight: str | None = None  # why its page is worth keeping as evidence (flows/claim_evidence.py)


def record_status(
    engine: Engine, claim: Claim, result: ClaimStatusResult | None, *, portal: str, run_id: str, at: datetime
) -> Recorded:
    """Record an observation only when something changed, and the denials it shows. One transaction."""
    fields = observation_from(result, claim.claim_id)
    state = ClaimState(fields["status"])
    with session_scope(engine) as session:
        latest = latest_observation(session, claim.claim_id)
        if latest is not None and same_id(latest.payer_claim_number, fields["payer_claim_number"]):
            fields["payer_claim_number"] = latest.payer_claim_number  # printed another way: the same number
        changes = describe_changes(latest, fields, COMPARED)
        observation = None
        if changes:
            observation = ClaimStatusObservation(
                claim_id=claim.claim_id, observed_at=at, portal=portal, run_id=run_id, changes=changes, **fields
            )
            record_observation(session, observation)
            session.flush()
        denials = (
            DenialChanges()
            if result is None
            else record_portal_result(
                session,
                claim_id=claim.claim_id,
                payer_id=claim.payer_id,
                result=result,
                state=state,
                portal=portal,
                at=at,
            )
        )
        mark_checked(session, claim.claim_id, at)
        why = first_sight(latest, fields, len(denials.new)) if observation is not None else None
        observation_id = observation.id if observation is not None else None
    return Recorded(
        claim.claim_id,
        state,
        changes,
        len(denials.new),
        len(denials.resolved),
        observation_id=observation_id,
        first_sight=why,
    )


def known_of(engine: Engine, claim: Claim) -> Known:
    with session_scope(engine) as session:
        latest = latest_observation(session, claim.claim_id)
    if latest is None:
        return Known(None, claim.payer_claim_number)
    return Known(latest.status, latest.payer_claim_number or claim.payer_claim_number)


def check_claim(
    adapter: PortalSession,
    claim: Claim,
    engine: Engine,
    *,
    run_id: str,
    now: Callable[[], datetime],
    missing: MissingClaims | None = None,
    keep_evidence: KeepsEvidence | None = None,
    detail_path: str | None = None,
    next_detail_paths: tuple[str, ...] = (),
) -> Recorded:
    """Ask the portal about one claim and record what changed; portal errors are raised, impossible changes
    refused (flows/plausibility.py). With `missing`, a found claim missing now is held for its batch to judge.
    With `keep_evidence`, a first sight (a new status, payment or denial) keeps the page the portal showed.
    `detail_path`, the claim's detail page as the portal's claim list linked it, saves the search;
    `next_detail_paths`, the pages the batch reads next, may be asked for while this claim is recorded."""
    known = known_of(engine, claim)
    try:
        result: ClaimStatusResult | None = adapter.claim_status(
            replace(query_for(claim), detail_path=detail_path, next_detail_paths=next_detail_paths)
        )
    except ClaimNotFound:
        result = None
    if result is None:
        refuse_vanished(adapter.portal, claim.claim_id, known)
    else:
        refuse_renumbered(adapter.portal, claim.claim_id, known, result.payer_claim_number)
    if missing is not None and known.found:
        missing.found_checked += 1
        if result is None:
            missing.held.append(claim)
            log.info("claim_missing_held", claim_id=claim.claim_id)
            return Recorded(claim.claim_id, ClaimState.NOT_ON_FILE, "", held=True)
    recorded = record_status(engine, claim, result, portal=adapter.portal, run_id=run_id, at=now())
    if keep_evidence is not None and recorded.first_sight and recorded.observation_id is not None:
        keep_first_sight(
            adapter,
            engine,
            claim_id=claim.claim_id,
            observation_id=recorded.observation_id,
            reason=recorded.first_sight,
            keep_evidence=keep_evidence,
        )
    log.info("claim_checked", claim_id=claim.claim_id, status=recorded.status.value, changes=recorded.changes or None)
    return recorded
