"""A killed `check` is marked interrupted by the next `check`, `run` or `status` on its host, and only then:
never another host's run, never a live one, never a finished one, and not a process that got its pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import psutil
import pytest
from sqlmodel import select

from store.db import create_schema, session_scope
from store.models import CheckRun
from store.runs import finish_run, start_run
from tests.cli_support import ENTRY_POINT
from tests.conftest import Workspace
from tests.run_support import browser_tree, cli, import_claims, kill_alive, running, session, tasks, wait_until
from worker.clock import utcnow
from worker.runtime.check_runs import this_process

OTHER_HOST = "billing-02.example.internal"


@dataclass(frozen=True)
class Ended:
    """A process of this host that has ended: its pid and its start time."""

    pid: int
    started: float


def an_ended_process() -> Ended:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    started = psutil.Process(child.pid).create_time()
    child.communicate(b"")
    return Ended(child.pid, started)


def record(ws: Workspace, run_id: str, host: str, pid: int, started: float, *, finished: bool = False) -> None:
    create_schema(ws.engine)
    with session_scope(ws.engine) as s:
        start_run(s, run_id, utcnow() - timedelta(minutes=5), host=host, pid=pid, process_started=started)
    if finished:
        with session_scope(ws.engine) as s:
            finish_run(s, run_id, utcnow(), [])


def run_of(ws: Workspace, run_id: str) -> CheckRun:
    with session(ws) as s:
        run = s.get(CheckRun, run_id)
        assert run is not None
        return run


def test_status_marks_only_this_hosts_dead_unfinished_checks_interrupted(workspace: Workspace) -> None:
    me, ended = this_process(), an_ended_process()
    record(workspace, "dead-here", me.host, ended.pid, ended.started)
    record(workspace, "dead-elsewhere", OTHER_HOST, ended.pid, ended.started)
    record(workspace, "alive-here", me.host, me.pid, me.started)
    record(workspace, "finished-here", me.host, ended.pid, ended.started, finished=True)
    # This process's pid, but a process that started an hour before it: a pid reused since that run.
    record(workspace, "pid-reused", me.host, me.pid, me.started - 3600)

    done = cli(workspace.config_path, "status")

    assert done.returncode == 0, done.stderr
    assert run_of(workspace, "dead-here").interrupted_at is not None
    assert run_of(workspace, "pid-reused").interrupted_at is not None
    assert run_of(workspace, "dead-elsewhere").interrupted_at is None
    assert run_of(workspace, "alive-here").interrupted_at is None
    finished = run_of(workspace, "finished-here")
    assert finished.interrupted_at is None and finished.finished_at is not None
    table = done.stdout[done.stdout.index("Recent checks") :]
    assert table.count("interrupted") == 2
    assert table.count("running") == 2  # the live one, and the other host's, which only that host can judge
    assert "finished" in table


def test_the_next_check_marks_a_dead_check_interrupted(workspace: Workspace) -> None:
    me, ended = this_process(), an_ended_process()
    record(workspace, "killed-earlier", me.host, ended.pid, ended.started)

    cli(workspace.config_path, "check", "--what", "auths")  # no auths imported: nothing for a browser to do

    assert run_of(workspace, "killed-earlier").interrupted_at is not None
    with session(workspace) as s:
        newest = max(s.exec(select(CheckRun)).all(), key=lambda run: run.started_at)
    assert (newest.host, newest.pid, newest.interrupted_at) == (me.host, me.pid, None)
    assert newest.finished_at is not None


@pytest.mark.browser  # `run` starts its runners' Chromium
def test_run_marks_a_dead_check_interrupted_when_it_starts(workspace: Workspace) -> None:
    me, ended = this_process(), an_ended_process()
    record(workspace, "killed-before-run", me.host, ended.pid, ended.started)
    with running(workspace):
        wait_until(lambda: run_of(workspace, "killed-before-run").interrupted_at is not None, "run marked it")


@pytest.mark.slow  # `portal-worker check` as a real process, killed with SIGKILL
@pytest.mark.browser
def test_a_check_killed_with_sigkill_shows_as_interrupted_in_status(workspace: Workspace) -> None:
    import_claims(workspace)
    workspace.portal.admin("faults/medicaid", {"latency_ms": 300})  # the check is surely mid-way at the kill
    check = subprocess.Popen(
        [str(ENTRY_POINT), "check"],
        env={**os.environ, "PORTAL_WORKER_CONFIG": str(workspace.config_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workspace.root,
    )
    tree: set[int] = set()
    try:
        wait_until(
            lambda: Counter(t.state for t in tasks(workspace))["done"] >= 1, "the check is in the middle of its work"
        )
        tree = browser_tree(check)
        check.send_signal(signal.SIGKILL)
        check.wait(timeout=30)
    finally:
        if check.poll() is None:
            check.kill()
        kill_alive(tree)  # nothing reaps a SIGKILLed check's Chromium here: the test does
    with session(workspace) as s:
        (killed,) = s.exec(select(CheckRun)).all()
    assert killed.pid == check.pid and killed.finished_at is None and killed.interrupted_at is None

    done = cli(workspace.config_path, "status")

    assert done.returncode == 0, done.stderr
    assert run_of(workspace, killed.id).interrupted_at is not None
    recent = done.stdout[done.stdout.index("Recent checks") :]
    assert "interrupted" in recent and str(check.pid) in recent
