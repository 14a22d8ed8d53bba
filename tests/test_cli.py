"""The `portal-worker` command as a person runs it: its output and exit code.

Commands run in this process (tests/cli_support.py); the installed script and the demo run as real processes.
"""

from __future__ import annotations

import csv
import json
import re
import stat
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from store import tasks
from store.db import create_schema, make_engine, session_scope, sqlite_url
from store.models import Claim, EraClaim
from store.staff import get_user
from tests.cli_support import Ran, portal_worker, portal_worker_process
from tests.conftest import Workspace
from worker.clock import utcnow
from worker.security.credentials import KEY_FILE_ENV
from worker.security.staff import verify_password


def cli(
    ws: Workspace | None,
    *args: str,
    config: Path | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> Ran:
    config_path = config or (ws.config_path if ws else Path("portal-worker.toml"))
    return portal_worker("-c", str(config_path), *args, stdin=stdin, env=env)


def test_bad_config_names_the_key_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[worker]\ncolour = "blue"\n[portals.x]\nadapter = "unity_health"\n'
        'base_url = "http://portal.example.com"\npayers = ["UHP"]\n'
    )
    result = cli(None, "claims", config=config)
    assert result.returncode == 2
    assert "worker.colour" in result.stderr and "portals.x.base_url" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_config_error_naming_a_table_shows_its_brackets(tmp_path: Path) -> None:
    """Error texts are printed as text: "[portals.NAME]" is the table to add, not console markup."""
    config = tmp_path / "no-portals.toml"
    config.write_text('[worker]\ndata_dir = "data"\n')
    result = cli(None, "claims", config=config)
    assert result.returncode == 2 and "at least one [portals.NAME] table is required" in result.stderr


@pytest.mark.slow
def test_the_installed_command_runs_as_a_process_with_its_umask_and_words_for_errors(tmp_path: Path) -> None:
    """The `portal-worker` script itself: main() sets the umask and a person's error exits 2 in words."""
    config = tmp_path / "portal-worker.toml"
    written = portal_worker_process("-c", str(config), "init")
    assert written.returncode == 0 and "Wrote an example config" in written.stdout, written.stderr
    assert stat.S_IMODE(config.stat().st_mode) == 0o600  # a plain copy: private by the umask alone

    missing = portal_worker_process("-c", str(tmp_path / "nope.toml"), "claims")
    assert missing.returncode == 2 and "nope.toml" in missing.stderr and "Traceback" not in missing.stderr


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = cli(None, "claims", config=tmp_path / "nope.toml")
    assert result.returncode == 2 and "nope.toml" in result.stderr and "Traceback" not in result.stderr


def test_import_is_all_or_nothing_and_idempotent(workspace: Workspace) -> None:
    bad = workspace.root / "bad.csv"
    rows = list(csv.reader(workspace.claims_csv.open()))
    rows[3][rows[0].index("billed_amount")] = "-5.00"  # a negative billed amount on row 4
    with bad.open("w", newline="") as f:
        csv.writer(f).writerows(rows)

    rejected = cli(workspace, "import", "claims", str(bad))
    assert rejected.returncode == 2
    assert "bad.csv" in rejected.stderr and "row 4" in rejected.stderr and "billed_amount" in rejected.stderr
    assert "0 claim(s)" in cli(workspace, "claims").stdout

    first = cli(workspace, "import", "claims", str(workspace.claims_csv))
    assert first.returncode == 0 and f"{len(workspace.truth.claims)} new" in first.stdout
    again = cli(workspace, "import", "claims", str(workspace.claims_csv))
    assert "0 new, 0 updated" in again.stdout


def test_credentials_test_reports_a_portal_without_credentials(workspace: Workspace) -> None:
    workspace.credentials.delete("lakeshore")
    result = cli(workspace, "credentials", "test", "lakeshore")
    assert result.returncode == 1
    assert "no credentials stored" in result.stdout and "credentials set lakeshore" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_credentials_delete_removes_them_and_says_so(workspace: Workspace) -> None:
    deleted = cli(workspace, "credentials", "delete", "unity")
    again = cli(workspace, "credentials", "delete", "unity")
    tested = cli(workspace, "credentials", "test", "unity")

    assert deleted.returncode == 0 and "Deleted credentials for unity" in deleted.stdout
    assert again.returncode == 0 and "No credentials stored for unity" in again.stdout
    assert tested.returncode == 1 and "no credentials stored" in tested.stdout
    assert workspace.credentials.load("summit") is not None  # the other portals keep theirs


@pytest.mark.browser
def test_credentials_set_from_stdin_then_test_logs_in(workspace: Workspace) -> None:
    creds = workspace.default_credentials("unity")
    blob = json.dumps({"username": creds.username, "password": creds.password})
    stored = cli(workspace, "credentials", "set", "unity", "--stdin", stdin=blob)
    assert stored.returncode == 0, stored.stderr
    assert creds.password not in stored.stdout + stored.stderr

    tested = cli(workspace, "credentials", "test", "unity")
    assert tested.returncode == 0 and "logged in" in tested.stdout


@pytest.mark.browser
def test_credentials_test_never_opens_a_second_session_beside_a_working_runner(workspace: Workspace) -> None:
    """One live session per account: while a runner holds the account, the test login waits its turn."""
    engine = workspace.engine
    create_schema(engine)
    with session_scope(engine) as session:
        held = tasks.lease_account(
            session, portal="unity", owner="host-9:1:runner-1", now=utcnow(), lease_for=timedelta(minutes=5)
        )
    assert held is not None
    before = workspace.portal.admin("state")["requests"]["commercial"]

    busy = cli(workspace, "credentials", "test", "unity")

    assert busy.returncode == 1 and "a running worker is signed in" in busy.stdout
    assert workspace.portal.admin("state")["requests"]["commercial"] == before  # not one request
    with session_scope(engine) as session:
        tasks.release_account(session, "unity", owner=held.owner, generation=held.generation)
    free = cli(workspace, "credentials", "test", "unity")
    assert free.returncode == 0 and "logged in" in free.stdout


@pytest.mark.browser
def test_check_one_claim_and_list_it_without_patient_details(workspace: Workspace) -> None:
    assert cli(workspace, "import", "claims", str(workspace.claims_csv)).returncode == 0
    denied = next(
        c
        for c in workspace.truth.claims_for({"UHP"})
        if c.outcome == "denied" and c.adjudicated <= workspace.truth.start
    )

    checked = cli(workspace, "check", "--claim", denied.claim_id)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "unity" in checked.stdout and "Wall time" in checked.stdout

    # the run also imports the clearinghouse's ERAs, which adjudicate other claims: they are denied too
    with session_scope(workspace.engine) as session:
        denied_ids = {c.claim_id for c in session.exec(select(Claim).where(Claim.status == "denied"))}
        era_ids = {e.claim_id for e in session.exec(select(EraClaim))}
    assert denied.claim_id in denied_ids and denied_ids - {denied.claim_id} <= era_ids
    listed = cli(workspace, "claims", "--status", "denied")
    assert denied.claim_id in listed.stdout and f"{len(denied_ids)} claim(s)" in listed.stdout
    assert denied.patient_name not in listed.stdout and denied.member_id not in listed.stdout

    log_text = (workspace.settings.worker.data_dir / "logs" / "portal-worker.jsonl").read_text()
    records = [json.loads(line) for line in log_text.splitlines()]
    checked_line = next(r for r in records if r["event"] == "claim_checked")
    assert checked_line["claim_id"] == denied.claim_id and checked_line["portal"] == "unity"
    assert checked_line["run_id"] and checked_line["status"] == "denied"
    password = workspace.default_credentials("unity").password
    for secret_or_phi in (password, denied.patient_name, denied.member_id):
        assert secret_or_phi not in log_text


def test_key_file_env_is_what_the_cli_uses(workspace: Workspace) -> None:
    result = cli(workspace, "credentials", "test", "lakeshore", env={KEY_FILE_ENV: ""})
    assert result.returncode == 2 and KEY_FILE_ENV in result.stderr


def test_init_writes_the_example_config_and_a_private_data_dir(tmp_path: Path) -> None:
    config = tmp_path / "portal-worker.toml"
    result = cli(None, "init", config=config)
    assert result.returncode == 0, result.stderr
    assert "Wrote an example config" in result.stdout and config.exists()
    data_dir = tmp_path / "data"
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "portal-worker.db").stat().st_mode) == 0o600
    again = cli(None, "init", config=config)
    assert again.returncode == 0 and "Wrote" not in again.stdout


def test_browser_setup_says_which_chromium_it_found() -> None:
    result = cli(None, "browser", "setup")
    assert result.returncode == 0
    assert "Chromium: found:" in result.stdout and "chromium" in result.stdout.lower()


def era_files(ws: Workspace, days_after_start: int = 0) -> list[tuple[str, str]]:
    """(file id, 835 text) the fake clearinghouse offers for NWM and BBH on that day."""
    from fake_portal.era import remittance_files, render_835

    today = ws.truth.start + timedelta(days=days_after_start)
    return [(f.file_id, render_835(f)) for f in remittance_files(ws.truth, today, ["NWM", "BBH"])]


def test_era_import_feeds_the_worklist_and_staff_work_it(workspace: Workspace) -> None:
    assert cli(workspace, "import", "claims", str(workspace.claims_csv)).returncode == 0
    denied_files = [(fid, text) for fid, text in era_files(workspace) if "CLP*PW" in text and "*4*" in text]
    assert denied_files
    for file_id, text in denied_files:
        path = workspace.root / f"{file_id}.835"
        path.write_text(text)
        imported = cli(workspace, "import", "era", str(path))
        assert imported.returncode == 0 and "new denial" in imported.stdout, imported.stdout + imported.stderr
    again = cli(workspace, "import", "era", str(path))
    assert "imported before" in again.stdout

    listed = cli(workspace, "worklist")
    assert listed.returncode == 0 and "Denial worklist" in listed.stdout
    csv_path = workspace.root / "worklist.csv"
    assert cli(workspace, "worklist", "--csv", str(csv_path)).returncode == 0
    rows = list(csv.DictReader(csv_path.open()))
    assert rows and {"claim", "amount", "category", "owner", "codes", "action", "deadline", "days_left"} <= set(rows[0])
    first = rows[0]
    owner_only = cli(workspace, "worklist", "--owner", first["owner"], "--csv", str(csv_path))
    assert owner_only.returncode == 0
    assert {r["owner"] for r in csv.DictReader(csv_path.open())} == {first["owner"]}

    worked = cli(workspace, "denial", first["id"], "--status", "appealed", "--note", "level 1 sent")
    assert worked.returncode == 0 and "level 1 sent" in worked.stdout and "appealed" in worked.stdout
    assert cli(workspace, "worklist", "--csv", str(csv_path)).returncode == 0
    assert first["id"] not in {r["id"] for r in csv.DictReader(csv_path.open())}
    refused = cli(workspace, "denial", first["id"], "--status", "lost")
    assert refused.returncode == 2 and "status must be one of" in refused.stderr

    report = cli(workspace, "report", "denials")
    assert report.returncode == 0
    for title in (
        "Denial rate by payer",
        "Denial rate by month",
        "CARC Pareto",
        "Root-cause categories by month",
        "Initial denial rate",
        "Preventable share",
        "Definitions",
    ):
        assert title in report.stdout


def test_a_malformed_era_is_rejected_with_its_segment_and_nothing_imported(workspace: Workspace) -> None:
    _file_id, text = era_files(workspace)[0]
    broken = workspace.root / "broken.835"
    broken.write_text(text.replace("CLP*PW", "CLP*", 1).replace("\nSE*", "\nSE*9", 1))
    result = cli(workspace, "import", "era", str(broken))
    assert result.returncode == 2 and "nothing was imported" in result.stderr and "segment" in result.stderr
    assert "Traceback" not in result.stderr
    assert "0 denial" in cli(workspace, "worklist", "--csv", str(workspace.root / "w.csv")).stdout


def test_auth_and_provider_imports_are_all_or_nothing_and_listed(workspace: Workspace) -> None:
    import httpx

    auths, providers = workspace.root / "auths.csv", workspace.root / "providers.csv"
    auths.write_bytes(httpx.get(f"{workspace.portal.url}/pms/auths.csv", timeout=10).content)
    providers.write_bytes(httpx.get(f"{workspace.portal.url}/pms/providers.csv", timeout=10).content)
    rows = list(csv.reader(auths.open()))
    rows[2][rows[0].index("units_approved")] = "-3"
    bad = workspace.root / "bad-auths.csv"
    with bad.open("w", newline="") as f:
        csv.writer(f).writerows(rows)

    rejected = cli(workspace, "import", "auths", str(bad))
    assert rejected.returncode == 2 and "row 3" in rejected.stderr and "units_approved" in rejected.stderr
    assert "0 authorization(s)" in cli(workspace, "auths").stdout

    assert cli(workspace, "import", "auths", str(auths)).returncode == 0
    assert cli(workspace, "import", "providers", str(providers)).returncode == 0
    listed = cli(workspace, "auths", "--payer", "UHP")
    assert listed.returncode == 0 and "9 authorization(s)" in listed.stdout and "unchecked" in listed.stdout
    for row in csv.DictReader(auths.open()):
        assert row["patient_name"] not in listed.stdout and row["member_id"] not in listed.stdout
    people = cli(workspace, "providers")
    assert people.returncode == 0 and f"{len(workspace.truth.providers)} provider(s)" in people.stdout
    assert "not checked yet" in people.stdout
    assert "0 finding(s)" in cli(workspace, "findings").stdout
    bad_kind = cli(workspace, "check", "--what", "everything")
    assert bad_kind.returncode == 2 and "choose from claims, auths, providers" in bad_kind.stderr


@pytest.mark.browser
@pytest.mark.slow
def test_the_demo_checks_the_fake_practice_and_ends_with_the_daily_summary(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo-data"
    result = portal_worker_process(
        "demo", "--claims-per-payer", "4", "--data-dir", str(data_dir), env={"COLUMNS": "200"}, timeout_s=600
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    shown = result.stdout
    summary = shown.split("The daily summary staff would get", 1)
    assert len(summary) == 2, shown[-3000:]
    assert "portal-worker summary for" in summary[1] and "Data directory:" in summary[1]
    assert "open denial(s) in all" in summary[0]
    with (data_dir / "claims.csv").open(newline="") as export:
        patients = {row["patient_name"] for row in csv.DictReader(export)}
    assert patients and not any(name in shown for name in patients)  # minimum necessary, on screen too

    # What the check found went to the PM system's drop folder, every event once, without a patient name.
    sent = re.search(r"Sent (\d+) change\(s\) to the practice management feed", shown)
    assert sent and int(sent.group(1)) > 0, shown[-3000:]
    feed_files = sorted((data_dir / "pm-import").glob("*.csv"))
    with ExitStack() as files:
        rows = [row for path in feed_files for row in csv.DictReader(files.enter_context(path.open(newline="")))]
    assert len(rows) == int(sent.group(1)) == len({row["event_id"] for row in rows})
    assert {row["event_type"] for row in rows} >= {"claim.status_changed", "denial.opened"}
    assert not any(name in row["data_json"] for row in rows for name in patients)

    config_path = data_dir / "portal-worker.toml"
    assert f"portal-worker -c {config_path} web" in summary[1]
    login = re.search(r"open http://127\.0\.0\.1:8765/ and log in as demo / (\S+)", summary[1])
    assert login, summary[1][-2000:]
    password = login.group(1)
    with session_scope(make_engine(sqlite_url(data_dir))) as session:
        user = get_user(session, "demo")
        assert user is not None and user.role == "admin" and verify_password(user.password_hash, password)
    assert shown.count(password) == 1  # shown once
    for log in (data_dir / "logs").glob("*"):
        assert password not in log.read_text(errors="replace")
