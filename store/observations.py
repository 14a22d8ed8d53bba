"""Claim status observations: one row per change, and the claim's latest-status copy."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from store.models import Claim, ClaimStatusObservation


def latest_observation(session: Session, claim_id: str) -> ClaimStatusObservation | None:
    statement = (
        select(ClaimStatusObservation)
        .where(ClaimStatusObservation.claim_id == claim_id)
        .order_by(col(ClaimStatusObservation.id).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def observations_for(session: Session, claim_id: str) -> list[ClaimStatusObservation]:
    statement = (
        select(ClaimStatusObservation)
        .where(ClaimStatusObservation.claim_id == claim_id)
        .order_by(col(ClaimStatusObservation.id))
    )
    return list(session.exec(statement))


def record_observation(session: Session, observation: ClaimStatusObservation) -> None:
    """Store a changed status and copy it onto the claim row."""
    session.add(observation)
    claim = session.get(Claim, observation.claim_id)
    if claim is None:
        raise LookupError(f"claim {observation.claim_id} is not in the store")
    claim.status = observation.status
    claim.category_code = observation.category_code
    claim.status_text = observation.status_text
    claim.payer_claim_number = observation.payer_claim_number or claim.payer_claim_number
    claim.paid_amount = observation.paid_amount
    claim.status_changed_at = observation.observed_at
    session.add(claim)


def mark_checked(session: Session, claim_id: str, at: datetime, error: str | None = None) -> None:
    """Note that a check happened (and how it failed), whether or not anything changed."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        return
    if error is None:
        claim.last_checked_at = at
    claim.last_error = error
    session.add(claim)
