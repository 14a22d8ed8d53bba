"""A denied claim's timeline links each observation to the page the portal showed on first sight, in the workspace
and in `portal-worker claim ID`; the PDF is served to logged-in staff only, audited. The store is the one a full
`check` of the fake portals left (tests/web_support.py checked_store), so the evidence is the worker's own."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlmodel import col, select

from store.db import session_scope
from store.models import AuditEntry, ClaimStatusObservation, Evidence
from tests.cli_support import portal_worker
from tests.test_web_search import browser_login, logged_in
from tests.web_support import RunningWorkspace
from worker.runtime.evidence import evidence_dir

SHOTS = Path("/tmp/i19-evidence-shots")


def checked_folder(stored: str) -> Path:
    """The evidence folder a stored path lies in (records lie one folder deeper than other evidence)."""
    path = Path(stored)
    return next(parent for parent in path.parents if parent.name == "evidence")


def moved_here(workspace: RunningWorkspace) -> None:
    """The rows of the copied store name the checked store's files: point them at the copies in this data dir."""
    folder = evidence_dir(workspace.settings.worker.data_dir)
    with session_scope(workspace.engine) as session:
        for ev in session.exec(select(Evidence)):
            for name in ("screenshot_path", "html_path", "pdf_path"):
                stored = getattr(ev, name)
                if stored:
                    setattr(ev, name, str(folder / Path(stored).relative_to(checked_folder(stored))))
            session.add(ev)


def denied_with_evidence(workspace: RunningWorkspace) -> tuple[ClaimStatusObservation, Evidence]:
    moved_here(workspace)
    with session_scope(workspace.engine) as session:
        observation = session.exec(
            select(ClaimStatusObservation)
            .where(ClaimStatusObservation.status == "denied", col(ClaimStatusObservation.evidence_id).is_not(None))
            .order_by(col(ClaimStatusObservation.id))
        ).first()
        assert observation is not None, "the checked store keeps a denied claim's page on first sight"
        evidence = session.get(Evidence, observation.evidence_id)
        assert evidence is not None and evidence.pdf_path
        session.expunge_all()
    return observation, evidence


def test_the_claim_page_links_each_observation_to_its_evidence(web: RunningWorkspace, page: Page) -> None:
    observation, evidence = denied_with_evidence(web)
    claim_id, ev = observation.claim_id, evidence.id

    browser_login(web, page, "billing", f"/claims/{claim_id}")
    row = page.locator("table.timeline tbody tr", has=page.locator("td[data-label='Evidence'] a"))
    expect(row).to_have_count(1)  # the claim was seen once, denied: one observation, one page kept
    links = row.locator("td[data-label='Evidence']")
    expect(links.get_by_role("link", name=f"Screenshot of evidence {ev}")).to_have_attribute("href", f"/evidence/{ev}")
    expect(links.get_by_role("link", name=f"Page of evidence {ev}")).to_have_attribute("href", f"/evidence/{ev}/page")
    pdf_link = links.get_by_role("link", name=f"PDF of evidence {ev}")
    expect(pdf_link).to_have_attribute("href", f"/evidence/{ev}/pdf")
    expect(row.locator("td[data-label='What changed']")).to_contain_text("first seen: denied")
    kept = page.locator("figure.evidence", has=page.locator(f"a[href='/evidence/{ev}']"))
    expect(kept).to_contain_text("first seen: denied")
    expect(kept.get_by_role("link", name="PDF")).to_have_attribute("href", f"/evidence/{ev}/pdf")

    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"claim-timeline-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
        assert not overflow, width  # the timeline's links wrap with the row, the page never scrolls sideways

    served = page.request.get(f"{web.url}/evidence/{ev}/pdf")
    assert served.status == 200 and served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("inline")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(served.body())).pages)
    assert "denied" in text.lower()
    with session_scope(web.engine) as session:
        audited = session.exec(
            select(AuditEntry).where(AuditEntry.action == "view_evidence", AuditEntry.subject == str(ev))
        ).all()
    assert [a.detail for a in audited if a.detail == "pdf"] == ["pdf"]


def test_the_pdf_is_refused_to_anyone_logged_out_and_where_none_was_kept(web: RunningWorkspace) -> None:
    _, evidence = denied_with_evidence(web)
    anonymous = httpx.get(f"{web.url}/evidence/{evidence.id}/pdf", follow_redirects=False)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    assert b"%PDF" not in anonymous.content

    with session_scope(web.engine) as session:
        no_pdf = Evidence(created_at=evidence.created_at, portal="unity", reason="a surprise", url="u")
        no_pdf.html_path = evidence.html_path
        session.add(no_pdf)
        session.flush()
        no_pdf_id = no_pdf.id
    client = logged_in(web, "front_desk")
    refused = client.get(f"/evidence/{no_pdf_id}/pdf")
    assert refused.status_code == 404 and "no pdf was kept" in refused.text
    assert client.get(f"/evidence/{evidence.id}/pdf").headers["content-type"] == "application/pdf"


def test_the_cli_timeline_names_each_observations_evidence(web: RunningWorkspace) -> None:
    observation, evidence = denied_with_evidence(web)

    wide = {"COLUMNS": "400"}  # each cell on one line, to read it back whole
    shown = portal_worker("-c", str(web.config_path), "claim", observation.claim_id, env=wide)

    assert shown.returncode == 0, shown.stderr
    timeline = next(
        line
        for line in shown.stdout.splitlines()
        if "first seen: denied" in line and f"portal {observation.portal}" in line
    )
    assert f"#{evidence.id}: screenshot, page, PDF, archive" in timeline
    folded = re.sub(r"[\s\u2502]", "", shown.stdout)  # a long path folds over lines of the table's column
    assert evidence.pdf_path and evidence.pdf_path in folded  # the file, under "Evidence kept"
