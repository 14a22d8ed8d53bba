"""`portal-worker run` as the process systemd starts: SIGTERM stops it cleanly, kill -9 loses nothing."""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from store.models import AccountLease, Claim, ClaimStatusObservation, WorkerHeartbeat
from tests.conftest import Workspace
from tests.run_support import (
    alive,
    browser_tree,
    cli,
    configure,
    import_claims,
    running,
    session,
    start_worker,
    tasks,
    wait_until,
)
from worker.clock import utcnow
from worker.runtime.evidence import evidence_dir

pytestmark = pytest.mark.browser


def working(ws: Workspace) -> bool:
    states = Counter(t.state for t in tasks(ws))
    return states["done"] >= 3 and states["leased"] > 0


def run_config(ws: Workspace) -> None:
    configure(ws)
    text = ws.config_path.read_text().replace("lease_seconds = 30", "lease_seconds = 8")
    # Slow the legacy portal so the batch is surely in hand when the signal comes.
    ws.config_path.write_text(text)
    ws.portal.admin("faults/medicaid", {"latency_ms": 300})


@pytest.mark.slow  # `portal-worker run` as a real process
def test_sigterm_finishes_the_page_in_hand_releases_leases_and_leaves_no_chromium(
    workspace: Workspace, tmp_path: Path
) -> None:
    run_config(workspace)
    import_claims(workspace)
    worker = start_worker(workspace.config_path, tmp_path / "worker.log")
    try:
        wait_until(lambda: working(workspace), "the worker is in the middle of its batches")
        seen = browser_tree(worker)
        assert cli(workspace.config_path, "status", "--check").returncode == 0
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=90) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        if worker.poll() is None:
            worker.kill()
    assert seen and not alive(seen), "Chromium or its driver outlived the worker"
    assert not [t for t in tasks(workspace) if t.state == "leased"]
    with session(workspace) as s:
        assert all(lease.owner is None for lease in s.exec(select(AccountLease)))
        assert all(beat.stopped_at is not None for beat in s.exec(select(WorkerHeartbeat)))
    stopped = cli(workspace.config_path, "status", "--check")
    assert stopped.returncode == 1 and "no worker is running" in stopped.stderr


@pytest.mark.slow  # `portal-worker run` as a real process
def test_kill_9_mid_batch_then_restart_completes_every_claim_once(workspace: Workspace, tmp_path: Path) -> None:
    run_config(workspace)
    import_claims(workspace)
    log = tmp_path / "worker.log"
    first = start_worker(workspace.config_path, log)
    try:
        wait_until(lambda: working(workspace), "the first worker is in the middle of its batches")
        first_tree = browser_tree(first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert [t for t in tasks(workspace) if t.state == "leased"], "the kill came mid-batch"

    second = start_worker(workspace.config_path, log)
    try:
        wait_until(lambda: all(t.state == "done" for t in tasks(workspace)), "the restarted worker finished")
        second_tree = browser_tree(second)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=90) == 0, log.read_text()[-3000:]
    finally:
        if second.poll() is None:
            second.kill()
    assert not alive(first_tree | second_tree), "a Chromium from the killed worker was left behind"

    with session(workspace) as s:
        claims = list(s.exec(select(Claim)))
        observations = list(s.exec(select(ClaimStatusObservation)))
    assert all(c.last_checked_at is not None for c in claims)
    # The fake clock did not move, so each claim has exactly one observation: none lost, none twice.
    assert Counter(o.claim_id for o in observations) == Counter({c.claim_id: 1 for c in claims})
    taken_over = [t for t in tasks(workspace) if t.attempts > 1]
    assert taken_over, "some task was in hand at the kill and was taken over after the restart"


@pytest.mark.slow  # `portal-worker run` as a real process
def test_a_page_that_hangs_at_sigterm_is_cut_off_and_the_stop_is_reported(workspace: Workspace, tmp_path: Path) -> None:
    """A runner that cannot finish its page: after run.stop_timeout_seconds its browser is killed, its
    tasks go back to the queue, and the worker exits 1 (a forced stop) instead of waiting on the page."""
    configure(workspace)
    text = workspace.config_path.read_text().replace("stop_timeout_seconds = 30", "stop_timeout_seconds = 2")
    # The browser would wait for the hanging page far longer than the test runs.
    text = text.replace("element_timeout_s = 3", "element_timeout_s = 900\nnavigation_timeout_s = 900")
    # Paced, so no page is asked for ahead (claim_listing.py): a request in flight is then one a runner waits on,
    # not the next claim's page, which a runner stopping after its current claim never waits for.
    workspace.config_path.write_text(text.replace("pace_seconds = 0\n", "pace_seconds = 0.05\n"))
    import_claims(workspace)
    log = tmp_path / "worker.log"
    worker = start_worker(workspace.config_path, log)
    try:
        wait_until(lambda: working(workspace), "the worker is in the middle of its batches")
        for portal in HANGING:  # every page from now on takes ten minutes to answer
            workspace.portal.admin(f"faults/{portal}", {"latency_ms": 600_000})
        wait_until(
            lambda: sum(workspace.portal.admin("state")["in_flight"].values()) > 0,
            "a runner is waiting on a page that hangs",
        )
        seen = browser_tree(worker)
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=120)  # a guard far below the page's ten minutes, not a speed figure
    finally:
        if worker.poll() is None:
            worker.kill()
        for portal in HANGING:
            workspace.portal.admin(f"faults/{portal}", {"latency_ms": 0})
    assert code == 1, log.read_text()[-3000:]
    events = (workspace.settings.worker.data_dir / "logs" / "portal-worker.jsonl").read_text()
    assert "runner_stuck_at_stop" in events
    assert seen and not alive(seen), "Chromium outlived the forced stop"
    assert not [t for t in tasks(workspace) if t.state == "leased"], "a stuck runner's tasks were not handed back"
    with session(workspace) as s:
        assert all(lease.owner is None for lease in s.exec(select(AccountLease)))
        assert all(beat.stopped_at is not None for beat in s.exec(select(WorkerHeartbeat)))


HANGING = ("clearinghouse", "commercial", "medicaid")


def test_a_worker_sweeps_its_own_expired_evidence_files(workspace: Workspace) -> None:
    """Each host's worker deletes its evidence past the retention itself (the purge job reaches one host)."""
    configure(workspace)
    text = workspace.config_path.read_text().replace("[schedule.purge]\nenabled = false\n", "")
    workspace.config_path.write_text(text)
    folder = evidence_dir(workspace.settings.worker.data_dir) / "unity"
    folder.mkdir(parents=True)
    expired, kept = folder / "PW-1-expired.html", folder / "PW-2-kept.html"
    for path, age_days in ((expired, workspace.settings.evidence.retention_days + 1), (kept, 1)):
        path.write_text("<html></html>")
        written = (utcnow() - timedelta(days=age_days)).timestamp()
        os.utime(path, (written, written))

    with running(workspace):
        wait_until(lambda: not expired.exists(), "the worker swept the expired evidence file")
    assert kept.exists()
