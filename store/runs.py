"""Check runs: when they ran and what they found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from store.models import CheckRun


def start_run(session: Session, run_id: str, at: datetime) -> None:
    session.add(CheckRun(id=run_id, started_at=at))


def finish_run(session: Session, run_id: str, at: datetime, summary: list[dict[str, Any]]) -> None:
    run = session.get(CheckRun, run_id)
    assert run is not None, run_id
    run.finished_at = at
    run.summary = summary
    session.add(run)
