"""Running the unattended worker in tests: a compressed schedule, the fake portal's clock, waiting on the store."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import psutil
from sqlmodel import Session, col, select

from fake_portal.launcher import RunningPortal
from flows.claim_import import import_claims_file
from store.db import create_schema
from store.models import JobRun, Task
from tests.cli_support import Ran, portal_worker
from tests.conftest import Workspace
from worker.clock import aware, utcnow
from worker.runtime.service import Worker

# Every job fires every 1.2 s, so a simulated day needs seconds, not hours.
COMPRESSED = """
[run]
runners = 2
batch_size = 10
poll_seconds = 0.2
heartbeat_seconds = 0.5
lease_seconds = 30
max_attempts = 8
retry_base_seconds = 1
retry_max_seconds = 2
stop_timeout_seconds = 30

[check]
backoff_minutes = 0.02
max_backoff_minutes = 0.05

[schedule.claims]
interval_minutes = 0.02
jitter_seconds = 0
[schedule.remittances]
enabled = false
[schedule.auths]
enabled = false
[schedule.enrollments]
enabled = false
[schedule.purge]
enabled = false
"""


@dataclass
class PortalClock:
    """The practice's clock in tests: the fake portal's time, read as the practice's local time."""

    portal: RunningPortal
    start: datetime  # naive, as the fake portal reports it
    tz: object
    offset: timedelta = field(default=timedelta())

    def __call__(self) -> datetime:
        return (self.start + self.offset).replace(tzinfo=self.tz).astimezone(UTC)  # type: ignore[arg-type]

    def advance(self, *, days: float = 0, hours: float = 0) -> None:
        self.portal.admin("clock", {"days": days, "hours": hours})
        self.offset += timedelta(days=days, hours=hours)


def portal_clock(ws: Workspace) -> PortalClock:
    return PortalClock(ws.portal, datetime.combine(ws.truth.start, time(12, 0)), ws.settings.worker.tzinfo)


def configure(ws: Workspace, extra: str = "") -> None:
    ws.config_path.write_text(ws.config_path.read_text() + COMPRESSED + extra)


def import_claims(ws: Workspace) -> None:
    engine = ws.engine
    create_schema(engine)
    import_claims_file(engine, ws.claims_csv, utcnow())


@contextmanager
def running(ws: Workspace, clock: Callable[[], datetime] = utcnow) -> Iterator[Worker]:
    """`portal-worker run` in a thread of this process; stopped (and checked to stop cleanly) at the end."""
    worker = Worker(ws.settings, credentials=ws.credentials, clock=clock)
    exit_codes: list[int] = []
    thread = threading.Thread(target=lambda: exit_codes.append(worker.run()), name="worker-main")
    thread.start()
    try:
        yield worker
    finally:
        worker.request_stop()
        thread.join(120)
    assert not thread.is_alive(), "the worker did not stop"
    assert exit_codes == [0], "the worker did not stop cleanly"


def wait_until(
    condition: Callable[[], bool], what: str, timeout_s: float = 600, explain: Callable[[], str] | None = None
) -> None:
    """Wait for the store to show something; the timeout only guards against a hung test, so it is far
    above what the slowest run needs on a loaded machine with a test process per core.
    `explain` says what the store showed instead, when it times out."""
    done = threading.Event()
    deadline = datetime.now(UTC) + timedelta(seconds=timeout_s)
    while not condition():
        if datetime.now(UTC) > deadline:
            raise AssertionError(f"timed out waiting until {what}" + (f": {explain()}" if explain else ""))
        done.wait(0.2)


def session(ws: Workspace) -> Session:
    return Session(ws.engine, expire_on_commit=False)


def tasks(ws: Workspace, **where: str) -> list[Task]:
    with session(ws) as s:
        statement = select(Task).order_by(col(Task.id))
        for name, value in where.items():
            statement = statement.where(getattr(Task, name) == value)
        return list(s.exec(statement))


def job_ran_since(ws: Workspace, job: str, since: datetime) -> bool:
    """A run of `job` that started after `since` has finished. A run that started before (and so read
    the clock before the test moved it) but finished after does not count: it enqueued yesterday's work."""
    with session(ws) as s:
        run = s.get(JobRun, job)
        if run is None or run.last_started_at is None or run.last_success_at is None:
            return False
        started, succeeded = aware(run.last_started_at), aware(run.last_success_at)
        return since < started <= succeeded


def settled(ws: Workspace, since: datetime, portals: set[str] | None = None) -> bool:
    """The claims job ran after `since` and nothing it enqueued for `portals` is still waiting."""
    if not job_ran_since(ws, "claims", since):
        return False
    return not [t for t in tasks(ws) if t.state in ("queued", "leased") and (portals is None or t.portal in portals)]


# --- `portal-worker run` as a separate process -------------------------------------------

ENTRY = ("-c", "from worker.cli import main; main()")


def start_worker(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`portal-worker run` with this config, its output appended to `log`."""
    env = {**os.environ, "PORTAL_WORKER_CONFIG": str(config)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, *ENTRY, "run"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=config.parent
        )


def cli(config: Path, *args: str) -> Ran:
    """A command beside the worker, in this process (tests/cli_support.py), as a person would run it there."""
    return portal_worker(*args, env={"PORTAL_WORKER_CONFIG": str(config)}, cwd=config.parent)


def browser_tree(worker: subprocess.Popen[bytes]) -> set[int]:
    """Every process the worker started (Playwright's driver, Chromium and its helpers)."""
    try:
        return {child.pid for child in psutil.Process(worker.pid).children(recursive=True)}
    except psutil.Error:
        return set()


def kill_alive(pids: set[int]) -> None:
    """Kill what is left of a killed worker's process tree; a helper may exit on its own meanwhile."""
    for pid in alive(pids):
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                living.add(pid)
        except psutil.Error:
            continue
    return living
