"""Everything the store knows about one claim, read in a handful of queries (the claim page and `claim ID`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import Session, col, select

from store.models import (
    Authorization,
    Claim,
    ClaimStatusObservation,
    Denial,
    DenialEvent,
    Enrollment,
    EraClaim,
    EraFile,
    Evidence,
    Provider,
    Task,
)
from store.tasks import OPEN_STATES as OPEN_TASK_STATES

CLAIM_STATUS_TASK = "claim_status"


@dataclass(frozen=True)
class RemittedClaim:
    """One ERA's word on the claim, with the file (check/EFT trace number, payment date) it came in."""

    claim: EraClaim
    file: EraFile


@dataclass(frozen=True)
class ClaimRecord:
    claim: Claim
    observations: Sequence[ClaimStatusObservation]  # oldest first
    remittances: Sequence[RemittedClaim]  # oldest first
    denials: Sequence[Denial]
    events: dict[int, list[DenialEvent]]  # denial id -> its history, oldest first
    evidence: Sequence[Evidence]
    authorization: Authorization | None
    provider: Provider | None
    enrollment: Enrollment | None
    open_checks: Sequence[Task]  # queued or running claim-status tasks for it


def load_claim_record(session: Session, claim_id: str) -> ClaimRecord | None:
    claim = session.get(Claim, claim_id)
    if claim is None:
        return None
    observations = list(
        session.exec(
            select(ClaimStatusObservation)
            .where(ClaimStatusObservation.claim_id == claim_id)
            .order_by(col(ClaimStatusObservation.id))
        )
    )
    remitted = session.exec(
        select(EraClaim, EraFile)
        .join(EraFile, col(EraFile.id) == col(EraClaim.era_file_id))
        .where(EraClaim.claim_id == claim_id)
        .order_by(col(EraClaim.id))
    )
    denials = list(session.exec(select(Denial).where(Denial.claim_id == claim_id).order_by(col(Denial.id))))
    events: dict[int, list[DenialEvent]] = {d.id: [] for d in denials if d.id is not None}
    if events:
        history = select(DenialEvent).where(col(DenialEvent.denial_id).in_(list(events))).order_by(col(DenialEvent.id))
        for event in session.exec(history):
            events[event.denial_id].append(event)
    return ClaimRecord(
        claim=claim,
        observations=observations,
        remittances=[RemittedClaim(era_claim, era_file) for era_claim, era_file in remitted],
        denials=denials,
        events=events,
        evidence=_evidence(session, claim_id, observations),
        authorization=session.get(Authorization, claim.prior_auth_number) if claim.prior_auth_number else None,
        provider=session.get(Provider, claim.rendering_npi),
        enrollment=session.exec(
            select(Enrollment).where(Enrollment.npi == claim.rendering_npi, Enrollment.payer_id == claim.payer_id)
        ).first(),
        open_checks=open_checks(session, claim_id),
    )


def open_checks(session: Session, claim_id: str) -> list[Task]:
    statement = select(Task).where(
        Task.kind == CLAIM_STATUS_TASK, Task.target == claim_id, col(Task.state).in_(OPEN_TASK_STATES)
    )
    return list(session.exec(statement.order_by(col(Task.id))))


def get_evidence(session: Session, evidence_id: int) -> Evidence | None:
    return session.get(Evidence, evidence_id)


def _evidence(session: Session, claim_id: str, observations: Sequence[ClaimStatusObservation]) -> list[Evidence]:
    """Evidence saved for the claim, and any an observation points at."""
    linked = [o.evidence_id for o in observations if o.evidence_id is not None]
    condition = or_(col(Evidence.claim_id) == claim_id, col(Evidence.id).in_(linked))
    return list(session.exec(select(Evidence).where(condition).order_by(col(Evidence.id).desc())))
