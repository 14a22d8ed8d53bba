"""Every claim detail page is checked against itself before anything on it is stored.

Real Chromium drives `check` (the engine the CLI uses) against the fake portals, whose claim detail
pages drift on demand (`page_drift`): a page that does not balance, shows adjustments negative or
hides rows behind "show more" is refused as a layout change (nothing stored changes, evidence kept,
a layout-change finding and alert raised); rows split over several tbody sections or several pages
are all read, and the figures stored are the same as from the undrifted page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import Browser
from sqlmodel import Session, select

from fake_portal.data import Status
from fake_portal.launcher import RunningPortal
from fake_portal.page_drift import ROWS_PER_PAGE
from store.models import Alert, Claim, Denial, Evidence, Finding
from tests.conftest import PAYERS_OF, Workspace
from tests.run_support import import_claims
from worker.clock import utcnow
from worker.delivery.notify import refresh_alerts
from worker.runtime.check import Check, PortalReport

SITE_OF = {"summit": "clearinghouse", "unity": "commercial", "lakeshore": "medicaid"}
PORTALS = list(SITE_OF)
# drift -> words the refusal carries (in the evidence's reason and the run's problem)
REFUSED = {
    "unbalanced": "does not balance",
    "signs": "sign convention",
    "circular": "round in circles",
    "more": "show more",
}
READABLE = ("sections", "paged")


@dataclass(frozen=True)
class Stored:
    """What the worker holds about one portal's claims: their states and money, and their denials."""

    claims: dict[str, tuple[str, str | None, Decimal | None, str | None]]
    denials: list[tuple[str | None, str, str, Decimal, str | None, str]]


def stored(ws: Workspace, portal: str) -> Stored:
    payers = PAYERS_OF[portal]
    with Session(ws.engine) as session:
        claims = {
            c.claim_id: (c.status, c.category_code, c.paid_amount, c.payer_claim_number)
            for c in session.exec(select(Claim))
            if c.payer_id in payers
        }
        denials = sorted(
            (d.claim_id, d.group_code, d.carc, d.amount, d.line_procedure, d.status)
            for d in session.exec(select(Denial))
            if d.payer_id in payers
        )
    return Stored(claims, denials)


def adjudicated(ws: Workspace, portal: str) -> dict[str, Status]:
    """The portal's claims with a final status today, by claim id."""
    today = date.fromisoformat(ws.portal.admin("state")["today"])
    found = {c.claim_id: c.status_on(today) for c in ws.truth.claims_for(set(PAYERS_OF[portal]))}
    return {claim_id: s for claim_id, s in found.items() if s is not None and s.paid is not None}


def watched(ws: Workspace, portal: str) -> list[str]:
    """The claims a drift touches (several adjustment rows: sections, pages, a row to drop) and one it
    may not (a single row), so a run stays short."""
    final = adjudicated(ws, portal)
    several = sorted(c for c, s in final.items() if len(s.adjustments) > ROWS_PER_PAGE)
    single = sorted(c for c, s in final.items() if len(s.adjustments) == 1)
    assert several and single  # the data set has claims whose rows span pages on every portal
    return [single[0], *several]


def check(ws: Workspace, browser: Browser, portal: str, *, force: bool = False) -> PortalReport:
    runner = Check(ws.settings, credentials=ws.credentials, browser=browser)
    report = runner.run(portals=[portal], claim_ids=watched(ws, portal), force=force)
    return next(r for r in report.portals if r.portal == portal)


def drift(ws: Workspace, portal: str, kind: str) -> None:
    ws.portal.admin(f"faults/{SITE_OF[portal]}", {"page_drift": kind})


def baseline(ws: Workspace, browser: Browser, portal: str) -> Stored:
    """The undrifted pages, read as before: every claim answered, the adjudicated ones with the payer's figures."""
    import_claims(ws)
    report = check(ws, browser, portal)
    assert report.problem is None and report.errors == 0 and report.checked == report.claims
    before = stored(ws, portal)
    final = adjudicated(ws, portal)
    assert all(before.claims[claim_id][2] == final[claim_id].paid for claim_id in watched(ws, portal))
    return before


@pytest.mark.parametrize("kind", list(REFUSED))
@pytest.mark.parametrize("portal", PORTALS)
def test_a_detail_page_that_cannot_be_trusted_is_refused_and_nothing_stored_changes(
    workspace: Workspace, browser: Browser, portal: str, kind: str
) -> None:
    before = baseline(workspace, browser, portal)
    drift(workspace, portal, kind)

    report = check(workspace, browser, portal, force=True)

    assert "changed" in (report.problem or "")
    assert stored(workspace, portal) == before
    with Session(workspace.engine) as session:
        evidence = session.exec(select(Evidence).where(Evidence.portal == portal)).all()
        assert any("LayoutChanged" in e.reason and REFUSED[kind] in e.reason for e in evidence)
        assert all(e.html_path and e.screenshot_path for e in evidence)
    refresh_alerts(workspace.settings, workspace.engine, utcnow())
    with Session(workspace.engine) as session:
        findings = session.exec(select(Finding).where(Finding.kind == "layout_changed")).all()
        alerts = session.exec(select(Alert).where(Alert.status == "open")).all()
    assert [f.subject for f in findings if f.status == "open"] == [f"{portal}:claim_status"]
    assert any("layout_changed" in a.key and portal in a.subject for a in alerts)


@pytest.mark.parametrize("kind", READABLE)
@pytest.mark.parametrize("portal", PORTALS)
def test_rows_split_over_sections_or_pages_are_all_read_and_store_the_same_figures(
    workspace: Workspace, browser: Browser, portal: str, kind: str
) -> None:
    before = baseline(workspace, browser, portal)
    drift(workspace, portal, kind)

    report = check(workspace, browser, portal, force=True)

    assert report.problem is None and report.errors == 0 and report.checked == report.claims
    assert report.changed == 0 and report.new_denials == 0
    assert stored(workspace, portal) == before


@pytest.mark.parametrize("site", list(SITE_OF.values()))
def test_an_unknown_page_drift_is_refused_by_the_admin_api_and_changes_nothing(
    fake_portal: RunningPortal, site: str
) -> None:
    answer = httpx.post(f"{fake_portal.url}/admin/faults/{site}", json={"page_drift": "sideways"}, timeout=10)

    assert answer.status_code == 400 and "unknown page_drift 'sideways'" in answer.json()["error"]
    assert fake_portal.admin("state")["faults"][site]["page_drift"] == ""
