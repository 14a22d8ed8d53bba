"""The lease fence: a runner asks before each portal request whether it still holds its account lease.

First in one process, through real Chromium against the fake portal, with the fence's clock in the
test's hands. Then as it happens under load, with real processes: `portal-worker run` is frozen
(SIGSTOP) past its lease in the middle of a batch, a second worker takes the account over and
signs in, the first is resumed (SIGCONT), and the fake portal shows that the first worker's
session never made another request.
"""

from __future__ import annotations

import csv
import json
import signal
import sqlite3
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from playwright.sync_api import Browser
from sqlmodel import Session, col, select

from fake_portal.data import generate
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from flows.claim_import import import_claims_file
from portals.base import Timeouts
from portals.errors import PortalUnavailable
from portals.lakeshore_medicaid import LakeshoreMedicaidAdapter
from portals.types import ClaimQuery, Credentials
from store.db import create_schema, make_engine, session_scope
from store.models import AccountLease, Claim, ClaimStatusObservation, Task
from store.tasks import enqueue, lease_batch
from tests.conftest import Workspace
from tests.run_support import COMPRESSED, alive, browser_tree, start_worker, wait_until
from worker.clock import utcnow
from worker.runtime.browser import account_context
from worker.runtime.fence import LeaseFence, LeaseLost
from worker.security.credentials import open_store

MEDICAID = next(a for a in DEFAULT_ACCOUNTS if a.portal == "medicaid")
LEASE_FOR = timedelta(minutes=5)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def medicaid_sessions(portal: RunningPortal) -> list[dict[str, Any]]:
    return [s for s in portal.admin("sessions")["sessions"] if s["portal"] == "medicaid"]


def portal_requests(portal: RunningPortal) -> int:
    return int(portal.admin("state")["requests"]["medicaid"])


@pytest.mark.browser
def test_the_fence_asks_the_database_only_near_expiry_and_refuses_every_request_once_taken_over(
    browser: Browser, fake_portal: RunningPortal, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fence.db'}")
    create_schema(engine)
    claim = next(iter(generate(seed=7, start=date(2026, 11, 2)).claims_for({"LSM"})))
    start = utcnow()
    with session_scope(engine) as session:
        enqueue(session, kind="claim_status", portal="lakeshore", target=claim.claim_id, reason="due", now=start)
        lease = lease_batch(session, owner="host-1/runner-1", now=start, lease_for=LEASE_FOR, limit=5)
    assert lease is not None
    clock = Clock(start)
    fence = LeaseFence(engine, lease, lease_for=LEASE_FOR, recheck_s=3600, clock=clock)
    query = ClaimQuery(
        claim_id=claim.claim_id,
        payer_id=claim.payer_id,
        member_id=claim.member_id,
        dos_from=claim.dos_from,
        dos_to=claim.dos_to,
        billed_amount=claim.billed,
        rendering_npi=claim.rendering_npi,
    )
    credentials = Credentials(
        MEDICAID.username, MEDICAID.password, None, {str(MEDICAID.security_question): str(MEDICAID.security_answer)}
    )

    with account_context(browser, None) as context:
        fence.guard(context)
        adapter = LakeshoreMedicaidAdapter(
            context.new_page(),
            portal="lakeshore",
            credentials=credentials,
            base_url=f"{fake_portal.url}/medicaid",
            timeouts=Timeouts(element_ms=3000),
        )
        adapter.before_fetch = fence.ensure_held
        adapter.ensure_logged_in()
        assert adapter.claim_status(query).claim_id == claim.claim_id
        assert fence.database_checks == 0  # most of the lease left: the known expiry answers

        clock.now = start + timedelta(minutes=3)  # less than half of it left: the database, which extends it
        adapter.claim_status(query)
        assert fence.database_checks == 1 and fence.expires_at == clock.now + LEASE_FOR
        with Session(engine) as s:
            held = s.get(AccountLease, "lakeshore")
            assert held is not None and held.expires_at == clock.now + LEASE_FOR

        # The runner stalls past its lease; another host takes the account over.
        clock.now = fence.expires_at + timedelta(minutes=1)
        with session_scope(engine) as session:
            successor = lease_batch(session, owner="host-2/runner-1", now=clock.now, lease_for=LEASE_FOR, limit=5)
        assert successor is not None and successor.generation == lease.generation + 1
        [session_before] = medicaid_sessions(fake_portal)
        requests_before = portal_requests(fake_portal)

        with pytest.raises(PortalUnavailable, match="ERR_BLOCKED_BY_CLIENT"):
            adapter.claim_status(query)
        assert fence.lost
        with pytest.raises(LeaseLost):  # a download outside the page is refused too
            adapter.fetch(f"{fake_portal.url}/medicaid/", timeout=3000)
        with pytest.raises(LeaseLost):
            fence.ensure_held()
        checks = fence.database_checks
        with pytest.raises(PortalUnavailable):
            adapter.claim_status(query)
        assert fence.database_checks == checks  # once lost, lost: no more queries

    assert medicaid_sessions(fake_portal) == [session_before]
    assert portal_requests(fake_portal) == requests_before
    with Session(engine) as s:
        held = s.get(AccountLease, "lakeshore")
        assert held is not None and (held.owner, held.generation) == ("host-2/runner-1", successor.generation)
    engine.dispose()


# --- with real processes: freeze one worker past its lease ----------------------------------------------------

LEASE_S = 8  # short, so the frozen worker loses it soon, but longer than a page on a loaded machine
CLAIMS = 6  # Lakeshore claims: enough for a batch that lasts, few enough for a short test


@dataclass
class Host:
    name: str
    config: Path
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def events(self) -> list[dict[str, Any]]:
        path = self.data_dir / "logs" / "portal-worker.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]

    def logged(self, event: str, since: datetime | None = None, **fields: object) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events()
            if e["event"] == event
            and all(e.get(k) == v for k, v in fields.items())
            and (since is None or stamp(e) > since)
        ]


def stamp(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))


def make_host(ws: Workspace, name: str, database: Path) -> Host:
    """A worker "host" with its own data directory and credentials, on the shared database, Lakeshore only."""
    root = ws.root / name
    data_dir = root / "data"
    root.mkdir()
    run = COMPRESSED.replace("runners = 2", "runners = 1").replace("lease_seconds = 30", f"lease_seconds = {LEASE_S}")
    config = root / "portal-worker.toml"
    # Long timeouts: a frozen worker picks up where it stopped, as a starved one does; with short ones the
    # step in hand would time out on resume (Playwright's own timers ran on) and the task would fail by itself.
    config.write_text(
        f'[worker]\ndata_dir = "{data_dir}"\n\n'
        "[browser]\nnavigation_timeout_s = 600\nelement_timeout_s = 600\n\n"
        f'[database]\nurl = "sqlite:///{database}"\n\n'
        f'[portals.lakeshore]\nadapter = "lakeshore_medicaid"\nbase_url = "{ws.portal.url}/medicaid"\n'
        f'payers = ["LSM"]\n' + run
    )
    open_store(data_dir).save("lakeshore", ws.default_credentials("lakeshore"))
    return Host(name, config, data_dir, root / "worker.log")


def lakeshore_claims(ws: Workspace, count: int) -> Path:
    """The practice's export cut down to its first `count` Lakeshore Medicaid claims."""
    with ws.claims_csv.open(newline="") as source:
        reader = csv.DictReader(source)
        rows = [row for row in reader if row["payer_id"] == "LSM"][:count]
        assert reader.fieldnames is not None and len(rows) == count
    path = ws.root / "lakeshore-claims.csv"
    with path.open("w", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=reader.fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    return path


def lakeshore_lease(database: Path) -> AccountLease | None:
    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as s:
            return s.get(AccountLease, "lakeshore")
    finally:
        engine.dispose()


def lakeshore_tasks(database: Path) -> list[Task]:
    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as s:
            return list(s.exec(select(Task).where(col(Task.portal) == "lakeshore")))
    finally:
        engine.dispose()


def queue_report(database: Path) -> str:
    return str(Counter((t.state, t.attempts, t.last_error) for t in lakeshore_tasks(database)))


def nobody_writing(database: Path) -> bool:
    """Whether the database's write lock is free (a process frozen inside a transaction would keep it)."""
    probe = sqlite3.connect(database, timeout=0.5, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def requests_by_session(portal: RunningPortal, numbers: set[int]) -> dict[int, tuple[int, int]]:
    """(requests, of which after the session ended) for each session number asked for."""
    return {s["number"]: (s["requests"], s["after_end"]) for s in medicaid_sessions(portal) if s["number"] in numbers}


def moved_on(portal: RunningPortal, requests: int) -> Callable[[], bool]:
    return lambda: sum(s["requests"] for s in medicaid_sessions(portal)) > requests


def freeze_between_transactions(process: subprocess.Popen[bytes], database: Path, portal: RunningPortal) -> None:
    """SIGSTOP the worker's Python process (its Chromium and driver run on) at a moment it holds no database
    lock: one frozen inside a transaction would block every other host, which is not the case under test."""
    for _ in range(20):
        process.send_signal(signal.SIGSTOP)
        wait_until(lambda: psutil.Process(process.pid).status() == psutil.STATUS_STOPPED, "the worker is frozen")
        if nobody_writing(database):
            return
        process.send_signal(signal.SIGCONT)
        wait_until(moved_on(portal, sum(s["requests"] for s in medicaid_sessions(portal))), "the worker moves on")
    raise AssertionError("the worker was inside a transaction at every try")


@pytest.mark.browser
@pytest.mark.slow
def test_a_worker_frozen_past_its_lease_makes_no_portal_request_after_another_host_took_the_account(
    workspace: Workspace, tmp_path: Path
) -> None:
    database = tmp_path / "shared.db"
    engine = make_engine(f"sqlite:///{database}")
    create_schema(engine)
    import_claims_file(engine, lakeshore_claims(workspace, CLAIMS), utcnow())
    engine.dispose()
    workspace.portal.admin("faults/medicaid", {"latency_ms": 300})  # a slow portal: the batch lasts
    first, second = make_host(workspace, "host-1", database), make_host(workspace, "host-2", database)
    trees: set[int] = set()
    try:
        first.process = start_worker(first.config, first.log)
        wait_until(
            lambda: (
                any(s["requests"] >= 5 and s["live"] for s in medicaid_sessions(workspace.portal))
                and len(first.logged("task_done")) >= 1
            ),
            "host-1 is working a batch",
            timeout_s=240,
        )
        trees |= browser_tree(first.process)

        freeze_between_transactions(first.process, database, workspace.portal)
        frozen = lakeshore_lease(database)
        assert frozen is not None and frozen.owner and frozen.expires_at is not None
        assert [t for t in lakeshore_tasks(database) if t.state == "leased"], "frozen in the middle of its batch"
        first_sessions = {s["number"] for s in medicaid_sessions(workspace.portal)}
        wait_until(lambda: utcnow() > frozen.expires_at, "host-1's lease expired")  # type: ignore[operator]

        second.process = start_worker(second.config, second.log)
        wait_until(
            lambda: len(second.logged("task_done")) >= 1, "host-2 took the account over and works it", timeout_s=240
        )
        taken = lakeshore_lease(database)
        assert taken is not None and taken.owner != frozen.owner and taken.generation > frozen.generation
        assert not any(s["live"] for s in medicaid_sessions(workspace.portal) if s["number"] in first_sessions)
        before_resume = requests_by_session(workspace.portal, first_sessions)
        trees |= browser_tree(second.process)

        resumed_at = utcnow()
        first.process.send_signal(signal.SIGCONT)
        wait_until(
            lambda: bool(first.logged("batch_finished", since=resumed_at, lease_lost=True)),
            "host-1 saw that it lost the lease",
            explain=lambda: str(first.events()[-5:]),
        )
        # The point: host-1's session asked the portal nothing more once it was resumed.
        assert requests_by_session(workspace.portal, first_sessions) == before_resume
        wait_until(
            lambda: {t.state for t in lakeshore_tasks(database)} == {"done"},
            "every claim is checked",
            timeout_s=240,
            explain=lambda: queue_report(database),
        )

        for host in (first, second):
            assert host.process is not None
            host.process.send_signal(signal.SIGTERM)
        for host in (first, second):
            assert host.process is not None
            assert host.process.wait(timeout=90) == 0, host.log.read_text()[-3000:]
    finally:
        for host in (first, second):
            if host.process is not None and host.process.poll() is None:
                host.process.send_signal(signal.SIGCONT)
                host.process.kill()
    assert not alive(trees), "a Chromium or driver outlived its worker"

    assert requests_by_session(workspace.portal, first_sessions) == before_resume  # nor later, to its stop
    # Nothing lost, nothing recorded twice: every claim checked, one observation each, each task done once.
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as s:
        claims = list(s.exec(select(Claim)))
        observations = list(s.exec(select(ClaimStatusObservation)))
    engine.dispose()
    assert len(claims) == CLAIMS and all(c.last_checked_at is not None for c in claims)
    assert Counter(o.claim_id for o in observations) == Counter({c.claim_id: 1 for c in claims})
    done = Counter(e["task"] for host in (first, second) for e in host.logged("task_done"))
    assert set(done.values()) == {1} and len(done) == len(lakeshore_tasks(database))
    assert second.logged("task_done"), "host-2 did the rest"
