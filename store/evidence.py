"""Evidence files saved when a page surprised us, listed so they can be found and purged."""

from __future__ import annotations

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
