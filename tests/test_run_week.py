"""`run` for a simulated week: the schedule fires, the fake clock moves, claims adjudicate, nothing twice."""

from __future__ import annotations

import functools
import itertools
import json
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import col, select

from store.models import Claim, ClaimStatusObservation, PortalAccount
from tests.conftest import Workspace
from tests.run_support import configure, import_claims, portal_clock, running, session, settled, tasks, wait_until
from tests.test_check_run import expected_state
from worker.clock import utcnow

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a simulated week

DAYS = 7
# The clearinghouse answers 5% of requests with HTTP 500 on these days. A check takes about four requests,
# so about one in five attempts fails; eight failures in a row (run.max_attempts here) stay out of reach.
FLAKY = {2: 0.05, 3: 0.05}
RATE_LIMITED_DAY = 4
RETRY_AFTER_S = 5  # the commercial portal's own 120 s, compressed like the rest of the week
FINAL = {"paid", "partially_paid", "denied", "rejected"}


def test_a_simulated_week_records_every_claims_final_state_once(workspace: Workspace) -> None:
    configure(workspace)
    import_claims(workspace)
    clock = portal_clock(workspace)
    requests_before = workspace.portal.admin("state")["requests"]

    with running(workspace, clock):
        for day in range(DAYS + 1):
            workspace.portal.admin("faults/clearinghouse", {"error_rate": FLAKY.get(day, 0.0)})
            workspace.portal.admin(
                "faults/commercial", {"rate_limited": day == RATE_LIMITED_DAY, "retry_after_s": RETRY_AFTER_S}
            )
            if day:
                clock.advance(days=1)
            mark = utcnow()
            if day == RATE_LIMITED_DAY:  # the commercial portal says 429 until the worker backs off
                wait_until(lambda: pauses(workspace, "unity") > 0, "the rate-limited portal is paused")
                workspace.portal.admin("faults/commercial", {"rate_limited": False})
            wait_until(functools.partial(settled, workspace, mark), f"day {day}'s checks are done")

    today = workspace.truth.start + timedelta(days=DAYS)
    with session(workspace) as s:
        claims = {c.claim_id: c for c in s.exec(select(Claim))}
        observations = list(s.exec(select(ClaimStatusObservation).order_by(col(ClaimStatusObservation.id))))
        accounts = list(s.exec(select(PortalAccount)))
    for claim_id, truth in workspace.truth.claims.items():
        assert claims[claim_id].status == expected_state(truth, today), claim_id
    history: dict[str, list[str]] = {}
    for observation in observations:
        history.setdefault(observation.claim_id, []).append(observation.status)
    for claim_id, states in history.items():
        assert all(a != b for a, b in itertools.pairwise(states)), f"{claim_id} recorded twice: {states}"
        assert states.count(claims[claim_id].status) == 1, claim_id
    # Paid claims were never asked about again; every task ended done.
    all_tasks = tasks(workspace)
    assert {t.state for t in all_tasks} == {"done"}
    per_claim = Counter(t.target for t in all_tasks)
    for claim_id in claims:
        if history.get(claim_id, [None])[0] == "paid":
            assert per_claim[claim_id] == 1, claim_id
    assert all(a.state == "active" and a.consecutive_failures == 0 for a in accounts)
    retries = sum(t.attempts - 1 for t in all_tasks)
    assert retries > 0 and pauses(workspace, "unity") >= 1

    requests_after = workspace.portal.admin("state")["requests"]
    pages = sum(requests_after.values()) - sum(requests_before.values())
    resolved = sum(1 for c in claims.values() if c.status in FINAL)
    figures = {
        "days": DAYS,
        "claims": len(claims),
        "tasks_run": len(all_tasks),
        "retries": retries,
        "portal_pauses": sum(a.pauses for a in accounts),
        "pages_loaded": pages,
        "claims_resolved": resolved,
        "pages_per_claim_resolved": round(pages / max(resolved, 1), 1),
    }
    print("simulated week:", json.dumps(figures))


def pauses(ws: Workspace, portal: str) -> int:
    with session(ws) as s:
        account = s.get(PortalAccount, portal)
        return account.pauses if account else 0
