"""Evidence files (a page that surprised us, a confirmation, a claim's page on first sight), listed so they can be
found, linked from what they show, and purged."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select, update

from store.models import AppealRow, ClaimStatusObservation, Evidence


def add_evidence(session: Session, evidence: Evidence) -> int:
    session.add(evidence)
    session.flush()
    assert evidence.id is not None
    return evidence.id


def list_evidence(session: Session, portal: str | None = None) -> list[Evidence]:
    statement = select(Evidence).order_by(col(Evidence.id))
    if portal:
        statement = statement.where(Evidence.portal == portal)
    return list(session.exec(statement))


def purge_evidence_before(session: Session, cutoff: datetime) -> list[Evidence]:
    """Delete the rows of evidence older than `cutoff`; returns them so their files can go too."""
    expired = list(session.exec(select(Evidence).where(Evidence.created_at < cutoff)))
    ids = [e.id for e in expired]
    for linked in (ClaimStatusObservation, AppealRow):  # what they showed stays; only the link to the files goes
        session.exec(update(linked).where(col(linked.evidence_id).in_(ids)).values(evidence_id=None))
    for evidence in expired:
        session.delete(evidence)
    return expired


def link_observation_evidence(session: Session, observation_id: int, evidence: Evidence) -> int:
    """Store the evidence of a claim status observation and point the observation at it."""
    observation = session.get(ClaimStatusObservation, observation_id)
    if observation is None:
        raise LookupError(f"claim status observation {observation_id} is not in the store")
    observation.evidence_id = add_evidence(session, evidence)
    session.add(observation)
    return observation.evidence_id
