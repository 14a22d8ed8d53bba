"""Politeness under `run`: a portal's pace holds between any two tasks on it, whichever runner does them.

The other tests run without pacing (tests/conftest.py write_config); this one sets a pace on every
portal and reads when each task started from the worker's own log.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import structlog

from store.db import session_scope
from store.tasks import enqueue
from tests.conftest import PAYERS_OF, Workspace
from tests.run_support import configure, import_claims, running, tasks, wait_until
from worker import logs
from worker.clock import utcnow

pytestmark = pytest.mark.browser

# Longer than two runners take to come back to a portal unpaced (about a second and a half here), so the
# gaps below are the pace's doing.
PACE_S = 4.0
# The log line of a task's start is written a moment after the pace's own timestamp (a commit between).
LOG_LAG_S = 0.5
TASKS_PER_PORTAL = 3


def enqueue_in_turns(ws: Workspace) -> None:
    """Claim checks for every portal, oldest first in turns (unity, lakeshore, summit, unity, ...): with one
    task per batch, a runner that finishes one moves to the free portal whose turn is oldest, so the two
    runners hand each portal to each other."""
    claims = {
        portal: [c.claim_id for c in ws.truth.claims.values() if c.payer_id in payers][:TASKS_PER_PORTAL]
        for portal, payers in PAYERS_OF.items()
    }
    start = utcnow() - timedelta(minutes=1)
    with session_scope(ws.engine) as s:
        for turn in range(TASKS_PER_PORTAL):
            for order, portal in enumerate(("unity", "lakeshore", "summit")):
                at = start + timedelta(milliseconds=10 * (3 * turn + order))
                assert enqueue(
                    s,
                    kind="claim_status",
                    portal=portal,
                    target=claims[portal][turn],
                    reason="due",
                    now=at,
                    not_before=at,
                )


def task_starts(log: Path) -> dict[str, list[tuple[datetime, str]]]:
    """Per portal: when each task started and on which runner, in order."""
    starts: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for line in log.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "task_started":
            at = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
            starts[event["portal"]].append((at, event["runner"]))
    return {portal: sorted(started) for portal, started in starts.items()}


def test_the_pace_holds_between_tasks_whichever_runner_does_them(workspace: Workspace, tmp_path: Path) -> None:
    configure(workspace)
    text = workspace.config_path.read_text().replace("pace_seconds = 0\n", f"pace_seconds = {PACE_S}\n")
    text = text.replace("batch_size = 10", "batch_size = 1")  # two runners, one task per batch: they take turns
    text = text.replace("[schedule.claims]\ninterval_minutes = 0.02\n", "[schedule.claims]\nenabled = false\n")
    workspace.config_path.write_text(text)
    assert workspace.settings.run.runners == 2
    import_claims(workspace)
    enqueue_in_turns(workspace)
    log = tmp_path / "run.jsonl"
    logs.configure("info", log_file=log)
    try:
        with running(workspace):
            wait_until(lambda: all(t.state == "done" for t in tasks(workspace)), "every task is done")
    finally:
        structlog.reset_defaults()

    starts = task_starts(log)
    assert set(starts) == {"summit", "unity", "lakeshore"}
    handed_over = [
        portal for portal, started in starts.items() if any(a[1] != b[1] for a, b in itertools.pairwise(started))
    ]
    assert handed_over, f"no portal went from one runner to the other: {starts}"
    for portal, started in starts.items():
        assert len(started) >= TASKS_PER_PORTAL, (portal, started)
        gaps = [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(started)]
        assert min(gaps) >= PACE_S - LOG_LAG_S, f"{portal}: tasks started {gaps} s apart; the pace is {PACE_S} s"
