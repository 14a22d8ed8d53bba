"""The canary test: a full run with failures, then every place the worker writes is searched.

A canary password, TOTP secret, security answer and patient name go through the real worker
(`run` and `check`) while the portals misbehave: a wrong password (unity), a changed layout
(lakeshore, after login, so a failure trace is saved) and sessions that expire mid-batch
(summit, so the password and an authenticator code are typed again while work goes on).
Afterwards the secrets must be nowhere: not in any file of the data directory (logs,
database, evidence, traces, saved sessions, digests), not in what the commands printed.
The patient name may be in the claim table and nowhere else.
"""

from __future__ import annotations

import csv
import sqlite3
import stat
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import structlog
from sqlmodel import col, select

from portals.types import Credentials
from store.db import make_engine
from store.models import Evidence, FlowPause, PortalAccount
from tests.cli_support import Ran, portal_worker_process
from tests.conftest import Workspace
from tests.run_support import configure, running, session, tasks, wait_until
from worker import logs
from worker.clock import utcnow
from worker.delivery import notify
from worker.delivery.notify import Sent

# Slow: a long run with faults, and the commands run as real processes, for what a process leaves behind.
pytestmark = [pytest.mark.browser, pytest.mark.slow]

CANARY_PASSWORD = "Canary-Pw-5fd3a9e1"
CANARY_TOTP = "CANARYTOTPSEED7QCANARYTOTPSEED7Q"  # base32, 160 bits
CANARY_ANSWER = "Canary-Answer-4b1c"
CANARY_PATIENT = "QUINTANARY, CANARIA"
SECRETS = (CANARY_PASSWORD, CANARY_TOTP, CANARY_ANSWER)
QUESTION = "What was the name of your first practice?"
SUMMIT_SESSION_PAGES = 15  # 24 summit claims take about 40 pages (a list, then a page each): sessions expire mid-batch

EXTRA_CONFIG = """
[schedule.digest]
enabled = false

[evidence]
trace = "always"  # a first-attempt failure's trace too: traces are where typed secrets would hide

[alerts.channels.billing]
urls = ["json://127.0.0.1:9/digest"]
"""


def set_up_canaries(ws: Workspace) -> None:
    """Canary accounts on the portals and in the keyring, canary patients in the practice's export."""
    portal = ws.portal
    portal.admin(
        "accounts",
        {
            "portal": "clearinghouse",
            "username": "canary.biller",
            "password": CANARY_PASSWORD,
            "totp_secret": CANARY_TOTP,
        },
    )
    portal.admin(
        "accounts", {"portal": "commercial", "username": "canary.biller", "password": "Rotated-By-The-Payer-1"}
    )  # the stored one is now wrong
    portal.admin(
        "accounts",
        {
            "portal": "medicaid",
            "username": "CANARY0001",
            "password": CANARY_PASSWORD,
            "security_question": QUESTION,
            "security_answer": CANARY_ANSWER,
        },
    )
    store = ws.credentials
    store.save("summit", Credentials("canary.biller", CANARY_PASSWORD, CANARY_TOTP))
    store.save("unity", Credentials("canary.biller", CANARY_PASSWORD))
    store.save("lakeshore", Credentials("CANARY0001", CANARY_PASSWORD, None, {QUESTION: CANARY_ANSWER}))

    portal.admin("faults/clearinghouse", {"session_ttl_requests": SUMMIT_SESSION_PAGES})
    portal.admin("faults/medicaid", {"layout": 2})

    with ws.claims_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    with ws.claims_csv.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "patient_name": CANARY_PATIENT} for row in rows)


@pytest.fixture
def in_process_logs(workspace: Workspace) -> Iterator[Path]:
    """The in-process worker logs as `run` does: JSON lines in DATA_DIR/logs/."""
    path = workspace.settings.worker.data_dir / "logs" / "in-process.jsonl"
    logs.configure("debug", log_file=path)
    try:
        yield path
    finally:
        structlog.reset_defaults()


def account(ws: Workspace, portal: str) -> PortalAccount:
    with session(ws) as s:
        found = s.get(PortalAccount, portal)
        assert found is not None, portal
        return found


def traced_evidence(ws: Workspace) -> list[Evidence]:
    with session(ws) as s:
        return list(s.exec(select(Evidence).where(col(Evidence.trace_path).is_not(None))))


def the_run_met_every_fault(ws: Workspace) -> bool:
    summit = tasks(ws, portal="summit")
    with session(ws) as s:
        paused = s.exec(select(FlowPause).where(FlowPause.portal == "lakeshore")).first() is not None
        unity = s.get(PortalAccount, "unity")
    return (
        unity is not None
        and unity.state == "needs_attention"
        and paused
        and bool(traced_evidence(ws))
        and bool(summit)
        and all(t.state == "done" for t in summit)
    )


# --- where to look ---------------------------------------------------------------------------------------------


def file_texts(data_dir: Path) -> dict[str, bytes]:
    """Every file the worker wrote, by path; a zip (a trace) by each of its members."""
    found = {}
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                found.update({f"{path}!{member}": archive.read(member) for member in archive.namelist()})
        else:
            found[str(path)] = path.read_bytes()
    return found


def table_rows(db: Path) -> dict[str, list[str]]:
    """Every row of every table, as text, by table."""
    with sqlite3.connect(db) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: [" | ".join(map(str, row)) for row in connection.execute(f'SELECT * FROM "{name}"')]  # noqa: S608  (names from sqlite_master)
            for name in names
        }


def places_holding(needle: str, haystacks: Mapping[str, bytes | str]) -> list[str]:
    raw = needle.encode()
    return [where for where, text in haystacks.items() if (raw in text if isinstance(text, bytes) else needle in text)]


def cli(ws: Workspace, *args: str) -> Ran:
    return portal_worker_process("-c", str(ws.config_path), *args)


def test_canary_secrets_and_patient_name_leak_nowhere(
    workspace: Workspace, in_process_logs: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    configure(workspace, EXTRA_CONFIG)
    set_up_canaries(workspace)
    printed: dict[str, bytes | str] = {}
    imported = cli(workspace, "import", "claims", str(workspace.claims_csv))
    assert imported.returncode == 0, imported.stderr
    printed.update({"import stdout": imported.stdout, "import stderr": imported.stderr})

    with running(workspace):
        wait_until(
            lambda: the_run_met_every_fault(workspace),
            "unity needs a person, lakeshore is paused with a trace, summit is done",
        )
    run_output = capfd.readouterr()
    assert workspace.portal.admin("state")["requests"]["clearinghouse"] > 2 * SUMMIT_SESSION_PAGES  # re-logins
    printed.update({"run stdout": run_output.out, "run stderr": run_output.err})

    checked = cli(workspace, "check", "--force")
    printed.update({"check stdout": checked.stdout, "check stderr": checked.stderr})
    assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stdout + checked.stderr  # problems
    assert "waiting for a person" in checked.stdout  # unity: the rejected password is not tried again

    settings = workspace.settings
    engine = make_engine(settings.database_url())
    sent: list[str] = []

    def recorder(url: str, subject: str, text: str, html: str) -> Sent:
        sent.append("\n".join((subject, text, html)))
        return Sent(True)

    assert not settings.alerts.include_patient_names
    previews = notify.preview(settings, engine, utcnow())
    outcomes = notify.send_digests(settings, engine, utcnow(), send=recorder)
    assert previews and all(p.text for p in previews) and [o.state for o in outcomes] == ["sent"]
    printed.update({f"preview {p.channel}": p.text for p in previews})
    printed.update({f"sent {n}": text for n, text in enumerate(sent)})

    data_dir = settings.worker.data_dir
    files = file_texts(data_dir)
    tables = table_rows(data_dir / "portal-worker.db")
    rows: dict[str, bytes | str] = {name: "\n".join(lines) for name, lines in tables.items()}
    # The places are real: logs of both processes, evidence with a trace, the digest, the failures' rows.
    assert any(name.endswith("in-process.jsonl") for name in files)
    assert any(name.endswith("portal-worker.jsonl") for name in files)
    assert any(".trace.zip!" in name for name in files) and any(name.endswith(".html") for name in files)
    assert any("/digests/" in name for name in files) and tables["digest"] and tables["alert"]
    assert "LoginRejected" in (account(workspace, "unity").attention_reason or "")
    assert (
        next(
            int(a["failed_logins"])
            for a in workspace.portal.admin("state")["accounts"]
            if a["portal"] == "commercial" and a["username"] == "canary.biller"
        )
        == 1
    )

    for secret in SECRETS:
        assert places_holding(secret, files) == []
        assert places_holding(secret, printed) == []
        assert places_holding(secret, rows) == []
    assert places_holding(CANARY_PATIENT, rows) == ["claim"]
    assert len(tables["claim"]) == len(workspace.truth.claims)
    non_database = {name: text for name, text in files.items() if "/portal-worker.db" not in name}
    assert places_holding(CANARY_PATIENT, non_database) == []
    assert places_holding(CANARY_PATIENT, printed) == []

    # Everything under the data directory is the service user's alone, whichever process wrote it.
    modes = {str(p.relative_to(data_dir)): stat.S_IMODE(p.stat().st_mode) for p in data_dir.rglob("*")}
    modes["."] = stat.S_IMODE(data_dir.stat().st_mode)
    kinds = {
        "sessions/summit.json",
        "portal-worker.db",
        "credentials.cfg",
        "logs/portal-worker.jsonl",
        "logs/in-process.jsonl",
    }
    assert kinds <= set(modes) and any(name.startswith("evidence/lakeshore/") for name in modes)
    assert any(name.startswith("digests/") for name in modes)
    wrong = {
        name: oct(mode) for name, mode in modes.items() if mode != (0o700 if (data_dir / name).is_dir() else 0o600)
    }
    assert wrong == {}
