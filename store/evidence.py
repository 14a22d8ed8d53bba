"""Evidence files saved when a page surprised us, listed so they can be found and purged."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from store.models import Evidence


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
    for evidence in expired:
        session.delete(evidence)
    return expired
