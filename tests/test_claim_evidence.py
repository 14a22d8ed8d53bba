"""Evidence on first sight: `check` keeps the claim's page (HTML and archive; screenshot and PDF printed after its
last claim) the first time a portal shows a new status, payment or denial, links the observation to it, keeps
nothing for a check that changed nothing, and the purge takes the PDF with the rest. Real Chromium, the fake
portals, the runner `check` and `run` use."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from pypdf import PdfReader
from sqlmodel import Session, col, select, update
from structlog.testing import capture_logs

from store.models import Claim, ClaimStatusObservation, Evidence
from tests.conftest import Workspace
from tests.run_support import import_claims, portal_clock
from tests.test_check_run import portal_report, run
from worker.runtime.evidence import evidence_dir
from worker.runtime.scheduler import Enqueuer

pytestmark = pytest.mark.browser


def kept(ws: Workspace) -> tuple[list[ClaimStatusObservation], dict[int, Evidence]]:
    with Session(ws.engine) as session:
        observations = list(session.exec(select(ClaimStatusObservation).order_by(col(ClaimStatusObservation.id))))
        evidence = {e.id: e for e in session.exec(select(Evidence)) if e.id is not None}
    return observations, evidence


def pdf_text(path: str) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def private(path: str | None) -> bool:
    return path is not None and stat.S_IMODE(Path(path).stat().st_mode) == 0o600


def test_each_first_sight_keeps_the_claims_page_once_on_every_portal(workspace: Workspace, browser: Browser) -> None:
    import_claims(workspace)
    report = run(workspace, browser)

    assert all(r.problem is None and r.errors == 0 for r in report.portals)
    observations, evidence = kept(workspace)
    assert observations and len(evidence) == len(observations)  # one page per first sight, none else
    for o in observations:
        assert o.evidence_id is not None, o.claim_id
        ev = evidence[o.evidence_id]
        assert ev.claim_id == o.claim_id and ev.portal == o.portal and ev.reason == f"first seen: {o.status}"
        assert private(ev.pdf_path) and private(ev.screenshot_path) and private(ev.html_path)
        assert ev.pdf_path and Path(ev.pdf_path).read_bytes().startswith(b"%PDF-")
        if o.status != "not_on_file":  # the claim's own detail page, not the search that led to it
            assert o.payer_claim_number and o.payer_claim_number in ev.url, (o.portal, ev.url)
    assert stat.S_IMODE(evidence_dir(workspace.settings.worker.data_dir).stat().st_mode) == 0o700

    denied = [o for o in observations if o.status == "denied"]
    assert {o.portal for o in denied} == {"summit", "unity", "lakeshore"}
    for o in denied:
        ev = evidence[o.evidence_id or 0]
        text = pdf_text(ev.pdf_path or "")
        assert "denied" in text.lower(), o.portal  # the payer's words, printed by Chromium
        assert o.payer_claim_number and o.payer_claim_number in text.replace(" ", ""), o.portal

    # The same denials, payments and statuses seen again keep nothing more.
    again = run(workspace, browser, force=True)
    assert all(r.changed == 0 for r in again.portals)
    assert kept(workspace) == (observations, evidence)


def test_a_later_denial_or_payment_keeps_a_second_page_and_a_listed_claim_none(
    workspace: Workspace, browser: Browser
) -> None:
    import_claims(workspace)
    clock = portal_clock(workspace)
    run(workspace, browser, portals=["unity"])
    first_observations, first_evidence = kept(workspace)
    with Session(workspace.engine) as session:
        waiting = {
            c.claim_id for c in session.exec(select(Claim).where(Claim.payer_id == "UHP")) if c.status == "pending"
        }

    clock.advance(days=12)
    report = run(workspace, browser, portals=["unity"], force=True)

    observations, evidence = kept(workspace)
    new = [o for o in observations if o not in first_observations]
    assert {o.status for o in new} >= {"paid", "denied"}, "the data set adjudicates claims after the start"
    assert len(evidence) == len(first_evidence) + len(new)
    for o in new:
        ev = evidence[o.evidence_id or 0]
        assert ev.reason == f"first seen: {o.status}" and ev.pdf_path and pdf_text(ev.pdf_path).strip()
        history = [e.reason for e in evidence.values() if e.claim_id == o.claim_id]
        assert history == ["first seen: pending", f"first seen: {o.status}"], o.claim_id
    # Claims still pending were answered by the portal's claim list, their pages never opened: nothing kept.
    still = waiting - {o.claim_id for o in new}
    assert still and portal_report(report, "unity").problem is None
    assert all(len([e for e in evidence.values() if e.claim_id == c]) == 1 for c in still)


def test_a_page_that_cannot_be_kept_never_costs_the_observation(workspace: Workspace, browser: Browser) -> None:
    folder = evidence_dir(workspace.settings.worker.data_dir) / "records"  # a claim's page is a record
    folder.mkdir(parents=True)
    (folder / "unity").write_text("a file where the portal's folder should be")  # every write there fails

    import_claims(workspace)
    with capture_logs() as logged:
        report = run(workspace, browser, portals=["unity"])

    assert portal_report(report, "unity").problem is None and portal_report(report, "unity").errors == 0
    failures = [e for e in logged if e["event"] == "claim_evidence_not_kept"]
    assert failures and all(set(e) >= {"claim_id", "error"} and "Error" in e["error"] for e in failures)
    assert not [e for e in failures if "/" in str(e["error"])]  # the error's type: no path, no page text
    observations, evidence = kept(workspace)
    assert observations and all(o.evidence_id is None for o in observations) and not evidence
    with Session(workspace.engine) as session:
        claims = list(session.exec(select(Claim).where(Claim.payer_id == "UHP")))
    assert all(c.status != "unchecked" and c.last_checked_at is not None for c in claims)


def test_the_purge_removes_the_pdf_with_the_rest_and_keeps_the_observation(
    workspace: Workspace, browser: Browser
) -> None:
    import_claims(workspace)
    run(workspace, browser, portals=["lakeshore"])
    observations, evidence = kept(workspace)
    files = [p for e in evidence.values() for p in (e.pdf_path, e.screenshot_path, e.html_path) if p]
    assert evidence and all(Path(p).exists() for p in files)
    purge = Enqueuer(workspace.settings, workspace.engine, lambda: observations[0].observed_at).purge

    def age_by(days: int) -> None:
        with Session(workspace.engine) as session:
            for ev in evidence.values():
                aged = ev.created_at - timedelta(days=days)
                session.exec(update(Evidence).where(col(Evidence.id) == ev.id).values(created_at=aged))
            session.commit()

    age_by(workspace.settings.evidence.retention_days + 1)
    assert purge() == 0  # records: what the payer showed outlives the pages saved when something went wrong
    assert all(Path(p).exists() for p in files)

    age_by(workspace.settings.evidence.records_days + 1)
    purged = purge()

    assert purged == len(evidence)
    assert not [p for p in files if Path(p).exists()]
    after, left = kept(workspace)
    assert not left and [o.id for o in after] == [o.id for o in observations]
    assert all(o.evidence_id is None for o in after)
