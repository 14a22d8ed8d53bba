"""Prior-authorization requests end to end, the hard way: queued with the CLI, submitted by the worker through
real Chromium on the fake portals, and exactly one request on the portal whatever happens in between (a
timeout after the click, a 500 after filing, a double queue, kill -9 between the click and the record)."""

from __future__ import annotations

import re
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlmodel import select

from store.db import create_schema
from store.models import Authorization, AuthRequestRow, Finding
from tests.conftest import Workspace
from tests.run_support import cli, configure, running, session, start_worker, tasks, wait_until
from worker.runtime.check import Check

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PORTAL_OF = {"UHP": "commercial", "LSM": "medicaid"}
SUBMIT_OFTEN = """
[schedule.auth_requests]
interval_minutes = 0.02
jitter_seconds = 0
"""


def setup(ws: Workspace) -> None:
    """The compressed run schedule, auth requests planned every second, and a navigation timeout short
    enough that a confirmation held back by the portal is a timeout after the click."""
    configure(ws, SUBMIT_OFTEN)
    text = ws.config_path.read_text().replace(
        "element_timeout_s = 3", "element_timeout_s = 3\nnavigation_timeout_s = 5"
    )
    ws.config_path.write_text(text)


def member_of(ws: Workspace, payer_id: str) -> str:
    return sorted(c.member_id for c in ws.truth.claims.values() if c.payer_id == payer_id)[0]


def notes(ws: Workspace) -> Path:
    path = ws.root / "clinical-notes.pdf"
    path.write_bytes(PDF)
    return path


def queue(ws: Workspace, payer_id: str, *, member: str | None = None, attach: Path | None = None) -> str:
    """`portal-worker auth request ...` as staff type it; the request id it printed."""
    start = ws.truth.start + timedelta(days=7)
    done = cli(
        ws.config_path,
        "auth",
        "request",
        "--payer",
        payer_id,
        "--member",
        member or member_of(ws, payer_id),
        "--dob",
        "1961-04-09",
        "--npi",
        ws.truth.providers[0].npi,
        "--codes",
        "97110;97140",
        "--units",
        "12",
        "--from",
        start.isoformat(),
        "--to",
        (start + timedelta(days=60)).isoformat(),
        "--diagnosis",
        "M54.50",
        "--attach",
        str(attach or notes(ws)),
        "--by",
        "maria",
    )
    assert done.returncode == 0, done.stderr
    found = re.search(r"PA-[0-9A-F]{8}", done.stdout)
    assert found, done.stdout
    return found.group(0)


def request_row(ws: Workspace, request_id: str) -> AuthRequestRow:
    with session(ws) as s:
        row = s.get(AuthRequestRow, request_id)
        assert row is not None
        return row


def on_portal(ws: Workspace, payer_id: str) -> list[dict[str, object]]:
    return list(ws.portal.admin(f"auth-requests?portal={PORTAL_OF[payer_id]}")["requests"])


def all_requests(ws: Workspace) -> list[AuthRequestRow]:
    create_schema(ws.engine)
    with session(ws) as s:
        return list(s.exec(select(AuthRequestRow)))


def settled(ws: Workspace, request_id: str) -> bool:
    return request_row(ws, request_id).state in ("submitted", "refused")


def test_a_queued_request_is_submitted_once_then_tracked_as_pending_and_approved(
    workspace: Workspace, browser: Browser
) -> None:
    setup(workspace)
    request_id = queue(workspace, "UHP")
    assert request_row(workspace, request_id).state == "queued"
    with running(workspace):
        wait_until(lambda: settled(workspace, request_id), "the request was submitted")
        # More passes of the job find nothing left to do: the portal still has one request.
        wait_until(lambda: len(tasks(workspace, kind="auth_request")) >= 1, "the task was recorded")

    row = request_row(workspace, request_id)
    [filed] = on_portal(workspace, "UHP")
    assert (row.state, row.reference_number, row.adopted, row.attempts) == ("submitted", filed["reference"], False, 1)
    assert filed["provider_reference"] == request_id and filed["attachments"] == ["clinical-notes.pdf"]
    assert row.queued_by == "maria"
    with session(workspace) as s:
        auth = s.get(Authorization, str(row.reference_number))
    assert auth is not None and auth.status == "pending" and auth.procedure_codes == ["97110", "97140"]

    workspace.portal.admin("clock", {"days": 3})  # the fake payer decides it
    Check(workspace.settings, credentials=workspace.credentials, browser=browser).run(what=("auths",), force=True)
    with session(workspace) as s:
        auth = s.get(Authorization, str(row.reference_number))
    assert auth is not None and auth.status == "approved" and auth.portal_units_approved == 12
    listed = cli(workspace.config_path, "auth", "requests")
    assert request_id in listed.stdout and str(row.reference_number) in listed.stdout
    assert member_of(workspace, "UHP") not in listed.stdout
    assert len(on_portal(workspace, "UHP")) == 1


@pytest.mark.parametrize(("payer_id", "fault"), [("LSM", "hang"), ("UHP", "error")])
def test_an_ambiguous_failure_after_the_click_is_looked_up_and_adopted_never_sent_again(
    workspace: Workspace, payer_id: str, fault: str
) -> None:
    """A timeout after the click (the portal filed it and held the confirmation back) and a 500 after filing:
    the worker cannot tell whether it went through, so it looks on the next try and adopts what it finds."""
    setup(workspace)
    portal = PORTAL_OF[payer_id]
    workspace.portal.admin(f"faults/{portal}", {"auth_request_after_filing": fault, "auth_request_hang_s": 20})
    request_id = queue(workspace, payer_id)
    with running(workspace):
        wait_until(lambda: request_row(workspace, request_id).state == "needs_look", "the first try failed")
        workspace.portal.admin(f"faults/{portal}", {"auth_request_after_filing": ""})
        wait_until(lambda: settled(workspace, request_id), "the retry looked and adopted it")

    row = request_row(workspace, request_id)
    [filed] = on_portal(workspace, payer_id)
    assert (row.state, row.reference_number, row.adopted, row.attempts) == ("submitted", filed["reference"], True, 1)
    [task] = tasks(workspace, kind="auth_request")
    assert task.attempts >= 2 and task.outcome and "adopted" in task.outcome


def test_a_refused_request_gets_the_portals_words_in_a_front_desk_finding_and_is_not_retried(
    workspace: Workspace,
) -> None:
    setup(workspace)
    request_id = queue(workspace, "UHP", member="ZZ0000001")
    with running(workspace):
        wait_until(lambda: settled(workspace, request_id), "the portal answered")
        wait_until(lambda: len(tasks(workspace, kind="auth_request", state="done")) == 1, "the task finished")

    row = request_row(workspace, request_id)
    assert row.state == "refused" and row.attempts == 1 and row.reference_number is None
    assert row.refusal == "We couldn't find this member. Check the member ID and date of birth."
    assert on_portal(workspace, "UHP") == []
    with session(workspace) as s:
        [finding] = s.exec(select(Finding).where(Finding.kind == "auth_request_refused")).all()
    assert finding.subject == request_id and finding.status == "open"
    assert "We couldn't find this member" in finding.message and "ZZ0000001" not in finding.message
    alerts = cli(workspace.config_path, "alerts")
    assert request_id in alerts.stdout and "front_desk" in alerts.stdout, alerts.stdout + alerts.stderr
    [task] = tasks(workspace, kind="auth_request")
    assert task.attempts == 1, "a refusal is not retried"

    again = cli(workspace.config_path, "auth", "requeue", request_id)
    assert again.returncode == 0 and request_row(workspace, request_id).state == "queued"
    with session(workspace) as s:
        assert s.exec(select(Finding).where(Finding.kind == "auth_request_refused")).one().status == "resolved"


def test_the_same_request_queued_twice_is_one_request_on_the_portal(workspace: Workspace) -> None:
    setup(workspace)
    first = queue(workspace, "LSM")
    second = cli(workspace.config_path, "auth", "requests")
    assert first in second.stdout
    again = queue(workspace, "LSM")
    assert again == first
    checked = cli(workspace.config_path, "check", "--what", "auth-requests")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    [filed] = on_portal(workspace, "LSM")
    assert f"lakeshore: prior-auth request {first}: submitted as {filed['reference']}" in checked.stdout
    assert cli(workspace.config_path, "check", "--what", "auth-requests").returncode == 0  # nothing left to do
    assert len(on_portal(workspace, "LSM")) == 1
    with session(workspace) as s:
        assert len(s.exec(select(AuthRequestRow)).all()) == 1


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("--codes", "9711"), "--codes: 9711 is not a procedure code"),
        (("--diagnosis", "5450"), "--diagnosis: is not a list of ICD-10-CM codes"),
        (("--to", "2026-11-01"), "--to: is before --from"),
        (("--npi", "1234567890"), "--npi: 1234567890 is not a valid NPI"),
        (("--attach", "missing.pdf"), "--attach: attachment 1 of 1 does not exist"),
        (("--attach", "notes.txt"), "--attach: attachment 1 of 1 is not a PDF file"),
        (("--payer", "BBH"), "--payer BBH: its portal (summit) takes no prior-auth requests online"),
    ],
)
def test_a_bad_request_on_the_command_line_is_refused_plainly_and_nothing_is_queued(
    workspace: Workspace, change: tuple[str, str], words: str
) -> None:
    (workspace.root / "notes.txt").write_text("not a pdf")
    start = workspace.truth.start + timedelta(days=7)
    options = {
        "--payer": "UHP",
        "--member": member_of(workspace, "UHP"),
        "--dob": "1961-04-09",
        "--npi": workspace.truth.providers[0].npi,
        "--codes": "97110",
        "--units": "12",
        "--from": start.isoformat(),
        "--to": (start + timedelta(days=30)).isoformat(),
        "--diagnosis": "M54.50",
        "--attach": str(notes(workspace)),
    }
    options[change[0]] = change[1]
    done = cli(workspace.config_path, "auth", "request", *[x for pair in options.items() for x in pair])
    assert done.returncode == 2, done.stdout
    assert words in " ".join(done.stderr.split()), done.stderr
    assert member_of(workspace, "UHP") not in done.stderr and "1961" not in done.stderr
    assert all_requests(workspace) == []


CSV_HEADER = (
    "payer_id,member_id,date_of_birth,servicing_npi,procedure_codes,units,start_date,end_date,diagnosis_codes,"
    "attachments\n"
)


def test_a_csv_of_requests_is_queued_all_or_nothing_with_problems_by_row_and_column(workspace: Workspace) -> None:
    notes(workspace)
    (workspace.root / "notes.txt").write_text("not a pdf")
    start = workspace.truth.start + timedelta(days=7)
    end = start + timedelta(days=30)
    npi, uhp, lsm = workspace.truth.providers[0].npi, member_of(workspace, "UHP"), member_of(workspace, "LSM")
    good = f"UHP,{uhp},1961-04-09,{npi},97110;97140,12,{start},{end},M54.50,clinical-notes.pdf\n"
    other = f"LSM,{lsm},1970-01-02,{npi},97530,8,{start},{end},M25.561,\n"
    bad = CSV_HEADER + good + f"LSM,{lsm},1970-01-02,{npi},97530,8,{end},{start},M25.561,notes.txt\n"
    path = workspace.root / "requests.csv"
    path.write_text(bad)

    done = cli(workspace.config_path, "import", "auth-requests", str(path))

    assert done.returncode == 2
    said = " ".join(done.stderr.split())
    assert "requests.csv, row 3, column end_date: is before start_date" in said, said
    assert "requests.csv, row 3, column attachments: attachment 1 of 1 is not a PDF file" in said, said
    assert lsm not in said and uhp not in said
    assert all_requests(workspace) == []

    path.write_text(CSV_HEADER + good + other + good)  # the same request twice in a file is one request
    done = cli(workspace.config_path, "import", "auth-requests", str(path))
    assert done.returncode == 0, done.stderr
    assert "Queued 2 prior-authorization request(s) from requests.csv; 1 already queued." in done.stdout
    with session(workspace) as s:
        rows = s.exec(select(AuthRequestRow)).all()
    assert sorted(r.payer_id for r in rows) == ["LSM", "UHP"]
    assert all(Path(a).is_absolute() for r in rows for a in r.attachments)


@pytest.mark.slow  # `portal-worker run` as a real process, killed
def test_kill_9_between_the_click_and_the_record_leaves_one_request_adopted_after_the_restart(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The portal files the request and holds its confirmation back; the worker is killed while it waits. Its
    record says `submitting`; the restarted worker looks first, finds the request and adopts it."""
    setup(workspace)
    workspace.config_path.write_text(
        workspace.config_path.read_text().replace("lease_seconds = 30", "lease_seconds = 6")
    )
    workspace.portal.admin("faults/commercial", {"auth_request_after_filing": "hang", "auth_request_hang_s": 600})
    request_id = queue(workspace, "UHP")
    log = tmp_path / "worker.log"
    first = start_worker(workspace.config_path, log)
    try:
        wait_until(lambda: len(on_portal(workspace, "UHP")) == 1, "the portal filed the request")
        assert request_row(workspace, request_id).state == "submitting", "the worker is waiting after the click"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    workspace.portal.admin("faults/commercial", {"auth_request_after_filing": ""})
    assert request_row(workspace, request_id).state == "submitting"

    second = start_worker(workspace.config_path, log)
    try:
        wait_until(lambda: settled(workspace, request_id), "the restarted worker settled the request")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=90) == 0, log.read_text()[-3000:]
    finally:
        if second.poll() is None:
            second.kill()

    row = request_row(workspace, request_id)
    [filed] = on_portal(workspace, "UHP")
    assert (row.state, row.reference_number, row.adopted, row.attempts) == ("submitted", filed["reference"], True, 1)
    assert member_of(workspace, "UHP") not in log.read_text()
