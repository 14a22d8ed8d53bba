"""The claim page's appeals section in Chromium: billing files a denial's appeal online (queued for the worker, once
even when posted twice), is told to build the packet first when there is none, prepares a fax appeal and marks it
sent; a role that does not work denials gets no buttons and is refused; every action is audited. Screenshots at
1280 and 390 px go to test-results/screenshots/claim-appeals-*.png."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Locator, Page, expect
from sqlmodel import col, select

from store.db import session_scope
from store.models import AppealRow, AuditEntry, Denial
from tests.web_support import RunningWorkspace
from worker.runtime.packets import packet_path

SHOTS = Path("test-results/screenshots")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ONLINE = "PW100034"  # Unity: a reconsideration online
BY_FAX = "PW100046"  # Lakeshore Medicaid: by fax


def denial_id(ws: RunningWorkspace, claim_id: str) -> int:
    with session_scope(ws.engine) as session:
        found = session.exec(select(Denial.id).where(Denial.claim_id == claim_id)).one()
    assert found is not None
    return found


def appeals(ws: RunningWorkspace) -> list[AppealRow]:
    with session_scope(ws.engine) as session:
        return list(session.exec(select(AppealRow).order_by(col(AppealRow.created_at))))


def screenshots(page: Page, section: Locator, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        section.screenshot(path=str(SHOTS / f"{name}-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def audited(ws: RunningWorkspace, action: str) -> list[AuditEntry]:
    with session_scope(ws.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def test_billing_files_an_appeal_online_once_after_building_its_packet(page: Page, web: RunningWorkspace) -> None:
    web.login(page, "billing")
    page.goto(f"{web.url}/claims/{ONLINE}")
    section = page.get_by_role("region", name="Appeals (0)")
    denial = denial_id(web, ONLINE)
    card = section.get_by_role("article", name="Denial CO-29")
    expect(card).to_contain_text("Next: level 1, reconsideration, online through unity.")
    expect(card).to_contain_text("Build the appeal packet first")

    card.get_by_role("button", name="File online").click()
    expect(page.locator("#appeals").get_by_role("alert")).to_contain_text(
        "An online appeal uploads its packet: build it first"
    )
    assert appeals(web) == []

    built = packet_path(web.settings.worker.data_dir, denial)
    built.parent.mkdir(parents=True, exist_ok=True)
    built.write_bytes(PDF)  # as `appeal build` (or the claim page's packet button) leaves it
    page.reload()
    screenshots(page, page.get_by_role("region", name="Appeals (0)"), "claim-appeals-to-file")
    answers = page.evaluate(  # a double click, or a slow network's second press: the form posted twice at once
        """async (target) => {
            const form = document.querySelector(`form[action$="${target}"]`);
            const post = () => fetch(form.action, {method: 'POST', body: new FormData(form)});
            return (await Promise.all([post(), post()])).map(r => r.status);
        }""",
        f"/denials/{denial}/appeal",
    )
    assert answers == [200, 200]
    [row] = appeals(web)
    assert (row.state, row.created_by, row.channel, row.portal, row.level) == ("queued", "bea", "portal", "unity", 1)
    assert Path(str(row.packet_path)).read_bytes() == PDF
    page.reload()
    section = page.get_by_role("region", name="Appeals (1)")
    listed = section.get_by_role("row").filter(has_text=row.appeal_id)
    expect(listed).to_contain_text("queued")
    expect(section.get_by_role("button", name="File online")).to_have_count(0)
    assert {e.detail for e in audited(web, "appeal_queued")} == {row.appeal_id}
    assert len(audited(web, "appeal_queued")) + len(audited(web, "appeal_again")) == 2

    screenshots(page, section, "claim-appeals-online")


def test_a_fax_appeal_is_prepared_and_marked_sent_from_the_claim_page(page: Page, web: RunningWorkspace) -> None:
    web.login(page, "billing")
    page.goto(f"{web.url}/claims/{BY_FAX}")
    card = page.get_by_role("article", name="Denial CO-197")
    expect(card).to_contain_text("Next: level 1, appeal, by fax.")
    card.get_by_role("button", name="Prepare fax appeal").click()
    expect(page.locator("#appeals").get_by_role("status")).to_contain_text(
        "to send by fax: mark it sent once it has gone"
    )
    [row] = appeals(web)
    assert (row.state, row.channel, row.portal) == ("prepared", "fax", None)

    today = web.clock().astimezone(web.settings.worker.tzinfo).date()
    sent_on = page.get_by_label(f"{row.appeal_id} sent by fax on")
    sent_on.fill((today + timedelta(days=2)).isoformat())
    sent_on.evaluate("input => input.removeAttribute('max')")  # what the browser would not let through, posted
    page.get_by_role("button", name="Mark sent").click()
    expect(page.locator("#appeals").get_by_role("alert")).to_contain_text("is in the future")
    assert appeals(web)[0].state == "prepared"

    page.get_by_label(f"{row.appeal_id} sent by fax on").fill(today.isoformat())
    page.get_by_role("button", name="Mark sent").click()
    expect(page.locator("#appeals").get_by_role("status")).to_contain_text(
        f"Recorded {row.appeal_id} as sent on {today}"
    )
    [row] = appeals(web)
    assert (row.state, row.filed_by, row.response_due) == ("filed", "bea", today + timedelta(days=30))
    listed = page.get_by_role("row").filter(has_text=row.appeal_id)
    expect(listed).to_contain_text(f"sent {today}")
    expect(listed).to_contain_text(str(today + timedelta(days=30)))
    expect(page.get_by_role("button", name="Mark sent")).to_have_count(0)
    with session_scope(web.engine) as session:
        denial = session.get(Denial, row.denial_id)
    assert denial is not None and denial.status == "appealed"
    assert [e.detail for e in audited(web, "appeal_sent")] == [f"{row.appeal_id} on {today}"]
    screenshots(page, page.get_by_role("region", name="Appeals (1)"), "claim-appeals-fax")


def test_a_role_that_does_not_work_denials_sees_the_appeals_but_cannot_file(page: Page, web: RunningWorkspace) -> None:
    web.login(page, "front_desk")
    page.goto(f"{web.url}/claims/{BY_FAX}")
    section = page.get_by_role("region", name="Appeals (0)")
    expect(section).to_contain_text("Next: level 1, appeal, by fax.")
    expect(section.get_by_role("button")).to_have_count(0)
    token = page.evaluate("() => JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    refused = page.request.post(
        f"{web.url}/claims/{BY_FAX}/denials/{denial_id(web, BY_FAX)}/appeal", headers={"X-CSRF-Token": token}
    )
    assert refused.status == 403
    no_token = page.request.post(f"{web.url}/claims/{BY_FAX}/denials/{denial_id(web, BY_FAX)}/appeal")
    assert no_token.status == 403
    assert appeals(web) == []
