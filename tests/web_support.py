"""The workspace under test: a store filled by a real check against the fake portal, served by the real
application (web.app.create_app, as `portal-worker web` serves it) on a free port, with a clock tests move."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine

from fake_portal.launcher import RunningPortal
from flows.auth_import import import_auths_file
from flows.claim_import import import_claims_file
from flows.provider_import import import_providers_file
from store.db import create_schema, make_engine, session_scope
from web.app import create_app
from worker.clock import utcnow
from worker.delivery.notify import refresh_alerts
from worker.runtime.check import Check
from worker.security.credentials import KEY_FILE_ENV, open_store
from worker.security.staff import add_user
from worker.settings import Settings

# A password per role for the users every workspace test has; test data only.
PASSWORDS = {
    "admin": "admin-password-1234",
    "billing": "billing-password-1234",
    "coding": "coding-password-1234",
    "front_desk": "front-desk-password-1234",
    "credentialing": "credentialing-pass-1234",
}
USER_OF_ROLE = {"admin": "ada", "billing": "bea", "coding": "cody", "front_desk": "fran", "credentialing": "cris"}


class MovableClock:
    """The workspace's wall clock: real time plus however far a test has moved it."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@dataclass
class RunningWorkspace:
    url: str
    settings: Settings
    engine: Engine
    clock: MovableClock
    config_path: Path

    def login(self, page: Page, role: str = "billing") -> None:
        """Log in as the test user of `role` through the login form."""
        page.goto(f"{self.url}/login")
        page.get_by_label("Login name").fill(USER_OF_ROLE[role])
        page.get_by_label("Password").fill(PASSWORDS[role])
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _fill_from_portal(portal: RunningPortal, root: Path) -> None:
    """Import the practice's exports and check everything once, as `portal-worker demo` does."""
    from tests.conftest import PORTAL_NAMES, Workspace, write_config  # conftest imports this module's fixtures

    config_path = root / "portal-worker.toml"
    write_config(config_path, portal.url, root / "data")
    settings = Settings.load(config_path)
    engine = make_engine(settings.database_url())
    create_schema(engine)
    for name, importer in (
        ("claims", import_claims_file),
        ("auths", import_auths_file),
        ("providers", import_providers_file),
    ):
        export = root / f"{name}.csv"
        export.write_bytes(httpx.get(f"{portal.url}/pms/{name}.csv", timeout=10).content)
        importer(engine, export, utcnow())
    accounts = Workspace(root, config_path, root / "claims.csv", portal, truth=None)  # type: ignore[arg-type]
    store = open_store(settings.worker.data_dir)
    for name in PORTAL_NAMES.values():
        store.save(name, accounts.default_credentials(name))
    Check(settings, credentials=store, engine=engine).run()
    refresh_alerts(settings, engine, utcnow())
    engine.dispose()


@pytest.fixture(scope="session")
def checked_store(fake_portal_server: RunningPortal, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose store went through one full check of the fake portal: claims, payments,
    denials, authorizations, enrollments, alerts. Built once per test process; tests get copies."""
    root = tmp_path_factory.mktemp("checked-store")
    key_file = root / "keyring.key"
    key_file.write_text("test-only-key-0123456789abcdef")
    key_file.chmod(0o600)
    before = os.environ.get(KEY_FILE_ENV)
    os.environ[KEY_FILE_ENV] = str(key_file)
    try:
        fake_portal_server.admin("reset", {})
        _fill_from_portal(fake_portal_server, root)
    finally:
        if before is None:
            os.environ.pop(KEY_FILE_ENV, None)
        else:
            os.environ[KEY_FILE_ENV] = before
    return root / "data"


def serve(settings: Settings, engine: Engine, clock: MovableClock, config_path: Path) -> Iterator[RunningWorkspace]:
    """The workspace application on a free loopback port, in a thread of this process, until the test ends."""
    application = create_app(settings, engine, clock=clock)
    listening = socket.socket()
    # uvicorn sets no TCP_NODELAY on a socket it is handed: each keep-alive response would wait ~40 ms
    # for the browser's delayed ACK
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listening.bind(("127.0.0.1", 0))
    listening.listen()  # connections queue from here on: no waiting for the server to start
    port = int(listening.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(application, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, name="workspace", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        yield RunningWorkspace(url, settings, engine, clock, config_path)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listening.close()


def add_test_users(engine: Engine) -> None:
    with session_scope(engine) as session:
        for role, name in USER_OF_ROLE.items():
            add_user(session, name, role, PASSWORDS[role], utcnow())


def _workspace_in(root: Path, data_dir: Path, extra_config: str = "") -> tuple[Settings, Engine, Path]:
    from tests.conftest import write_config

    config_path = root / "portal-worker.toml"
    write_config(config_path, "https://portal.invalid", data_dir, extra=extra_config)
    settings = Settings.load(config_path)
    engine = make_engine(settings.database_url())
    create_schema(engine)
    add_test_users(engine)
    return settings, engine, config_path


@pytest.fixture
def web(checked_store: Path, tmp_path: Path) -> Iterator[RunningWorkspace]:
    """The workspace over a copy of the checked store, with one user per role (USER_OF_ROLE, PASSWORDS)."""
    data_dir = tmp_path / "data"
    shutil.copytree(checked_store, data_dir, ignore=shutil.ignore_patterns("*.key", "credentials*"))
    settings, engine, config_path = _workspace_in(tmp_path, data_dir)
    yield from serve(settings, engine, MovableClock(), config_path)
    engine.dispose()


@pytest.fixture
def empty_web(tmp_path: Path) -> Iterator[RunningWorkspace]:
    """The workspace over a new, empty store (empty states), with one user per role."""
    settings, engine, config_path = _workspace_in(tmp_path, tmp_path / "data")
    yield from serve(settings, engine, MovableClock(), config_path)
    engine.dispose()
