"""Today: what needs a person by department and urgency, new denials since yesterday, worker health."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import select

from store.db import session_scope
from store.models import Denial
from tests.test_web_alerts import add_alert, logged_in
from tests.test_web_worklist import add_open_denial
from tests.web_support import RunningWorkspace
from web.templating import money

SHOTS = Path("test-results/screenshots")


def test_an_empty_store_has_nothing_for_a_person(empty_web: RunningWorkspace) -> None:
    client, _ = logged_in(empty_web)
    shown = client.get("/").text
    assert "Nothing needs a person today." in shown
    assert "No new denials since yesterday." in shown
    assert "not running" in shown  # no worker has ever beaten


def test_the_viewers_department_comes_first_and_old_denials_are_not_new(empty_web: RunningWorkspace) -> None:
    add_open_denial(empty_web, 1, owner="billing", amount="100.00")
    add_open_denial(empty_web, 2, owner="coding", amount="900.00")
    add_alert(empty_web, owner="coding", severity="critical", subject="2", amount=Decimal("900.00"))
    client, _ = logged_in(empty_web, "coding")
    shown = client.get("/").text
    assert shown.index('aria-label="Coding"') < shown.index('aria-label="Billing"')
    assert "1 critical" in shown and "$900.00" in shown
    assert "2 new denials, $1,000.00 denied." in shown
    billing, _ = logged_in(empty_web, "billing")
    assert billing.get("/").text.index('aria-label="Billing"') < billing.get("/").text.index('aria-label="Coding"')
    empty_web.clock.advance(timedelta(days=3))  # two days later in the practice's calendar: not new any more
    client, _ = logged_in(empty_web, "coding")  # the old session has long expired
    assert "No new denials since yesterday." in client.get("/").text


def test_billing_sees_its_work_new_denials_and_worker_health(web: RunningWorkspace, page: Page) -> None:
    with session_scope(web.engine) as session:
        open_denials = list(session.exec(select(Denial).where(Denial.status == "open")))
    billing = [d for d in open_denials if d.owner == "billing"]
    web.login(page, "billing")
    page.goto(web.url + "/")
    cards = page.locator("article.dept")
    expect(cards.first).to_have_attribute("aria-label", "Billing")
    expect(cards.first.locator(".stat")).to_have_text(money(sum((d.amount for d in billing), Decimal("0"))))
    expect(cards.first).to_contain_text(f"in {len(billing)} open denial")

    new = page.get_by_role("region", name="New denials since yesterday")
    expect(new).to_contain_text(f"{len(open_denials)} new denial")
    claim_id = next(d.claim_id for d in open_denials if d.claim_id)
    expect(new.get_by_role("link", name=claim_id).first).to_have_attribute("href", f"/claims/{claim_id}")

    health = page.get_by_role("region", name="Is the worker working?")
    expect(health).to_contain_text("Queue")
    portals = health.locator("table").first
    expect(portals.locator("tbody tr")).to_have_count(len(web.settings.portals))
    expect(portals).to_contain_text("working")
    for width in (1280, 390):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"today-{width}.png"), full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    cards.first.get_by_role("link", name="Worklist").click()
    expect(page.get_by_label("Department")).to_have_value("billing")
