"""Shared fixtures: one fake portal server per test session, reset before each test; system Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from playwright.sync_api import BrowserType
from sqlalchemy.engine import Engine

from fake_portal import launcher
from fake_portal.data import Dataset, generate
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.types import Credentials
from store.db import make_engine
from tests.pg_support import drop_worker_database
from worker.runtime.browser import find_chromium, launch_options
from worker.security.credentials import KEY_FILE_ENV, CredentialStore, open_store
from worker.settings import Settings

# The fake portal's data set is pinned so tests see the same claims on any day.
FAKE_PORTAL_ARGS = ("--seed", "7", "--start-date", "2026-11-02", "--medicaid-latency-ms", "50")


# --- markers that stay true, and what each test process leaves behind --------


# pytest-playwright's fixtures that launch Chromium: a test using one is a `browser` test.
BROWSER_FIXTURES = frozenset({"browser", "launch_browser", "context", "new_context", "page"})


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def chromium_only_in_browser_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test not marked `browser` that launches Chromium in this process (a runner, `check`) fails: the
    marker is what `make test-fast` leaves out."""
    if request.node.get_closest_marker("browser") is not None:
        yield
        return
    launched: list[str] = []

    def refuse(*_args: object, **_kwargs: object) -> NoReturn:
        launched.append(request.node.nodeid)
        raise RuntimeError(f"{request.node.nodeid} launches Chromium but is not marked browser")

    for launch in ("launch", "launch_persistent_context"):
        monkeypatch.setattr(BrowserType, launch, refuse)
    yield
    if launched:
        pytest.fail(f"{launched[0]} launches Chromium: mark it @pytest.mark.browser", pytrace=False)


CHEAP_KDF = Path(__file__).resolve().parent / "cheap_kdf"


@pytest.fixture(autouse=True)
def cheap_argon2(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one place tests lower the credential file's Argon2 cost: in this process, and (through
    tests/cheap_kdf/sitecustomize.py on PYTHONPATH) in every worker process a test starts. A test marked
    `production_kdf` keeps the real cost."""
    if request.node.get_closest_marker("production_kdf") is not None:
        return
    from keyrings.cryptfile.cryptfile import ArgonAESEncryption

    monkeypatch.setattr(ArgonAESEncryption, "time_cost", 1)
    monkeypatch.setattr(ArgonAESEncryption, "memory_cost", 16)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(CHEAP_KDF), os.environ.get("PYTHONPATH")])))


def pytest_sessionfinish() -> None:
    drop_worker_database()


@pytest.fixture(scope="session")
def fake_portal_server() -> Iterator[RunningPortal]:
    server = launcher.start(*FAKE_PORTAL_ARGS)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_portal(fake_portal_server: RunningPortal) -> RunningPortal:
    """The fake portal with clock, faults, accounts and sessions back at their start."""
    fake_portal_server.admin("reset", {})
    return fake_portal_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's browser: the same Chromium and flags the worker uses."""
    return {**browser_type_launch_args, **launch_options(find_chromium())}


# --- a configured worker pointed at the fake portal ------------------------


PORTAL_NAMES = {"clearinghouse": "summit", "commercial": "unity", "medicaid": "lakeshore"}
ADAPTER_OF = {"summit": "summit_exchange", "unity": "unity_health", "lakeshore": "lakeshore_medicaid"}
PAYERS_OF = {"summit": ["NWM", "BBH"], "unity": ["UHP"], "lakeshore": ["LSM"]}


@dataclass
class Workspace:
    """A worker install in tmp: config, encrypted credentials, the PM export, the fake portal."""

    root: Path
    config_path: Path
    claims_csv: Path
    portal: RunningPortal
    truth: Dataset = field(repr=False)
    # Tests poll the store several times a second: the config is loaded again only when its text
    # changed, and the store is opened once per database.
    _loaded: tuple[str, Settings] | None = field(default=None, init=False, repr=False)
    _engines: dict[str, Engine] = field(default_factory=dict, init=False, repr=False)

    @property
    def settings(self) -> Settings:
        """The config as the worker would load it now."""
        text = self.config_path.read_text()
        if self._loaded is None or self._loaded[0] != text:
            self._loaded = (text, Settings.load(self.config_path))
        return self._loaded[1]

    @property
    def engine(self) -> Engine:
        """The store the config names."""
        url = self.settings.database_url()
        if url not in self._engines:
            self._engines[url] = make_engine(url)
        return self._engines[url]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()

    @property
    def credentials(self) -> CredentialStore:
        return open_store(self.settings.worker.data_dir)

    def default_credentials(self, portal: str) -> Credentials:
        prefix = {v: k for k, v in PORTAL_NAMES.items()}[portal]
        account = next(a for a in DEFAULT_ACCOUNTS if a.portal == prefix)
        answers = (
            {account.security_question: account.security_answer}
            if account.security_question and account.security_answer
            else {}
        )
        return Credentials(account.username, account.password, account.totp_secret, answers)


def write_config(path: Path, portal_url: str, data_dir: Path, extra: str = "", pace_seconds: float = 0) -> None:
    """A worker config for the three fake portals. No pacing by default: the fake portal needs no politeness
    and tests would wait it out (tests/test_run_pacing.py sets a pace and checks it holds)."""
    lines = ["[worker]", f'data_dir = "{data_dir}"', "", "[browser]", "element_timeout_s = 3", ""]
    for prefix, name in PORTAL_NAMES.items():
        payers = ", ".join(f'"{p}"' for p in PAYERS_OF[name])
        lines += [
            f"[portals.{name}]",
            f'adapter = "{ADAPTER_OF[name]}"',
            f'base_url = "{portal_url}/{prefix}"',
            f"payers = [{payers}]",
            f"pace_seconds = {pace_seconds}",
            "",
        ]
    path.write_text("\n".join(lines) + extra)


@pytest.fixture
def workspace(tmp_path: Path, fake_portal: RunningPortal, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    key_file = tmp_path / "keyring.key"
    key_file.write_text("test-only-key-0123456789abcdef")
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    config_path = tmp_path / "portal-worker.toml"
    write_config(config_path, fake_portal.url, tmp_path / "data")
    claims_csv = tmp_path / "claims.csv"
    claims_csv.write_bytes(httpx.get(f"{fake_portal.url}/pms/claims.csv", timeout=10).content)
    ws = Workspace(tmp_path, config_path, claims_csv, fake_portal, generate(seed=7, start=date(2026, 11, 2)))
    store = ws.credentials
    for name in PORTAL_NAMES.values():
        store.save(name, ws.default_credentials(name))
    yield ws
    ws.close()


# --- the staff workspace ------------------------------------------------------

from tests.web_support import checked_store, empty_web, web  # noqa: E402, F401  (fixtures for the workspace tests)
