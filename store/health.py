"""Worker health: heartbeats, the last run of each scheduler job, and paused flows.

Several workers may write the same job or pause at once, so upserts UPDATE first
and INSERT inside a savepoint, updating again when another process won the insert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, insert, literal, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, col, select

from store.models import FlowPause, JobRun, UtcDateTime, WorkerHeartbeat


def _upsert(
    session: Session,
    model: type[SQLModel],
    where: list[ColumnElement[bool]],
    key: dict[str, Any],
    on_update: dict[str, Any],
    on_insert: dict[str, Any],
) -> None:
    statement = update(model).where(*where).values(**on_update).execution_options(synchronize_session="fetch")
    if session.exec(statement).rowcount:
        return
    try:
        with session.begin_nested():
            session.exec(insert(model).values(**key, **on_insert))
    except IntegrityError:
        session.exec(statement)


# --- heartbeats ------------------------------------------------------------------


def beat(
    session: Session,
    *,
    worker_id: str,
    host: str,
    pid: int,
    started_at: datetime,
    now: datetime,
    runners: int,
    detail: dict[str, str],
) -> None:
    values = {
        "host": host,
        "pid": pid,
        "started_at": started_at,
        "beat_at": now,
        "stopped_at": None,
        "runners": runners,
        "detail": dict(detail),
    }
    _upsert(
        session,
        WorkerHeartbeat,
        [col(WorkerHeartbeat.worker_id) == worker_id],
        {"worker_id": worker_id},
        values,
        values,
    )


def mark_stopped(session: Session, worker_id: str, now: datetime) -> None:
    session.exec(
        update(WorkerHeartbeat)
        .where(col(WorkerHeartbeat.worker_id) == worker_id)
        .values(stopped_at=now)
        .execution_options(synchronize_session="fetch")
    )


def heartbeats(session: Session) -> list[WorkerHeartbeat]:
    """Every worker that ever beat, newest beat first."""
    statement = select(WorkerHeartbeat).order_by(col(WorkerHeartbeat.beat_at).desc(), col(WorkerHeartbeat.worker_id))
    return list(session.exec(statement.execution_options(populate_existing=True)))


# --- scheduler jobs ------------------------------------------------------------------


def _job(session: Session, job: str, **values: Any) -> None:
    _upsert(session, JobRun, [col(JobRun.job) == job], {"job": job}, values, values)


def job_started(session: Session, job: str, now: datetime) -> None:
    _job(session, job, last_started_at=now)


def job_succeeded(session: Session, job: str, now: datetime, enqueued: int) -> None:
    """The job ran to the end; an earlier error is cleared so `status` shows the current state."""
    _job(session, job, last_success_at=now, last_enqueued=enqueued, last_error=None)


def job_failed(session: Session, job: str, now: datetime, error: str) -> None:
    _job(session, job, last_error=error)


def job_runs(session: Session) -> dict[str, JobRun]:
    statement = select(JobRun).order_by(col(JobRun.job)).execution_options(populate_existing=True)
    return {run.job: run for run in session.exec(statement)}


# --- paused flows -----------------------------------------------------------------------


def pause_flow(
    session: Session, *, portal: str, kind: str, reason: str, evidence: str | None, now: datetime, until: datetime
) -> None:
    """Pause `kind` work on `portal` until `until`; a pause still running keeps its `since`."""
    now_value = literal(now, UtcDateTime())
    since = case((col(FlowPause.until) > now_value, col(FlowPause.since)), else_=now_value)
    _upsert(
        session,
        FlowPause,
        [col(FlowPause.portal) == portal, col(FlowPause.kind) == kind],
        {"portal": portal, "kind": kind},
        {"reason": reason, "evidence": evidence, "since": since, "until": until},
        {"reason": reason, "evidence": evidence, "since": now, "until": until},
    )


def resume_flows(session: Session, portal: str, kind: str | None = None) -> int:
    """Lift the pauses of `portal` (of one `kind`, or all); returns how many."""
    statement = delete(FlowPause).where(col(FlowPause.portal) == portal)
    if kind is not None:
        statement = statement.where(col(FlowPause.kind) == kind)
    return session.exec(statement.execution_options(synchronize_session="fetch")).rowcount


def active_pauses(session: Session, now: datetime) -> list[FlowPause]:
    """Pauses whose `until` is still ahead of `now`."""
    statement = (
        select(FlowPause)
        .where(col(FlowPause.until) > now)
        .order_by(col(FlowPause.portal), col(FlowPause.kind))
        .execution_options(populate_existing=True)
    )
    return list(session.exec(statement))
