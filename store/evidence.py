"""Evidence files (a page that surprised us, a confirmation, a claim's page on first sight), listed so they can be
found, linked from what they show, and purged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

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


def purge_evidence_before(
    session: Session,
    cutoff: datetime,
    records_cutoff: datetime | None = None,
    is_record: Callable[[Evidence], bool] = lambda _: False,
) -> list[Evidence]:
    """Delete the rows of evidence older than `cutoff`, those `is_record` says are records only when older than
    `records_cutoff`; returns them so their files can go too."""
    records_cutoff = records_cutoff or cutoff
    older = session.exec(select(Evidence).where(Evidence.created_at < max(cutoff, records_cutoff)))
    expired = [e for e in older if _utc(e.created_at) < _utc(records_cutoff if is_record(e) else cutoff)]
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


def _utc(moment: datetime) -> datetime:
    """Stored times may come back naive (SQLite, a timestamp column): they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


PRINT_ATTEMPTS = 3  # an archive Chromium failed to print this often stays an archive (its HTML is kept too)


def archives_to_print(session: Session, folder: str, *, limit: int) -> list[Evidence]:
    """Pages kept as archives under `folder` (this host's evidence: another host's files are not here) that have
    no PDF yet, oldest first."""
    statement = (
        select(Evidence)
        .where(
            col(Evidence.archive_path).is_not(None),
            col(Evidence.pdf_path).is_(None),
            col(Evidence.archive_path).startswith(folder.rstrip("/") + "/", autoescape=True),
            Evidence.print_attempts < PRINT_ATTEMPTS,
        )
        .order_by(col(Evidence.id))
        .limit(limit)
    )
    return list(session.exec(statement))


def record_printed(session: Session, evidence_id: int, *, screenshot_path: str, pdf_path: str) -> bool:
    """The archive's PDF and screenshot are written; False when the row went meanwhile (purged)."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        return False
    evidence.screenshot_path, evidence.pdf_path = screenshot_path, pdf_path
    session.add(evidence)
    return True


def record_print_failed(session: Session, evidence_id: int) -> None:
    session.exec(
        update(Evidence).where(col(Evidence.id) == evidence_id).values(print_attempts=Evidence.print_attempts + 1)
    )
