"""A claim's page on first sight is kept mid-check as an MHTML archive and printed (PDF, screenshot) once nothing
is left to check: after the check's last claim, in a runner's idle turn while no batch is in hand, or by an appeal
packet that needs a page not printed yet. An archive that does not print is tried three times, then left.
Real Chromium, the fake portals, the runner `check` and `run` use."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext
from pypdf import PdfReader
from sqlmodel import Session, col, select, update
from structlog.testing import capture_logs

from flows.appeal_packet import PacketProblem
from store.evidence import PRINT_ATTEMPTS
from store.models import ClaimStatusObservation, Denial, Evidence
from tests.conftest import Workspace
from tests.run_support import import_claims
from tests.test_check_run import run
from worker.runtime.evidence_printer import IdlePrinter, pending_archives, print_archives
from worker.runtime.packets import build_packet

pytestmark = pytest.mark.browser


class ShownProgress:
    """What `check`'s progress bar was told, in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.total = 0

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, portal: str, claims: int = 1) -> None:
        self.lines.extend([f"checking {portal}"] * claims)

    def describe(self, doing: str) -> None:
        self.lines.append(doing)


def all_evidence(ws: Workspace) -> list[Evidence]:
    with Session(ws.engine) as session:
        return list(session.exec(select(Evidence).order_by(col(Evidence.id))))


def pdf_text(path: str | Path) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages).replace(" ", "")


def unprint(ws: Workspace, evidence: Evidence) -> None:
    """As the check left it before printing: the archive only."""
    for path in (evidence.pdf_path, evidence.screenshot_path):
        Path(path or "").unlink(missing_ok=True)
    with Session(ws.engine) as session:
        session.exec(
            update(Evidence).where(col(Evidence.id) == evidence.id).values(pdf_path=None, screenshot_path=None)
        )
        session.commit()


def payer_number(ws: Workspace, evidence: Evidence) -> str:
    """The payer's claim number the kept page shows ('' for a claim the payer has not on file)."""
    with Session(ws.engine) as session:
        observation = session.exec(
            select(ClaimStatusObservation).where(ClaimStatusObservation.evidence_id == evidence.id)
        ).one()
    return observation.payer_claim_number or ""


def on_file(ws: Workspace) -> list[Evidence]:
    return [e for e in all_evidence(ws) if payer_number(ws, e)]


def test_a_check_keeps_archives_mid_check_and_prints_them_after_its_last_claim(
    workspace: Workspace, browser: Browser
) -> None:
    import_claims(workspace)
    shown = ShownProgress()
    with capture_logs() as logged:
        run(workspace, browser, portals=["unity"], progress=shown)

    assert shown.lines[-1] == "printing the pages kept as evidence"  # after every claim, and said so
    assert shown.lines.index("printing the pages kept as evidence") == shown.total
    events = [e["event"] for e in logged]
    printed = [e for e in logged if e["event"] == "evidence_printed"]
    assert printed and max(i for i, e in enumerate(events) if e == "claim_checked") < events.index("evidence_printed")
    evidence = all_evidence(workspace)
    assert evidence and sum(e["pages"] for e in printed) == len(evidence)
    for ev in evidence:
        archive = Path(ev.archive_path or "")
        assert archive.suffix == ".mhtml" and archive.read_bytes().startswith(b"From: <Saved by Blink>")
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        assert ev.pdf_path == str(archive.with_suffix(".pdf")) and ev.screenshot_path == str(
            archive.with_suffix(".png")
        )
        assert stat.S_IMODE(Path(ev.pdf_path).stat().st_mode) == 0o600
        assert Path(ev.screenshot_path).read_bytes().startswith(b"\x89PNG")
        assert payer_number(workspace, ev) in pdf_text(ev.pdf_path)  # printed from the archive, offline


def test_an_appeal_packet_prints_a_denied_claims_archive_not_printed_yet(
    workspace: Workspace, browser: Browser
) -> None:
    import_claims(workspace)
    run(workspace, browser, portals=["lakeshore"])
    with Session(workspace.engine) as session:
        denial = session.exec(select(Denial).order_by(col(Denial.id))).first()
    assert denial is not None and denial.id is not None
    kept = [e for e in all_evidence(workspace) if e.claim_id == denial.claim_id]
    assert kept
    for ev in kept:
        unprint(workspace, ev)

    built = build_packet(workspace.settings, workspace.engine, denial.id, today=denial.first_seen_at.date())

    text = pdf_text(built.path)
    assert all(payer_number(workspace, ev) and payer_number(workspace, ev) in text for ev in kept)
    assert all(e.pdf_path is None for e in all_evidence(workspace) if e.claim_id == denial.claim_id)

    Path(kept[0].archive_path or "").write_bytes(b"From: <Saved by Blink>\r\nSubject: cut sh")
    with pytest.raises(PacketProblem, match="cut short or no page at all"):
        build_packet(workspace.settings, workspace.engine, denial.id, today=denial.first_seen_at.date())


def test_an_archive_that_will_not_print_is_tried_three_times_then_left(workspace: Workspace, browser: Browser) -> None:
    import_claims(workspace)
    run(workspace, browser, portals=["unity"])
    broken, good, missing, *_ = on_file(workspace)
    for ev in (broken, good, missing):
        unprint(workspace, ev)
    Path(broken.archive_path or "").write_bytes(b"not an archive")
    Path(missing.archive_path or "").unlink()
    data_dir = workspace.settings.worker.data_dir

    context = browser.new_context()
    try:
        with capture_logs() as logged:
            turns = [
                print_archives(workspace.engine, context, pending_archives(workspace.engine, data_dir, 10))
                for _ in range(PRINT_ATTEMPTS + 1)
            ]
    finally:
        context.close()

    assert turns == [1, 0, 0, 0]
    after = {e.id: e for e in all_evidence(workspace)}
    assert after[good.id].pdf_path and payer_number(workspace, good) in pdf_text(after[good.id].pdf_path or "")
    for ev in (broken, missing):
        assert after[ev.id].pdf_path is None and after[ev.id].print_attempts == PRINT_ATTEMPTS
        assert Path(ev.html_path or "").is_file()  # the page's HTML stays whatever the printing did
    failed = [e for e in logged if e["event"] == "evidence_not_printed"]
    assert sorted(e["error"] for e in failed) == sorted(["EmptyArchive", "FileNotFoundError"] * PRINT_ATTEMPTS)
    assert not [e for e in failed if set(e) - {"event", "log_level", "evidence_id", "error"}]  # no path, no text


def test_idle_printing_waits_for_every_batch_in_hand_and_leaves_other_hosts_archives(
    workspace: Workspace, browser: Browser
) -> None:
    import_claims(workspace)
    run(workspace, browser, portals=["unity"])
    mine, elsewhere, *_ = all_evidence(workspace)
    unprint(workspace, mine)
    unprint(workspace, elsewhere)
    with Session(workspace.engine) as session:  # a host sharing the store keeps its files in its own data folder
        moved = "/srv/other-host/evidence/records/unity/" + Path(elsewhere.archive_path or "").name
        session.exec(update(Evidence).where(col(Evidence.id) == elsewhere.id).values(archive_path=moved))
        session.commit()
    printer = IdlePrinter(workspace.engine, workspace.settings.worker.data_dir)
    opened: list[int] = []

    def open_context() -> BrowserContext:
        opened.append(1)
        return browser.new_context()

    with printer.batch_in_hand():
        assert printer.print_some(open_context) == 0 and not opened  # a check is under way: no browser work

    assert printer.print_some(open_context) == 1
    assert printer.print_some(open_context) == 0 and len(opened) == 1  # nothing of this host's left to print
    after = {e.id: e for e in all_evidence(workspace)}
    assert after[mine.id].pdf_path and after[elsewhere.id].pdf_path is None
    assert after[elsewhere.id].print_attempts == 0
