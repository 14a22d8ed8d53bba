"""Check runs: when they ran, who ran them, and what they found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from store.models import CheckRun


def start_run(
    session: Session,
    run_id: str,
    at: datetime,
    *,
    host: str | None = None,
    pid: int | None = None,
    process_started: float | None = None,
) -> None:
    session.add(CheckRun(id=run_id, started_at=at, host=host, pid=pid, process_started=process_started))


def finish_run(session: Session, run_id: str, at: datetime, summary: list[dict[str, Any]]) -> None:
    run = session.get(CheckRun, run_id)
    assert run is not None, run_id
    run.finished_at = at
    run.summary = summary
    session.add(run)


def open_runs_on(session: Session, host: str) -> list[CheckRun]:
    """`host`'s runs neither finished nor marked interrupted, with the process that ran them recorded."""
    return list(
        session.exec(
            select(CheckRun).where(
                CheckRun.host == host,
                col(CheckRun.pid).is_not(None),
                col(CheckRun.finished_at).is_(None),
                col(CheckRun.interrupted_at).is_(None),
            )
        )
    )


def mark_interrupted(session: Session, run_id: str, at: datetime) -> None:
    run = session.get(CheckRun, run_id)
    assert run is not None, run_id
    if run.finished_at is None and run.interrupted_at is None:  # read again in this transaction
        run.interrupted_at = at
        session.add(run)


def recent_runs(session: Session, limit: int = 5) -> list[CheckRun]:
    return list(session.exec(select(CheckRun).order_by(col(CheckRun.started_at).desc()).limit(limit)))
