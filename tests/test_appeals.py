"""Appeals end to end, the hard way: a denial found on the fake portal, its appeal queued with the CLI, filed by the
worker through real Chromium, and exactly one appeal on the portal whatever happens in between (a timeout or a 500
after the click, a refusal, kill -9 between the click and the record); then its status followed with the fake clock
to an overturn that resolves the denial with the money. Fax and mail appeals are recorded when staff say they went."""

from __future__ import annotations

import re
import signal
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import col, select

from store.db import create_schema
from store.models import AppealRow, Denial, DenialEvent, Evidence, Finding
from tests.conftest import Workspace
from tests.run_support import (
    COMPRESSED,
    PortalClock,
    cli,
    import_claims,
    portal_clock,
    running,
    session,
    start_worker,
    tasks,
    wait_until,
)
from tests.web_support import MovableClock, add_test_users, serve
from worker.runtime.check import Check

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# Claims the fake payers denied by the portal's first day (seed 7): hard denials, appealable.
UHP_DENIED = "PW100034"  # Unity, CO-29 timely filing: a reconsideration online
NWM_DENIED = "PW100010"  # Northwind through Summit Exchange, CO-197: online through the clearinghouse
LSM_DENIED = "PW100046"  # Lakeshore Medicaid, CO-197: by fax
UHP_SOFT = "PW100027"  # Unity, CO-16: a soft denial, fixed by a corrected claim
PORTAL_OF = {"UHP": "commercial", "NWM": "clearinghouse"}
CLAIM_OF = {"UHP": UHP_DENIED, "NWM": NWM_DENIED}
# The worker's compressed schedule (tests/run_support.py) with the claims job off (the denials are found once,
# up front) and the appeals job every second.
FILE_OFTEN = COMPRESSED.replace(
    "[schedule.claims]\ninterval_minutes = 0.02\njitter_seconds = 0", "[schedule.claims]\nenabled = false"
) + (
    """
[schedule.appeals]
interval_minutes = 0.02
jitter_seconds = 0

[schedule.appeal_status]
enabled = false
"""
)


def setup(ws: Workspace) -> None:
    """The compressed schedule, and a navigation timeout short enough that a confirmation held back by the
    portal is a timeout after the click."""
    text = ws.config_path.read_text() + FILE_OFTEN
    ws.config_path.write_text(text.replace("element_timeout_s = 3", "element_timeout_s = 3\nnavigation_timeout_s = 5"))


def find_denials(ws: Workspace, *claim_ids: str, browser: Browser | None = None) -> None:
    """The claims imported and checked once on their portals (on the fake portal's day): their denials are stored."""
    import_claims(ws)
    checker = Check(ws.settings, credentials=ws.credentials, browser=browser, clock=portal_clock(ws))
    checker.run(claim_ids=list(claim_ids))


def denial_of(ws: Workspace, claim_id: str) -> Denial:
    with session(ws) as s:
        return s.exec(select(Denial).where(Denial.claim_id == claim_id)).one()


def packet(ws: Workspace, name: str = "appeal-packet.pdf", content: bytes = PDF) -> Path:
    path = ws.root / name
    path.write_bytes(content)
    return path


def file_appeal(ws: Workspace, denial_id: int, *extra: str) -> str:
    """`portal-worker appeal file DENIAL --packet ... --by maria`; the appeal id it printed."""
    done = cli(ws.config_path, "appeal", "file", str(denial_id), *extra, "--by", "maria")
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"AP-[0-9A-F]{8}", done.stdout)
    assert found, done.stdout
    return found.group(0)


def appeal_row(ws: Workspace, appeal_id: str) -> AppealRow:
    with session(ws) as s:
        row = s.get(AppealRow, appeal_id)
        assert row is not None
        return row


def all_appeals(ws: Workspace) -> list[AppealRow]:
    create_schema(ws.engine)
    with session(ws) as s:
        return list(s.exec(select(AppealRow)))


def on_portal(ws: Workspace, payer_id: str) -> list[dict[str, object]]:
    return list(ws.portal.admin(f"appeals?portal={PORTAL_OF[payer_id]}")["appeals"])


def history_notes(ws: Workspace, denial_id: int) -> list[tuple[str, str]]:
    with session(ws) as s:
        events = s.exec(select(DenialEvent).where(DenialEvent.denial_id == denial_id).order_by(col(DenialEvent.id)))
        return [(e.status, e.note or "") for e in events]


def check_appeals(ws: Workspace, browser: Browser, clock: PortalClock) -> None:
    Check(ws.settings, credentials=ws.credentials, browser=browser, clock=clock).run(what=("appeals",))


def test_an_online_appeal_is_filed_once_kept_as_evidence_and_followed_to_an_overturn_that_resolves_the_denial(
    workspace: Workspace, browser: Browser, page: Page
) -> None:
    clock = portal_clock(workspace)
    find_denials(workspace, UHP_DENIED, browser=browser)
    denial = denial_of(workspace, UHP_DENIED)
    assert denial.id is not None and denial.status == "open"
    appeal_id = file_appeal(workspace, denial.id, "--packet", str(packet(workspace)))
    queued = appeal_row(workspace, appeal_id)
    assert (queued.state, queued.level, queued.level_name, queued.channel, queued.portal) == (
        "queued",
        1,
        "reconsideration",
        "portal",
        "unity",
    )
    assert Path(str(queued.packet_path)).read_bytes() == PDF and queued.created_by == "maria"

    check_appeals(workspace, browser, clock)

    row = appeal_row(workspace, appeal_id)
    [filed] = on_portal(workspace, "UHP")
    assert (row.state, row.confirmation_number, row.adopted, row.attempts) == (
        "filed",
        filed["confirmation_number"],
        False,
        1,
    )
    assert filed["provider_reference"] == appeal_id and filed["attachments"] == [f"{appeal_id}.pdf"]
    assert filed["level"] == 1 and filed["disputed_amount"] == f"{denial.amount:.2f}"
    assert row.portal_status == "received" and row.filed_by == "worker"
    assert row.response_due == date(2026, 11, 2) + timedelta(days=30)  # Unity answers in 30 days (the playbook)
    with session(workspace) as s:
        evidence = s.get(Evidence, row.evidence_id)
    assert evidence is not None and evidence.claim_id == UHP_DENIED and evidence.reason == "appeal confirmation"
    assert Path(str(evidence.pdf_path)).read_bytes().startswith(b"%PDF-")
    assert str(row.confirmation_number) in Path(str(evidence.html_path)).read_text()
    assert denial_of(workspace, UHP_DENIED).status == "appealed"
    assert history_notes(workspace, denial.id)[-1] == (
        "appealed",
        f"appeal {appeal_id} (reconsideration) filed on unity as {row.confirmation_number}",
    )

    check_appeals(workspace, browser, clock)  # nothing left to file, and its status was read today
    assert len(on_portal(workspace, "UHP")) == 1 and appeal_row(workspace, appeal_id).attempts == 1
    again = cli(workspace.config_path, "appeal", "file", str(denial.id), "--packet", str(packet(workspace)))
    assert again.returncode == 2 and "is appealed: only an open denial is appealed" in " ".join(again.stderr.split())

    clock.advance(days=3)
    check_appeals(workspace, browser, clock)
    row = appeal_row(workspace, appeal_id)
    assert (row.state, row.portal_status) == ("filed", "in_review")
    assert row.status_checked_at is not None and row.status_checked_at.date() == date(2026, 11, 5)

    clock.advance(days=11)  # the fake payer decides on day 14: overturned for the whole amount
    check_appeals(workspace, browser, clock)
    row = appeal_row(workspace, appeal_id)
    assert (row.state, row.portal_status, row.decision, row.decision_source) == (
        "decided",
        "overturned",
        "overturned",
        "portal",
    )
    assert row.decided_on == date(2026, 11, 16) and row.amount_recovered == denial.amount
    assert denial_of(workspace, UHP_DENIED).status == "resolved"
    assert len(on_portal(workspace, "UHP")) == 1

    shown = cli(workspace.config_path, "appeal", "show", appeal_id)
    said = " ".join(shown.stdout.split())
    assert shown.returncode == 0 and "overturned on 2026-11-16 (portal)" in said and f"${denial.amount:,.2f}" in said
    listed = cli(workspace.config_path, "appeal", "list")
    assert appeal_id in listed.stdout and str(row.confirmation_number) in listed.stdout
    assert workspace.truth.claims[UHP_DENIED].member_id not in listed.stdout + shown.stdout

    # The claim page shows the appeal, its confirmation, the decision and the money back.
    add_test_users(workspace.engine)
    with contextmanager(serve)(workspace.settings, workspace.engine, MovableClock(), workspace.config_path) as web:
        web.login(page, "billing")
        page.goto(f"{web.url}/claims/{UHP_DENIED}")
        section = page.get_by_role("region", name=re.compile(r"^Appeals"))
        appeal = section.get_by_role("row").filter(has_text=appeal_id)
        expect(appeal).to_contain_text(str(row.confirmation_number))
        expect(appeal).to_contain_text(f"overturned 2026-11-16, ${denial.amount:,.2f} recovered")
        expect(section.get_by_role("link", name="page kept")).to_have_attribute("href", f"/evidence/{evidence.id}")


@pytest.mark.parametrize(("payer_id", "fault"), [("UHP", "hang"), ("NWM", "error")])
def test_an_ambiguous_failure_after_the_click_is_looked_up_and_adopted_never_filed_again(
    workspace: Workspace, payer_id: str, fault: str
) -> None:
    """A timeout after the click (the portal filed it and held the confirmation back) and a 500 after filing: the
    worker cannot tell whether it went through, so the next try looks on the portal first and adopts what it finds."""
    setup(workspace)
    find_denials(workspace, CLAIM_OF[payer_id])
    denial = denial_of(workspace, CLAIM_OF[payer_id])
    assert denial.id is not None
    portal = PORTAL_OF[payer_id]
    workspace.portal.admin(f"faults/{portal}", {"appeal_after_filing": fault, "appeal_hang_s": 20})
    appeal_id = file_appeal(workspace, denial.id, "--packet", str(packet(workspace)))
    with running(workspace):
        wait_until(lambda: appeal_row(workspace, appeal_id).state == "needs_look", "the first try failed")
        workspace.portal.admin(f"faults/{portal}", {"appeal_after_filing": ""})
        wait_until(lambda: appeal_row(workspace, appeal_id).state == "filed", "the retry looked and adopted it")

    row = appeal_row(workspace, appeal_id)
    [filed] = on_portal(workspace, payer_id)
    assert (row.state, row.confirmation_number, row.adopted, row.attempts) == (
        "filed",
        filed["confirmation_number"],
        True,
        1,
    )
    assert row.channel == ("portal" if payer_id == "UHP" else "clearinghouse")
    [task] = tasks(workspace, kind="appeal")
    assert task.attempts >= 2 and task.outcome and "adopted" in task.outcome
    assert denial_of(workspace, CLAIM_OF[payer_id]).status == "appealed"
    with session(workspace) as s:
        evidence = s.get(Evidence, row.evidence_id)
    assert evidence is not None and evidence.reason == "appeal found on the portal" and evidence.pdf_path


def test_a_refused_appeal_files_nothing_keeps_the_portals_words_for_billing_and_is_not_retried(
    workspace: Workspace, browser: Browser
) -> None:
    clock = portal_clock(workspace)
    find_denials(workspace, UHP_DENIED, browser=browser)
    denial = denial_of(workspace, UHP_DENIED)
    assert denial.id is not None
    with session(workspace) as s:  # an ERA said more was denied than the claim billed: the form refuses it
        stored = s.get(Denial, denial.id)
        assert stored is not None
        stored.amount = Decimal("70.00")
        s.add(stored)
        s.commit()
    appeal_id = file_appeal(workspace, denial.id, "--packet", str(packet(workspace)))

    check_appeals(workspace, browser, clock)
    check_appeals(workspace, browser, clock)  # a refused appeal is not tried again

    row = appeal_row(workspace, appeal_id)
    assert (row.state, row.attempts, row.confirmation_number) == ("refused", 1, None)
    assert row.refusal == "The disputed amount can't be more than the billed amount ($65.00)."
    assert on_portal(workspace, "UHP") == []
    assert denial_of(workspace, UHP_DENIED).status == "open"
    with session(workspace) as s:
        [finding] = s.exec(select(Finding).where(Finding.kind == "appeal_refused")).all()
    assert finding.subject == appeal_id and finding.status == "open"
    assert "billed amount ($65.00)" in finding.message and UHP_DENIED in finding.message
    alerts = cli(workspace.config_path, "alerts")
    assert appeal_id in alerts.stdout and "billing" in alerts.stdout, alerts.stdout + alerts.stderr
    [task] = tasks(workspace, kind="appeal")
    assert task.attempts == 1 and task.outcome == "refused by the portal"

    again = cli(workspace.config_path, "appeal", "requeue", appeal_id, "--packet", str(packet(workspace)))
    assert again.returncode == 0, again.stderr
    assert appeal_row(workspace, appeal_id).state == "queued"
    with session(workspace) as s:
        assert s.exec(select(Finding).where(Finding.kind == "appeal_refused")).one().status == "resolved"
    twice = cli(workspace.config_path, "appeal", "requeue", appeal_id)
    assert twice.returncode == 2 and "only a refused appeal is queued again" in " ".join(twice.stderr.split())


def test_a_fax_appeal_is_prepared_then_recorded_as_sent_and_bad_input_is_refused_with_nothing_written(
    workspace: Workspace, browser: Browser
) -> None:
    find_denials(workspace, LSM_DENIED, UHP_DENIED, UHP_SOFT, browser=browser)
    fax, online, soft = (denial_of(workspace, c) for c in (LSM_DENIED, UHP_DENIED, UHP_SOFT))
    (workspace.root / "letter.txt").write_text("not a pdf")
    refusals = {
        ("99999",): "no denial 99999",
        (str(soft.id),): f"denial {soft.id} is a soft denial (documentation): it is fixed by a corrected claim",
        (str(online.id), "--packet", "missing.pdf"): "--packet: missing.pdf does not exist",
        (str(online.id), "--packet", "letter.txt"): "--packet: letter.txt is not a PDF file",
        (str(online.id),): "--packet: an online appeal uploads its packet: build it first",
    }
    for args, words in refusals.items():
        done = cli(workspace.config_path, "appeal", "file", *args)
        assert done.returncode == 2, done.stdout
        assert words in " ".join(done.stderr.split()), done.stderr
    assert all_appeals(workspace) == []

    assert fax.id is not None
    appeal_id = file_appeal(workspace, fax.id)
    prepared = appeal_row(workspace, appeal_id)
    assert (prepared.state, prepared.channel, prepared.portal, prepared.level_name) == (
        "prepared",
        "fax",
        None,
        "appeal",
    )
    assert file_appeal(workspace, fax.id) == appeal_id  # the same denial and level: one appeal
    assert len(all_appeals(workspace)) == 1

    today = datetime.now(workspace.settings.worker.tzinfo).date()
    for on, words in (
        ("someday", "--on: someday is not a date"),
        ((today + timedelta(days=1)).isoformat(), "is in the future"),
    ):
        done = cli(workspace.config_path, "appeal", "sent", appeal_id, "--on", on, "--by", "maria")
        assert done.returncode == 2 and words in " ".join(done.stderr.split()), done.stderr
    assert appeal_row(workspace, appeal_id).state == "prepared"

    sent = cli(workspace.config_path, "appeal", "sent", appeal_id, "--on", today.isoformat(), "--by", "maria")
    assert sent.returncode == 0, sent.stderr
    row = appeal_row(workspace, appeal_id)
    assert (row.state, row.filed_by, row.response_due) == ("filed", "maria", today + timedelta(days=30))
    assert row.filed_at is not None and row.confirmation_number is None
    assert denial_of(workspace, LSM_DENIED).status == "appealed"
    assert history_notes(workspace, fax.id)[-1] == ("appealed", f"appeal {appeal_id} (appeal) sent by fax on {today}")
    again = cli(workspace.config_path, "appeal", "sent", appeal_id, "--on", today.isoformat())
    assert again.returncode == 2 and f"appeal {appeal_id} is filed already" in again.stderr

    assert online.id is not None
    online_id = file_appeal(workspace, online.id, "--packet", str(packet(workspace)))
    wrong = cli(workspace.config_path, "appeal", "sent", online_id, "--on", today.isoformat())
    assert wrong.returncode == 2 and "the worker files it" in " ".join(wrong.stderr.split())
    listed = cli(workspace.config_path, "appeal", "list", "--state", "queued")
    assert online_id in listed.stdout and appeal_id not in listed.stdout
    bogus = cli(workspace.config_path, "appeal", "list", "--state", "lost")
    assert bogus.returncode == 2


@pytest.mark.slow  # `portal-worker run` as a real process, killed
def test_kill_9_between_the_click_and_the_record_leaves_one_appeal_adopted_after_the_restart(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The portal files the appeal and holds its confirmation back; the worker is killed while it waits. Its record
    says `submitting`; the restarted worker looks first, finds the appeal and adopts it: the portal has one."""
    setup(workspace)
    workspace.config_path.write_text(
        workspace.config_path.read_text().replace("lease_seconds = 30", "lease_seconds = 6")
    )
    find_denials(workspace, UHP_DENIED)
    denial = denial_of(workspace, UHP_DENIED)
    assert denial.id is not None
    workspace.portal.admin("faults/commercial", {"appeal_after_filing": "hang", "appeal_hang_s": 600})
    appeal_id = file_appeal(workspace, denial.id, "--packet", str(packet(workspace)))
    log = tmp_path / "worker.log"
    first = start_worker(workspace.config_path, log)
    try:
        wait_until(lambda: len(on_portal(workspace, "UHP")) == 1, "the portal filed the appeal")
        assert appeal_row(workspace, appeal_id).state == "submitting", "the worker is waiting after the click"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    workspace.portal.admin("faults/commercial", {"appeal_after_filing": ""})
    assert appeal_row(workspace, appeal_id).state == "submitting"

    second = start_worker(workspace.config_path, log)
    try:
        wait_until(lambda: appeal_row(workspace, appeal_id).state == "filed", "the restarted worker adopted it")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=90) == 0, log.read_text()[-3000:]
    finally:
        if second.poll() is None:
            second.kill()

    row = appeal_row(workspace, appeal_id)
    [filed] = on_portal(workspace, "UHP")
    assert (row.state, row.confirmation_number, row.adopted, row.attempts) == (
        "filed",
        filed["confirmation_number"],
        True,
        1,
    )
    assert workspace.portal.admin("appeals")["total"] == 1
    assert workspace.truth.claims[UHP_DENIED].member_id not in log.read_text()
