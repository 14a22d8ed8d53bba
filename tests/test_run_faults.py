"""`run` against a misbehaving fake portal: what the worker does for each fault, and that the others go on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from store.models import Evidence, Finding, FlowPause, PortalAccount
from tests.conftest import Workspace
from tests.run_support import (
    configure,
    import_claims,
    portal_clock,
    running,
    session,
    settled,
    tasks,
    wait_until,
)
from worker.clock import aware, utcnow

pytestmark = pytest.mark.browser


def account(ws: Workspace, portal: str) -> PortalAccount:
    with session(ws) as s:
        found = s.get(PortalAccount, portal)
        assert found is not None, portal
        return found


def paused(ws: Workspace, portal: str) -> bool:
    with session(ws) as s:
        found = s.get(PortalAccount, portal)
        return found is not None and found.pauses >= 1


def done_everywhere_but(ws: Workspace, portal: str) -> bool:
    others = {t.portal for t in tasks(ws)} - {portal}
    return bool(others) and all(t.state == "done" for t in tasks(ws) if t.portal in others)


def failed_logins(ws: Workspace, prefix: str) -> int:
    state = ws.portal.admin("state")
    return next(
        int(a["failed_logins"]) for a in state["accounts"] if a["portal"] == prefix and a["username"] == "demo.biller"
    )


def test_server_errors_trip_the_circuit_breaker_and_the_other_portals_go_on(workspace: Workspace) -> None:
    configure(workspace)
    import_claims(workspace)
    workspace.portal.admin("faults/clearinghouse", {"error_rate": 1.0})

    with running(workspace):
        wait_until(lambda: done_everywhere_but(workspace, "summit"), "unity and lakeshore are done")
        wait_until(lambda: account(workspace, "summit").pauses >= 1, "summit is paused")

    summit = account(workspace, "summit")
    assert summit.consecutive_failures >= 3 and "HTTP 500" in (summit.last_error or "")
    assert summit.unavailable_until is not None
    summit_tasks = tasks(workspace, portal="summit")
    # Retried later, not given up on and not done: the breaker stopped the hammering.
    assert {t.state for t in summit_tasks} == {"queued"}
    assert sum(t.attempts for t in summit_tasks) >= 3 and all(
        t.last_error is None or "HTTP 500" in t.last_error for t in summit_tasks
    )


def test_a_429_pauses_that_portal_for_at_least_its_retry_after_and_the_others_go_on(workspace: Workspace) -> None:
    configure(workspace)
    import_claims(workspace)
    workspace.portal.admin("faults/commercial", {"rate_limited": True})
    started = utcnow()

    with running(workspace):
        wait_until(lambda: paused(workspace, "unity"), "unity is paused")
        asked = workspace.portal.admin("state")["requests"]["commercial"]
        wait_until(lambda: done_everywhere_but(workspace, "unity"), "summit and lakeshore are done")
        # Paused, not hammered: nothing more reached the portal while the others finished.
        assert workspace.portal.admin("state")["requests"]["commercial"] == asked

    unity = account(workspace, "unity")
    assert "429" in (unity.last_error or "") and unity.unavailable_until is not None
    assert aware(unity.unavailable_until) >= started + timedelta(seconds=120)  # the portal's Retry-After
    unity_tasks = tasks(workspace, portal="unity")
    # One attempt on one task, then back to the queue: nothing given up on, nothing done.
    assert {t.state for t in unity_tasks} == {"queued"} and sum(t.attempts for t in unity_tasks) == 1


def test_a_wrong_password_stops_the_account_without_retrying_it(workspace: Workspace) -> None:
    configure(workspace)
    import_claims(workspace)
    good = workspace.default_credentials("unity")
    workspace.credentials.save("unity", type(good)(good.username, "not-the-password", None, {}))

    with running(workspace):
        wait_until(lambda: done_everywhere_but(workspace, "unity"), "summit and lakeshore are done")
        wait_until(lambda: account(workspace, "unity").state == "needs_attention", "unity needs a person")
        mark = utcnow()
        wait_until(lambda: settled(workspace, mark, {"summit", "lakeshore"}), "a few more scheduler rounds")

    assert failed_logins(workspace, "commercial") == 1  # one strike, never a lockout
    unity = tasks(workspace, portal="unity")
    assert unity and {t.state for t in unity} == {"queued"}  # waiting for the person, not failed
    assert "LoginRejected" in (account(workspace, "unity").attention_reason or "")


def test_a_layout_change_pauses_that_flow_on_that_portal_with_evidence_and_a_finding(workspace: Workspace) -> None:
    configure(workspace)
    import_claims(workspace)
    workspace.portal.admin("faults/medicaid", {"layout": 2})

    with running(workspace):
        wait_until(lambda: done_everywhere_but(workspace, "lakeshore"), "summit and unity are done")
        wait_until(lambda: bool(pauses(workspace)), "the lakeshore claim flow is paused")

    [pause] = pauses(workspace)
    assert (pause.portal, pause.kind) == ("lakeshore", "claim_status")
    assert aware(pause.until) > utcnow() and pause.evidence and Path(pause.evidence).exists()
    with session(workspace) as s:
        finding = s.exec(select(Finding).where(Finding.kind == "layout_changed")).one()
        assert finding.status == "open" and "lakeshore" in finding.message
        assert s.exec(select(Evidence).where(Evidence.portal == "lakeshore")).first() is not None
    assert {t.state for t in tasks(workspace, portal="lakeshore")} == {"queued"}


def test_a_closed_maintenance_window_means_no_login_until_it_opens(workspace: Workspace) -> None:
    # The fake portal's clock reads noon: close lakeshore for the hour around it.
    configure(workspace)
    text = workspace.config_path.read_text().replace(
        'base_url = "' + workspace.portal.url + '/medicaid"',
        'base_url = "' + workspace.portal.url + '/medicaid"\nclosed_hours = ["11:30-12:30"]',
    )
    workspace.config_path.write_text(text)
    import_claims(workspace)
    clock = portal_clock(workspace)
    medicaid_before = workspace.portal.admin("state")["requests"]["medicaid"]

    with running(workspace, clock):
        wait_until(lambda: done_everywhere_but(workspace, "lakeshore"), "summit and unity are done")
        assert workspace.portal.admin("state")["requests"]["medicaid"] == medicaid_before
        clock.advance(hours=1)
        mark = utcnow()
        wait_until(lambda: settled(workspace, mark), "lakeshore is worked once it opens")

    assert {t.state for t in tasks(workspace)} == {"done"}


def test_slow_pages_are_retried_with_backoff_then_parked_with_the_error(workspace: Workspace) -> None:
    configure(workspace)
    text = workspace.config_path.read_text().replace("max_attempts = 8", "max_attempts = 2")
    workspace.config_path.write_text(text.replace("[browser]\n", "[browser]\nnavigation_timeout_s = 1\n"))
    import_claims(workspace)
    workspace.portal.admin("faults/medicaid", {"latency_ms": 3000})

    with running(workspace):
        wait_until(lambda: done_everywhere_but(workspace, "lakeshore"), "summit and unity are done")
        wait_until(
            lambda: any(t.state == "failed" for t in tasks(workspace, portal="lakeshore")), "a lakeshore task is parked"
        )

    parked = [t for t in tasks(workspace, portal="lakeshore") if t.state == "failed"]
    assert all(t.attempts == 2 and t.last_error for t in parked)


def test_session_expiry_during_a_run_logs_in_again_and_loses_nothing(workspace: Workspace) -> None:
    configure(workspace)
    import_claims(workspace)
    workspace.portal.admin("faults/commercial", {"session_ttl_requests": 6})

    with running(workspace):
        mark = utcnow()
        wait_until(lambda: settled(workspace, mark), "every portal is done")

    assert {t.state for t in tasks(workspace)} == {"done"}
    assert all(t.attempts == 1 for t in tasks(workspace, portal="unity"))


def pauses(ws: Workspace) -> list[FlowPause]:
    with session(ws) as s:
        return list(s.exec(select(FlowPause)))


def test_a_task_past_its_deadline_has_its_browser_killed_and_is_retried(workspace: Workspace) -> None:
    configure(workspace)
    # Longer than any healthy task, shorter than the hung page, which ends before the stop timeout (30 s).
    text = workspace.config_path.read_text().replace("[run]\n", "[run]\ntask_deadline_seconds = 12\n")
    workspace.config_path.write_text(text.replace("[browser]\n", "[browser]\nnavigation_timeout_s = 120\n"))
    import_claims(workspace)
    workspace.portal.admin("faults/medicaid", {"latency_ms": 25000})  # a page that does not come in time

    with running(workspace):
        wait_until(lambda: done_everywhere_but(workspace, "lakeshore"), "summit and unity are done")
        wait_until(
            lambda: any(t.last_error for t in tasks(workspace, portal="lakeshore")),
            "the hung lakeshore task was cut off",
        )

    hung = [t for t in tasks(workspace, portal="lakeshore") if t.last_error]
    assert hung and all(t.state == "queued" for t in hung)  # retried later, not lost
    cut_off = "TaskDeadlinePassed: the task ran past its deadline of 12 s and was cut off"
    assert all(t.last_error == cut_off for t in hung)
