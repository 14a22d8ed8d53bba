"""The worklist in the workspace: filters, sorting, bulk assign (all or nothing), CSV export.
Refusals and the empty state over httpx; the whole story in Chromium over a checked store."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import select

from store.db import session_scope
from store.denials import add_denial, history
from store.models import Denial
from store.staff import audit_page
from tests.test_web_alerts import logged_in
from tests.web_support import USER_OF_ROLE, RunningWorkspace
from worker.clock import utcnow

SHOTS = Path("test-results/screenshots")


def add_open_denial(ws: RunningWorkspace, n: int, owner: str = "billing", amount: str = "250.00") -> int:
    now = utcnow()
    denial = Denial(
        fingerprint=f"test-{n}",
        reported_claim_id=f"PWX{n:05d}",
        source="portal",
        source_ref="unity",
        payer_id="UNITY",
        group_code="CO",
        carc="197",
        amount=Decimal(amount),
        category="authorization",
        owner=owner,
        kind="soft",
        first_seen_at=now,
        last_seen_at=now,
    )
    with session_scope(ws.engine) as session:
        added = add_denial(session, denial, "seen")
        assert added.id is not None
        return added.id


def assignees(ws: RunningWorkspace) -> dict[int, str | None]:
    with session_scope(ws.engine) as session:
        return {d.id or 0: d.assignee for d in session.exec(select(Denial))}


def test_an_empty_worklist_says_so_and_exports_only_the_header(empty_web: RunningWorkspace) -> None:
    client, _ = logged_in(empty_web)
    assert "No open denials match these filters." in client.get("/worklist").text
    exported = client.get("/worklist/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[0].startswith("id,claim,payer,payer_claim_number,dos,billed,amount,group,carc")
    assert len(exported.text.splitlines()) == 1


def test_an_unknown_department_is_said_and_every_department_shown(empty_web: RunningWorkspace) -> None:
    client, _ = logged_in(empty_web)
    add_open_denial(empty_web, 1, owner="coding")
    shown = client.get("/worklist?owner=Cardiology").text
    assert "There is no department &#39;Cardiology&#39;; showing every department." in shown
    assert "PWX00001" in shown
    assert "PWX00001" in client.get("/worklist?owner=Coding").text  # a department's name as a person writes it


def test_a_bad_bulk_assignment_writes_nothing(empty_web: RunningWorkspace) -> None:
    client, csrf = logged_in(empty_web)
    first, second = add_open_denial(empty_web, 1), add_open_denial(empty_web, 2)
    for data, why in (
        ({"assignee": "cody"}, "Tick at least one denial to assign."),
        ({"ids": [str(first)]}, "Choose who gets them"),
        (
            {"ids": [str(first), str(second)], "assignee": "nobody-here"},
            "There is no active user &#39;nobody-here&#39;",
        ),
        ({"ids": [str(first), "999999"], "assignee": "cody"}, "no denial with id 999999: nothing was assigned."),
        ({"ids": [str(first), "x"], "assignee": "cody"}, "Tick at least one denial to assign."),
    ):
        refused = client.post("/worklist/assign", data={**data, "csrf_token": csrf})
        assert refused.status_code == 400 and why in refused.text, (data, refused.text[:300])
    assert assignees(empty_web) == {first: None, second: None}
    without_token = client.post("/worklist/assign", data={"ids": [str(first)], "assignee": "cody"})
    assert without_token.status_code == 403
    assert assignees(empty_web) == {first: None, second: None}


def test_billing_filters_assigns_and_exports_the_worklist(web: RunningWorkspace, page: Page) -> None:
    web.login(page, "billing")
    page.goto(f"{web.url}/worklist")
    department = page.get_by_label("Department")
    expect(department).to_have_value("billing")  # the role's own department first
    rows = page.locator("table.worklist tbody tr")
    expect(rows.first).to_be_visible()
    with session_scope(web.engine) as session:
        stored = list(session.exec(select(Denial).where(Denial.status == "open")))
    billing = [d for d in stored if d.owner == "billing"]
    expect(rows).to_have_count(min(len(billing), 50))
    for shot in (1280, 390):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": shot, "height": 900})
        page.screenshot(path=str(SHOTS / f"worklist-{shot}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # every department, then one payer and one category (htmx swaps the list; the address keeps the filters)
    department.select_option("all")
    expect(rows).to_have_count(min(len(stored), 50))
    payer = Counter(d.payer_id for d in stored).most_common(1)[0][0]
    page.get_by_label("Payer").select_option(payer)
    expect(rows).to_have_count(min(sum(d.payer_id == payer for d in stored), 50))
    expect(page).to_have_url(f"{web.url}/worklist?owner=all&payer={payer}&category=&assignee=&sort=priority")
    category = Counter(d.category for d in stored if d.payer_id == payer).most_common(1)[0][0]
    page.get_by_label("Category").select_option(category)
    chosen = [d for d in stored if d.payer_id == payer and d.category == category]
    expect(rows).to_have_count(len(chosen))

    # sorted by amount: the biggest first
    page.get_by_role("link", name="Amount").click()
    biggest = max(chosen, key=lambda d: d.amount)
    expect(rows.first.locator("td").nth(4)).to_have_text(f"${biggest.amount:,.2f}")

    # two denials to cody, all at once; then "assigned to cody" shows just them
    page.get_by_label("Category").select_option(label="Any category")
    expect(rows).to_have_count(min(sum(d.payer_id == payer for d in stored), 50))
    picked = [int(rows.nth(i).locator("td").nth(1).inner_text()) for i in (0, 1)]
    for denial_id in picked:
        page.get_by_label(f"Select denial {denial_id}").check()
    page.locator("form.bulk").get_by_label("Assign the ticked denials to").select_option("cody")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Assigned 2 denial(s) to cody.")
    page.get_by_label("Assigned to").select_option("cody")
    expect(rows).to_have_count(2)
    assert sorted(int(rows.nth(i).locator("td").nth(1).inner_text()) for i in (0, 1)) == sorted(picked)
    with session_scope(web.engine) as session:
        for denial_id in picked:
            assert session.get(Denial, denial_id).assignee == "cody"  # type: ignore[union-attr]
            last = history(session, denial_id)[-1]
            assert (last.actor, last.note) == (USER_OF_ROLE["billing"], "assigned to cody")
    page.get_by_label("Assigned to").select_option("unassigned")
    for denial_id in picked:
        expect(page.get_by_label(f"Select denial {denial_id}")).to_have_count(0)

    # the export is the filtered list, plain numbers, one code per column, and it is audited
    page.get_by_label("Assigned to").select_option("cody")
    expect(rows).to_have_count(2)
    # The link is read when clicked: wait until the list it exports is the one shown (a loaded machine once
    # clicked a link of an earlier filter).
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute("href", re.compile(r"assignee=cody"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sorted(int(r["id"]) for r in exported) == sorted(picked)
    with session_scope(web.engine) as session:
        denial = session.get(Denial, int(exported[0]["id"]))
        assert denial is not None
        assert exported[0]["amount"] == f"{denial.amount:.2f}" and "," not in exported[0]["amount"]
        assert (exported[0]["carc"], exported[0]["rarcs"], exported[0]["group"]) == (
            denial.carc,
            " ".join(denial.rarcs),
            denial.group_code,
        )
        assert (exported[0]["payer"], exported[0]["payer_claim_number"]) == (
            denial.payer_id,
            denial.payer_claim_number or "",
        )
        assert exported[0]["assignee"] == "cody"
        assert any(
            e.action == "export" and e.user_name == USER_OF_ROLE["billing"] for e in audit_page(session, 20, 0).items
        )
