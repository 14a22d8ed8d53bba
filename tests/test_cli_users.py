"""`portal-worker users` and `portal-worker audit`: what an admin types to manage who may log in to the
workspace, and what they see; every refusal names the problem and writes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from store import staff as staff_store
from store.db import create_schema, make_engine, session_scope
from store.models import StaffUser, WebSession
from tests.cli_support import portal_worker
from tests.conftest import write_config
from worker.clock import utcnow
from worker.security.staff import verify_password
from worker.settings import Settings

GOOD = "a-good-long-password-1"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "portal-worker.toml"
    write_config(path, "https://portal.invalid", tmp_path / "data")
    return path


def cli(config: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    ran = portal_worker("--config", str(config), *args, stdin=stdin)
    return ran.returncode, ran.stdout, ran.stderr


def engine_of(config: Path) -> Engine:
    engine = make_engine(Settings.load(config).database_url())
    create_schema(engine)
    return engine


def open_session(engine: Engine, name: str) -> None:
    now = utcnow()
    row = WebSession(id=f"{name}-{now.timestamp()}", user_name=name, csrf_token="t", created_at=now, last_seen_at=now)
    with session_scope(engine) as session:
        staff_store.add_session(session, row)


def sessions_of(engine: Engine, name: str) -> int:
    with session_scope(engine) as session:
        return len(list(session.exec(select(WebSession).where(WebSession.user_name == name))))


def user(engine: Engine, name: str) -> StaffUser | None:
    with session_scope(engine) as session:
        found = staff_store.get_user(session, name)
        if found is not None:
            session.expunge(found)
        return found


def test_an_admin_manages_users_from_the_command_line(config: Path) -> None:
    code, out, err = cli(config, "users", "add", "maria", "--role", "admin", stdin=GOOD + "\n")
    assert (code, err) == (0, ""), err
    assert "Added maria (admin)." in out
    assert GOOD not in out
    code, out, _ = cli(config, "users", "add", "bob", "--role", "billing", "--generate")
    assert code == 0
    generated = out.split("in person): ", 1)[1].strip()
    assert len(generated) >= 20
    engine = engine_of(config)
    bob = user(engine, "bob")
    assert bob is not None and verify_password(bob.password_hash, generated)

    code, out, _ = cli(config, "users", "list")
    assert code == 0
    assert "maria" in out and "admin" in out and "bob" in out and "billing" in out and "never" in out
    assert generated not in out and "$argon2" not in out

    open_session(engine, "bob")
    code, out, _ = cli(config, "users", "set-password", "bob", stdin="another-long-password\n")
    assert code == 0 and "1 open session ended" in out
    bob = user(engine, "bob")
    assert bob is not None and verify_password(bob.password_hash, "another-long-password")
    assert sessions_of(engine, "bob") == 0

    assert cli(config, "users", "set-role", "bob", "coding")[0] == 0
    assert (bob := user(engine, "bob")) is not None and bob.role == "coding"

    open_session(engine, "bob")
    code, out, _ = cli(config, "users", "disable", "bob")
    assert code == 0 and "Disabled bob; 1 open session ended." in out
    assert (bob := user(engine, "bob")) is not None and bob.disabled and sessions_of(engine, "bob") == 0
    assert "disabled" in cli(config, "users", "list")[1]
    assert cli(config, "users", "enable", "bob")[0] == 0
    assert (bob := user(engine, "bob")) is not None and not bob.disabled

    with session_scope(engine) as session:
        locked = staff_store.get_user(session, "bob")
        assert locked is not None
        locked.failed_logins, locked.locked_until = 5, utcnow() + timedelta(minutes=15)
    assert "locked until" in cli(config, "users", "list")[1]
    assert cli(config, "users", "unlock", "bob")[0] == 0
    assert (bob := user(engine, "bob")) is not None and bob.locked_until is None and bob.failed_logins == 0

    # Every change above is in the audit log, newest first, by the operating-system user, in local time.
    code, out, _ = cli(config, "audit", "--subject", "bob")
    assert code == 0
    lines = [line for line in out.splitlines() if "cli:" in line]
    actions = ["user_unlocked", "user_enabled", "user_disabled", "role_set", "password_set", "user_added"]
    assert [next(a for a in actions if a in line) for line in lines] == actions
    assert "America/New_York" in out
    code, out, _ = cli(config, "audit", "--action", "role_set", "--limit", "1")
    assert "role_set" in out and "user_added" not in out
    code, out, _ = cli(config, "audit", "--limit", "2")
    assert "showing 1-2 of 7; --offset 2 for more" in out
    assert GOOD not in out and "another-long-password" not in out


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (("users", "add", "Maria", "--role", "admin"), GOOD, "login name 'Maria' must be 1-64 lower-case"),
        (("users", "add", "maria", "--role", "boss"), GOOD, "role must be one of admin, billing, coding"),
        (("users", "add", "maria", "--role", "billing"), "short", "a password needs at least 12 characters"),
        (("users", "add", "ada", "--role", "billing"), GOOD, "there is already a user named 'ada'"),
        (("users", "set-password", "nobody"), GOOD, "there is no user named 'nobody'"),
        (("users", "set-password", "ada"), "short", "a password needs at least 12 characters"),
        (("users", "set-role", "ada", "billing"), None, "'ada' is the last enabled admin"),
        (("users", "set-role", "ada", "boss"), None, "role must be one of"),
        (("users", "disable", "ada"), None, "'ada' is the last enabled admin"),
        (("users", "unlock", "nobody"), None, "there is no user named 'nobody'"),
    ],
)
def test_a_refused_user_change_names_the_problem_and_writes_nothing(
    config: Path, args: tuple[str, ...], stdin: str | None, says: str
) -> None:
    assert cli(config, "users", "add", "ada", "--role", "admin", stdin=GOOD + "\n")[0] == 0
    engine = engine_of(config)
    open_session(engine, "ada")
    before = user(engine, "ada")

    code, out, err = cli(config, *args, stdin=None if stdin is None else stdin + "\n")

    assert code == 2
    assert says in err
    assert "Traceback" not in err + out
    assert GOOD not in err + out
    with session_scope(engine) as session:
        assert [u.name for u in staff_store.list_users(session)] == ["ada"]
        assert staff_store.audit_page(session, 10).total == 1  # only the first add
    after = user(engine, "ada")
    assert before is not None and after is not None
    assert (after.role, after.disabled, after.password_hash) == (before.role, before.disabled, before.password_hash)
    assert sessions_of(engine, "ada") == 1


def test_a_second_admin_lets_the_first_step_down(config: Path) -> None:
    cli(config, "users", "add", "ada", "--role", "admin", stdin=GOOD + "\n")
    cli(config, "users", "add", "abe", "--role", "admin", stdin=GOOD + "\n")
    assert cli(config, "users", "set-role", "ada", "billing")[0] == 0
    code, _, err = cli(config, "users", "disable", "abe")
    assert code == 2 and "'abe' is the last enabled admin" in err


def test_an_empty_audit_log_and_user_list_say_so(config: Path) -> None:
    assert "No workspace users yet" in cli(config, "users", "list")[1]
    assert "No audit entries match." in cli(config, "audit", "--user", "nobody")[1]
