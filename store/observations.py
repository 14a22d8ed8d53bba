"""Claim status observations: one row per change, and the claim's latest-status copy."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from store.models import (
    Authorization,
    AuthorizationObservation,
    Claim,
    ClaimStatusObservation,
    Enrollment,
    EnrollmentObservation,
)


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
    # The claim is read before the observation is added: reading it would flush the observation alone, and the
    # outbox tells a portal's status change from an ERA's by the observation flushed with it (or, flushed earlier,
    # by one of the same time and status).
    claim = session.get(Claim, observation.claim_id)
    if claim is None:
        raise LookupError(f"claim {observation.claim_id} is not in the store")
    session.add(observation)
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


def latest_auth_observation(session: Session, auth_number: str) -> AuthorizationObservation | None:
    statement = (
        select(AuthorizationObservation)
        .where(AuthorizationObservation.auth_number == auth_number)
        .order_by(col(AuthorizationObservation.id).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def record_auth_observation(session: Session, observation: AuthorizationObservation) -> None:
    """Store a changed authorization and copy it onto the practice's authorization row."""
    session.add(observation)
    auth = session.get(Authorization, observation.auth_number)
    if auth is None:
        raise LookupError(f"authorization {observation.auth_number} is not in the store")
    auth.status, auth.units_used = observation.status, observation.units_used
    auth.portal_units_approved, auth.portal_codes = observation.units_approved, observation.procedure_codes
    auth.portal_start, auth.portal_end = observation.start, observation.end
    auth.denial_reason, auth.status_changed_at = observation.denial_reason, observation.observed_at
    session.add(auth)


def mark_auth_checked(session: Session, auth_number: str, at: datetime, error: str | None = None) -> None:
    auth = session.get(Authorization, auth_number)
    if auth is not None:
        if error is None:
            auth.last_checked_at = at
        auth.last_error = error
        session.add(auth)


def current_enrollment(session: Session, npi: str, payer_id: str) -> Enrollment | None:
    return session.exec(select(Enrollment).where(Enrollment.npi == npi, Enrollment.payer_id == payer_id)).first()


def record_enrollment_observation(session: Session, observation: EnrollmentObservation) -> None:
    """Store a changed enrollment and make it the current one for that provider and payer."""
    session.add(observation)
    current = current_enrollment(session, observation.npi, observation.payer_id)
    if current is None:
        current = Enrollment(
            npi=observation.npi,
            payer_id=observation.payer_id,
            portal=observation.portal,
            status=observation.status,
            last_checked_at=observation.observed_at,
            status_changed_at=observation.observed_at,
        )
    for name in ENROLLMENT_FIELDS:
        setattr(current, name, getattr(observation, name))
    current.portal, current.status_changed_at = observation.portal, observation.observed_at
    current.last_checked_at = observation.observed_at
    session.add(current)


def mark_enrollment_checked(session: Session, npi: str, payer_id: str, at: datetime) -> None:
    current = current_enrollment(session, npi, payer_id)
    if current is not None:
        current.last_checked_at = at
        session.add(current)


def all_enrollments(session: Session) -> list[Enrollment]:
    return list(session.exec(select(Enrollment).order_by(Enrollment.npi, Enrollment.payer_id)))


ENROLLMENT_FIELDS = (
    "status",
    "effective",
    "termination",
    "revalidation_due",
    "payer_provider_id",
    "era_enrolled",
    "eft_enrolled",
)
