"""Alerts, findings, authorizations and enrollments in the workspace: empty states, refusals (httpx), and the
whole story in Chromium over a checked store (acknowledge, snooze, the resolved tab, the lists)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from store.db import session_scope
from store.models import Alert
from store.staff import audit_page
from tests.web_support import PASSWORDS, USER_OF_ROLE, RunningWorkspace
from worker.clock import utcnow

SHOTS = Path("test-results/screenshots")


def logged_in(ws: RunningWorkspace, role: str = "billing") -> tuple[httpx.Client, str]:
    """An httpx client with a live session of the test user of `role`, and that session's CSRF token."""
    client = httpx.Client(base_url=ws.url, follow_redirects=False, timeout=30)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    done = client.post(
        "/login",
        data={"name": USER_OF_ROLE[role], "password": PASSWORDS[role], "csrf_token": token.group(1), "next": "/"},
    )
    assert done.status_code == 303, done.text
    page = client.get("/alerts").text
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert csrf
    return client, csrf.group(1)


def add_alert(ws: RunningWorkspace, **values: object) -> int:
    now = utcnow()
    fields: dict[str, object] = {
        "key": f"denial_deadline|{values.get('subject', '1')}",
        "kind": "denial_deadline",
        "subject": "1",
        "title": "Denial 1 on claim PW1: CO-197 $120.00",
        "action": "File a first-level appeal by 2026-12-20",
        "owner": "billing",
        "severity": "high",
        "amount": Decimal("120.00"),
        "opened_at": now,
        "updated_at": now,
    }
    fields.update(values)
    with session_scope(ws.engine) as session:
        alert = Alert(**fields)  # type: ignore[arg-type]
        session.add(alert)
        session.flush()
        assert alert.id is not None
        return alert.id


def stored(ws: RunningWorkspace, alert_id: int) -> Alert:
    with session_scope(ws.engine) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        session.expunge(alert)
        return alert


def test_every_list_says_when_it_is_empty(empty_web: RunningWorkspace) -> None:
    client, _ = logged_in(empty_web)
    for path, words in (
        ("/alerts", "No alerts waiting for a person."),
        ("/alerts?tab=set_aside", "No acknowledged or snoozed alerts."),
        ("/alerts?tab=resolved", "No resolved alerts."),
        ("/findings", "No open findings"),
        ("/authorizations", "No authorizations imported yet"),
        ("/enrollments", "No enrollments checked yet"),
    ):
        shown = client.get(path)
        assert shown.status_code == 200 and words in shown.text, path


def test_a_bad_snooze_or_an_unknown_alert_is_refused_and_nothing_changes(empty_web: RunningWorkspace) -> None:
    client, csrf = logged_in(empty_web)
    alert_id = add_alert(empty_web)
    for until, why in (
        ("", "Choose the day the alert should come back"),
        ("next week", "Choose the day the alert should come back"),
        ((utcnow() - timedelta(days=2)).date().isoformat(), "A snooze ends in the future"),
    ):
        refused = client.post(f"/alerts/{alert_id}/snooze", data={"until": until, "csrf_token": csrf})
        assert refused.status_code == 400 and why in refused.text
    missing = client.post("/alerts/999999/ack", data={"csrf_token": csrf})
    assert missing.status_code == 400 and "There is no alert 999999." in missing.text
    no_token = client.post(f"/alerts/{alert_id}/ack", data={})
    assert no_token.status_code == 403
    alert = stored(empty_web, alert_id)
    assert (alert.status, alert.acknowledged_at, alert.snoozed_until) == ("open", None, None)


def test_an_acknowledgement_names_the_person_in_the_audit_log(empty_web: RunningWorkspace) -> None:
    client, csrf = logged_in(empty_web, "coding")
    alert_id = add_alert(empty_web, owner="coding")
    done = client.post(f"/alerts/{alert_id}/ack", data={"csrf_token": csrf, "back": "tab=waiting"})
    assert done.status_code == 303 and done.headers["location"].startswith("/alerts?tab=waiting&")
    assert stored(empty_web, alert_id).status == "acknowledged"
    shown = client.get(done.headers["location"]).text
    assert f"Alert {alert_id} acknowledged by {USER_OF_ROLE['coding']}." in shown
    with session_scope(empty_web.engine) as session:
        rows = audit_page(session, 50, 0).items
    assert any(
        r.action == "alert_acknowledge" and r.user_name == USER_OF_ROLE["coding"] and r.subject == str(alert_id)
        for r in rows
    )


def test_alerts_findings_authorizations_and_enrollments_in_chromium(web: RunningWorkspace, page: Page) -> None:
    web.login(page, "billing")
    page.goto(f"{web.url}/alerts?owner=all")
    rows = page.locator("table.alerts tbody tr")
    expect(rows.first).to_be_visible()
    count = rows.count()
    assert count >= 2
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "alerts-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "alerts-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    first_id = int((rows.nth(0).get_attribute("id") or "").removeprefix("alert-"))
    page.get_by_role("button", name=f"Acknowledge alert {first_id}").click()
    expect(page.get_by_role("status")).to_have_text(f"Alert {first_id} acknowledged by {USER_OF_ROLE['billing']}.")
    expect(page.locator(f"#alert-{first_id}")).to_have_count(0)
    assert stored(web, first_id).status == "acknowledged"

    second = page.locator("table.alerts tbody tr").first
    second_id = int((second.get_attribute("id") or "").removeprefix("alert-"))
    wakes = (utcnow() + timedelta(days=5)).date().isoformat()
    page.get_by_label(f"Snooze alert {second_id} until").fill(wakes)
    page.get_by_role("button", name=f"Snooze alert {second_id}", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Alert {second_id} snoozed by {USER_OF_ROLE['billing']} until {wakes}"
    )
    assert stored(web, second_id).status == "snoozed"

    page.get_by_role("link", name="Acknowledged or snoozed").click()
    expect(page.locator(f"#alert-{first_id}")).to_contain_text(f"acknowledged by {USER_OF_ROLE['billing']}")
    expect(page.locator(f"#alert-{second_id}")).to_contain_text(f"snoozed by {USER_OF_ROLE['billing']} until {wakes}")
    assert stored(web, first_id).acknowledged_by == USER_OF_ROLE["billing"]

    with session_scope(web.engine) as session:
        alert = session.get(Alert, first_id)
        assert alert is not None
        alert.status, alert.resolved_at = "resolved", utcnow()
    page.get_by_role("link", name="Resolved").click()
    expect(page.locator(f"#alert-{first_id}")).to_be_visible()

    for path, heading in (
        ("/findings", "Findings"),
        ("/authorizations", "Authorizations"),
        ("/enrollments", "Provider enrollments"),
    ):
        page.get_by_role("navigation", name="Alerts and findings").get_by_role(
            "link", name=heading.split()[-1].capitalize()
        ).click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        assert page.url.endswith(path)
        expect(page.locator("table.stack tbody tr").first).to_be_visible()
