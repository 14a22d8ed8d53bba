"""`status`, `status --check`, `schedule` and `resume`: what the person running the worker reads."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store import accounts, health, tasks
from store.db import create_schema, make_engine, session_scope
from tests.cli_support import Ran
from tests.conftest import write_config
from tests.test_cli import cli
from worker.security.credentials import KEY_FILE_ENV
from worker.settings import Settings


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    key_file = tmp_path / "keyring.key"
    key_file.write_text("test-only-key-0123456789abcdef")
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    config = tmp_path / "portal-worker.toml"
    write_config(
        config, "http://127.0.0.1:9", tmp_path / "data", "\n[run]\nheartbeat_seconds = 5\nstale_after_seconds = 60\n"
    )
    settings = Settings.load(config)
    create_schema(make_engine(settings.database_url()))
    return settings


def plain(text: str) -> str:
    """A Rich table's cells as plain words, one space apart."""
    return " ".join(re.sub(r"[\u2500-\u257f]", " ", text).split())


def run_cli(settings: Settings, *args: str, stdin: str | None = None) -> Ran:
    return cli(None, *args, config=settings.config_path, stdin=stdin)


def test_status_says_what_each_portal_needs_and_how_deep_the_queue_is(install: Settings) -> None:
    for portal in ("summit", "lakeshore", "unity"):
        stored = run_cli(
            install,
            "credentials",
            "set",
            portal,
            "--stdin",
            stdin='{"username": "demo.biller", "password": "synthetic-pass-1"}',
        )
        assert stored.returncode == 0, stored.stderr
    now = datetime.now(UTC)
    with session_scope(make_engine(install.database_url())) as session:
        for portal, adapter in (
            ("summit", "summit_exchange"),
            ("unity", "unity_health"),
            ("lakeshore", "lakeshore_medicaid"),
        ):
            accounts.get_account(session, portal, adapter)
        session.flush()
        accounts.note_failure(session, "summit", "RateLimited: portal is rate limiting (HTTP 429)")
        accounts.pause(session, "summit", now + timedelta(hours=2))
        accounts.mark_needs_attention(session, "unity", "LoginRejected: the password was not accepted", now)
        health.pause_flow(
            session,
            portal="lakeshore",
            kind="claim_status",
            reason="LayoutChanged: no claims table",
            evidence=None,
            now=now,
            until=now + timedelta(hours=24),
        )
        for n in range(3):
            tasks.enqueue(
                session, kind="claim_status", portal="summit", target=f"PW-{n}", reason="never checked", now=now
            )

    shown = run_cli(install, "status")

    assert shown.returncode == 0, shown.stderr
    out = plain(shown.stdout)
    assert "no worker is running" in out
    assert "summit paused until" in out and "HTTP 429" in out
    assert "unity needs a person" in out and "credentials set unity" in out
    assert "lakeshore layout changed" in out and "claim_status paused until" in out
    assert "claim_status 3 0 0 0" in out  # queued, leased, done, failed
    assert "synthetic-pass" not in shown.stdout + shown.stderr


def test_status_check_tells_a_live_worker_from_a_dead_one(install: Settings) -> None:
    engine = make_engine(install.database_url())
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        health.beat(
            session,
            worker_id="host:1:a",
            host="host",
            pid=1,
            started_at=now,
            now=now,
            runners=2,
            detail={"runner-1": "idle"},
        )
    assert run_cli(install, "status", "--check").returncode == 0

    with session_scope(engine) as session:
        health.beat(
            session,
            worker_id="host:1:a",
            host="host",
            pid=1,
            started_at=now,
            now=now - timedelta(minutes=5),
            runners=2,
            detail={"runner-1": "idle"},
        )
    stale = run_cli(install, "status", "--check")
    assert stale.returncode == 1 and "hung or dead" in stale.stderr


def test_status_check_this_host_asks_only_about_the_worker_on_this_machine(install: Settings) -> None:
    engine = make_engine(install.database_url())
    now = datetime.now(UTC)
    with session_scope(engine) as session:  # another host's worker is alive; this host's went quiet
        health.beat(
            session,
            worker_id="db-host-2:7:b",
            host="db-host-2",
            pid=7,
            started_at=now,
            now=now,
            runners=2,
            detail={"runner-1": "idle"},
        )
        health.beat(
            session,
            worker_id=f"{socket.gethostname()}:8:c",
            host=socket.gethostname(),
            pid=8,
            started_at=now,
            now=now - timedelta(minutes=5),
            runners=2,
            detail={"runner-1": "idle"},
        )

    assert run_cli(install, "status", "--check").returncode == 0  # some worker on the database is alive
    here = run_cli(install, "status", "--check", "--this-host")
    assert here.returncode == 1 and "hung or dead" in here.stderr and socket.gethostname() in here.stderr


def test_status_check_needs_no_credential_store(install: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A monitoring check runs without the keyring key the service has: it reads the heartbeat only."""
    monkeypatch.delenv(KEY_FILE_ENV)
    engine = make_engine(install.database_url())
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        health.beat(
            session,
            worker_id="host:1:a",
            host="host",
            pid=1,
            started_at=now,
            now=now,
            runners=2,
            detail={"runner-1": "idle"},
        )

    alive = run_cli(install, "status", "--check")

    assert alive.returncode == 0 and "alive" in alive.stdout, alive.stderr


def test_status_and_schedule_show_the_credentials_without_the_key(
    install: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A billing lead sees which portals have credentials on this install without holding the service's key:
    `credentials set` recorded it in the database, where `status` reads it."""
    stored = run_cli(
        install,
        "credentials",
        "set",
        "summit",
        "--stdin",
        stdin='{"username": "demo.biller", "password": "synthetic-pass-1"}',
    )
    assert stored.returncode == 0, stored.stderr
    monkeypatch.delenv(KEY_FILE_ENV)

    shown = run_cli(install, "status")

    assert shown.returncode == 0, shown.stderr
    out = plain(shown.stdout)
    assert "summit ok" in out
    assert "unity no credentials run `portal-worker credentials set unity`" in out
    assert "lakeshore no credentials" in out
    assert "synthetic-pass" not in shown.stdout + shown.stderr
    schedule = run_cli(install, "schedule")
    assert schedule.returncode == 0 and "unity no credentials" in plain(schedule.stdout), schedule.stderr


def test_status_says_when_this_install_has_not_recorded_its_credentials_yet(
    install: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database from before the record existed: `status` does not guess, it says what will record it."""
    monkeypatch.delenv(KEY_FILE_ENV)

    shown = run_cli(install, "status")

    assert shown.returncode == 0, shown.stderr
    assert "summit not recorded" in plain(shown.stdout) and "credentials set" in plain(shown.stdout)


def test_schedule_shows_the_next_runs_and_what_is_due_and_why(install: Settings, tmp_path: Path) -> None:
    from tests.test_import_claims import rows, write_csv

    template = {**rows()[0], "dos_from": "2026-10-20", "dos_to": "2026-10-20", "prior_auth_number": ""}
    csv = write_csv(
        tmp_path / "claims.csv", [{**template, "claim_id": "PW-A", "payer_id": "UHP", "submitted_date": "2026-11-01"}]
    )
    assert run_cli(install, "import", "claims", str(csv)).returncode == 0

    shown = run_cli(install, "schedule")

    assert shown.returncode == 0, shown.stderr
    out = plain(shown.stdout)
    assert "claims cron 0 6,13 * * mon-fri summit, unity, lakeshore" in out
    assert "claims: due now: unity 1" in out and "PW-A" in out and "never checked" in out


def test_resume_lifts_a_layout_pause_and_a_back_off(install: Settings) -> None:
    engine = make_engine(install.database_url())
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        accounts.get_account(session, "lakeshore", "lakeshore_medicaid")
        session.flush()
        accounts.pause(session, "lakeshore", now + timedelta(hours=1))
        health.pause_flow(
            session,
            portal="lakeshore",
            kind="claim_status",
            reason="LayoutChanged",
            evidence=None,
            now=now,
            until=now + timedelta(hours=24),
        )

    resumed = run_cli(install, "resume", "lakeshore")

    assert resumed.returncode == 0 and "1 paused flow(s) lifted" in resumed.stdout
    with session_scope(engine) as session:
        assert health.active_pauses(session, datetime.now(UTC)) == []
        account = accounts.get_account(session, "lakeshore", "lakeshore_medicaid")
        assert account.unavailable_until is None
    unknown = run_cli(install, "resume", "nowhere")
    assert unknown.returncode == 2 and "no portal named 'nowhere'" in unknown.stderr
