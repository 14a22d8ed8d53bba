"""One portal-worker measurement: `portal-worker run` as its own process, stopped once every claim is checked.

Seconds are the queue's own span: from the first claim_status task leased to the last one
finished (the first Chromium launch and login fall inside it; Python's start-up does not,
and is reported apart as startup_s).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bench.measure import Measured, run_measured
from bench.workspace import make_workspace
from store.models import Task
from store.postgres import DEFAULT_URL, fresh_schema
from worker.clock import aware

ENTRY = ("-c", "from worker.cli import main; main()", "run")
CLAIM_STATUS = "claim_status"
FINISHED = ("done", "failed")


@dataclass(frozen=True)
class WorkerOutcome:
    runners: int
    db: str
    claims_done: int
    claims_failed: int
    seconds: float
    startup_s: float
    retries: int  # leases beyond the first, over all tasks
    claims_per_portal: dict[str, int]
    measured: Measured
    config: str = field(repr=False)


def reader_engine(url: str) -> Engine:
    """A reader that takes no write lock (store.db's SQLite engine begins every transaction IMMEDIATE)."""
    return create_engine(url)


def _states(engine: Engine) -> Counter[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(Task.state, func.count()).where(col(Task.kind) == CLAIM_STATUS).group_by(col(Task.state))
        )
        return Counter({state: int(count) for state, count in rows.all()})


def all_checked(engine: Engine, claims: int) -> bool:
    states = _states(engine)
    return sum(states[s] for s in FINISHED) >= claims and not states["queued"] + states["leased"]


def measure_worker(
    root: Path,
    portal_url: str,
    claims_csv: Path,
    claims: int,
    *,
    runners: int,
    postgres: bool,
    batch_size: int,
    pace_seconds: float,
    log_path: Path,
    timeout_s: float,
) -> WorkerOutcome:
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_schema(DEFAULT_URL, "pw_bench")) if postgres else None
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=root)))
        ws = make_workspace(
            work,
            portal_url,
            claims_csv,
            database_url,
            runners=runners,
            batch_size=batch_size,
            pace_seconds=pace_seconds,
        )
        engine = reader_engine(ws.database_url)
        stack.callback(engine.dispose)
        spawned = datetime.now(UTC)
        measured = run_measured(
            [sys.executable, *ENTRY],
            env=ws.env,
            cwd=work,
            log_path=log_path,
            timeout_s=timeout_s,
            done=lambda: all_checked(engine, claims),
        )
        with Session(engine) as session:
            tasks = list(session.exec(select(Task).where(col(Task.kind) == CLAIM_STATUS)))
        done = [t for t in tasks if t.state == "done"]
        worker_log = work / "data" / "logs" / "portal-worker.jsonl"
        if (measured.timed_out or len(done) < claims) and worker_log.exists():  # keep it, to see why
            shutil.copyfile(worker_log, log_path.with_suffix(".jsonl"))
        started = [aware(t.started_at) for t in done if t.started_at]
        finished = [aware(t.finished_at) for t in done if t.finished_at]
        first, last = (min(started), max(finished)) if started and finished else (spawned, spawned)
        return WorkerOutcome(
            runners=runners,
            db="PostgreSQL" if postgres else "SQLite",
            claims_done=len(done),
            claims_failed=sum(t.state == "failed" for t in tasks),
            seconds=(last - first).total_seconds(),
            startup_s=(first - spawned).total_seconds(),
            retries=sum(max(t.attempts - 1, 0) for t in tasks),
            claims_per_portal=dict(Counter(t.portal for t in tasks)),
            measured=measured,
            config=ws.config_path.read_text(),
        )
