"""Three `portal-worker run` processes, three "hosts" (their own data directories), one PostgreSQL queue.

One of them, the scheduler's holder, is killed with SIGKILL in the middle of a batch. Every claim
is still checked once; no task is worked by two processes at once; no portal account ever has two
sessions open at once; and the scheduler role moves to a live worker.
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from flows.claim_import import import_claims_file
from store.db import create_schema, make_engine
from store.models import Claim, ClaimStatusObservation, JobRun, Task, WorkerHeartbeat
from tests.conftest import Workspace, write_config
from tests.pg_support import fresh_schema, postgres_unreachable, require_postgres
from tests.run_support import COMPRESSED, browser_tree, kill_alive, start_worker, wait_until
from worker.clock import aware, utcnow
from worker.runtime.heartbeat import ROLE, SCHEDULER
from worker.security.credentials import open_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # three real processes

HOSTS = 3


@dataclass
class Host:
    name: str
    config: Path
    log: Path
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None

    def events(self) -> list[dict[str, object]]:
        """The worker's structured log lines (JSON), oldest first."""
        path = self.data_dir / "logs" / "portal-worker.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_postgres(postgres_unreachable())
    with fresh_schema("scale_out") as url:
        yield url


def make_hosts(ws: Workspace, url: str) -> list[Host]:
    # One runner each: three runners for three portal accounts, so every worker gets one.
    run = COMPRESSED.replace("runners = 2", "runners = 1").replace("lease_seconds = 30", "lease_seconds = 8")
    hosts = []
    for n in range(1, HOSTS + 1):
        root = ws.root / f"host-{n}"
        root.mkdir()
        data_dir = root / "data"
        config = root / "portal-worker.toml"
        write_config(config, ws.portal.url, data_dir, f'\n[database]\nurl = "{url}"\n' + run)
        store = open_store(data_dir)  # each host keeps its own encrypted credentials
        for portal in ("summit", "unity", "lakeshore"):
            store.save(portal, ws.default_credentials(portal))
        hosts.append(Host(f"host-{n}", config, root / "worker.log", data_dir))
    return hosts


def test_three_workers_share_one_queue_and_survive_losing_the_scheduler(workspace: Workspace, pg_url: str) -> None:
    engine = make_engine(pg_url)
    create_schema(engine)
    import_claims_file(engine, workspace.claims_csv, utcnow())
    hosts = make_hosts(workspace, pg_url)
    first, others = hosts[0], hosts[1:]
    children: set[int] = set()
    try:
        # The first worker alone takes the scheduler role and a batch; then the others join in.
        first.process = start_worker(first.config, first.log)
        holder = wait_for_scheduler(engine, hosts, exclude=set())
        wait_until(lambda: leased_by(engine, holder) > 0, "the scheduler's holder has a batch in hand")
        for host in others:
            host.process = start_worker(host.config, host.log)
        wait_until(
            lambda: all(leased_by(engine, host) > 0 for host in others) and leased_by(engine, holder) > 0,
            "every worker has a batch in hand",
            explain=lambda: queue_report(engine),
        )
        assert holder.process is not None
        children = browser_tree(holder.process)
        holder.process.send_signal(signal.SIGKILL)
        holder.process.wait(timeout=30)
        killed_at = utcnow()

        successor = wait_for_scheduler(engine, hosts, exclude={holder.name})
        wait_until(lambda: job_started_since(engine, "claims", killed_at), "the new scheduler runs the claims job")
        wait_until(lambda: all_done(engine), "every claim is checked", explain=lambda: queue_report(engine))
        for host in hosts:
            if host is not holder and host.process is not None:
                host.process.send_signal(signal.SIGTERM)
        for host in hosts:
            if host is not holder and host.process is not None:
                assert host.process.wait(timeout=90) == 0, host.log.read_text()[-3000:]
    finally:
        for host in hosts:
            if host.process is not None and host.process.poll() is None:
                host.process.kill()
        kill_alive(children)  # the killed worker's Chromium (a restart on its host would reap it)

    assert successor is not holder
    with Session(engine) as s:
        claims = list(s.exec(select(Claim)))
        observations = list(s.exec(select(ClaimStatusObservation)))
    assert claims and all(c.last_checked_at is not None for c in claims)
    # The fake clock did not move, so one observation per claim: none lost, none recorded twice.
    assert Counter(o.claim_id for o in observations) == Counter({c.claim_id: 1 for c in claims})

    events = {host.name: host.events() for host in hosts}
    no_task_worked_twice_at_once(events, holder.name, killed_at)
    never_two_sessions_for_one_account(events, holder.name, killed_at)
    # Disjoint work: every live process did some of it.
    workers_that_worked = {name for name, lines in events.items() if any(e["event"] == "task_done" for e in lines)}
    assert workers_that_worked >= {h.name for h in hosts if h is not holder}
    engine.dispose()


# --- what the logs prove ---------------------------------------------------------------------------------------


def no_task_worked_twice_at_once(events: dict[str, list[dict[str, object]]], killed: str, killed_at: datetime) -> None:
    """Each task done exactly once; a task started twice was first in the killed worker's hands."""
    done = Counter(e["task"] for lines in events.values() for e in lines if e["event"] == "task_done")
    assert done and all(count == 1 for count in done.values()), done
    starts: dict[object, list[tuple[datetime, str]]] = defaultdict(list)
    for host, lines in events.items():
        for e in lines:
            if e["event"] == "task_started":
                starts[e["task"]].append((stamp(e), host))
    for task, attempts in starts.items():
        attempts.sort()
        for (_, first_host), (second_start, _) in itertools.pairwise(attempts):
            assert first_host == killed and second_start > killed_at, (task, attempts)


def never_two_sessions_for_one_account(
    events: dict[str, list[dict[str, object]]], killed: str, killed_at: datetime
) -> None:
    """Per portal account, each batch's session (context open to close) ends before the next one starts."""
    spans: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for host, lines in events.items():
        opened: dict[object, dict[str, object]] = {}
        for e in lines:
            if e["event"] == "batch_started":
                opened[e["run_id"]] = e
            elif e["event"] in ("batch_finished", "batch_aborted") and e.get("run_id") in opened:
                start = opened.pop(e["run_id"])
                spans[str(start["portal"])].append((stamp(start), stamp(e), host))
        for start in opened.values():  # still open when the process ended
            assert host == killed, f"{host} left a batch open at a clean stop"
            spans[str(start["portal"])].append((stamp(start), killed_at, host))
    assert set(spans) == {"summit", "unity", "lakeshore"}
    for portal, batches in spans.items():
        batches.sort()
        for (_, first_end, first_host), (second_start, _, second_host) in itertools.pairwise(batches):
            assert second_start >= first_end, f"{portal}: {first_host} and {second_host} overlapped"


def stamp(event: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))


# --- reading the shared database -------------------------------------------------------------------------------


def wait_for_scheduler(engine: Engine, hosts: list[Host], exclude: set[str]) -> Host:
    by_pid = {host.process.pid: host for host in hosts if host.process is not None and host.name not in exclude}
    found: list[Host] = []

    def elected() -> bool:
        with Session(engine) as s:
            for beat in s.exec(select(WorkerHeartbeat).where(WorkerHeartbeat.stopped_at == None)):  # noqa: E711
                if beat.detail.get(ROLE) == SCHEDULER and beat.pid in by_pid:
                    found[:] = [by_pid[beat.pid]]
                    return True
        return False

    wait_until(elected, "a live worker holds the scheduler role")
    return found[0]


def leased_by(engine: Engine, host: Host) -> int:
    assert host.process is not None
    with Session(engine) as s:
        beat = s.exec(select(WorkerHeartbeat).where(WorkerHeartbeat.pid == host.process.pid)).first()
        if beat is None:
            return 0
        leased = s.exec(select(Task).where(Task.state == "leased")).all()
        return sum(1 for t in leased if (t.lease_owner or "").startswith(beat.worker_id + "/"))


def done(engine: Engine) -> int:
    with Session(engine) as s:
        return len(s.exec(select(Task).where(Task.state == "done")).all())


def all_done(engine: Engine) -> bool:
    with Session(engine) as s:
        states = {t.state for t in s.exec(select(Task))}
        checked = all(c.last_checked_at is not None for c in s.exec(select(Claim)))
    return states == {"done"} and checked


def queue_report(engine: Engine) -> str:
    with Session(engine) as s:
        tasks = list(s.exec(select(Task)))
    states = Counter((t.portal, t.state) for t in tasks)
    errors = Counter(t.last_error for t in tasks if t.last_error)
    return f"tasks by (portal, state) {dict(states)}; errors {dict(errors)}"


def job_started_since(engine: Engine, job: str, since: datetime) -> bool:
    with Session(engine) as s:
        run = s.get(JobRun, job)
        return run is not None and run.last_started_at is not None and aware(run.last_started_at) > since
