"""Find a Chromium, launch it the way this worker needs, and hand out contexts per account."""

from __future__ import annotations

import contextvars
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict, TypeVar

import structlog
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from worker.runtime.private_files import write_private

log = structlog.get_logger(__name__)

T = TypeVar("T")

# The real binary first: /usr/bin/chromium is a shell wrapper that adds flags of its own.
SYSTEM_CANDIDATES = (
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
)

BASE_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)

# What flows never need from a portal: fonts and pictures. Any route turns the context's HTTP cache
# off, however narrow its glob (measured with Playwright 1.65 and Chromium 156).
BLOCKED_RESOURCES = "**/*.{png,jpg,jpeg,gif,svg,webp,ico,woff,woff2,ttf}"


class BrowserNotFound(RuntimeError):
    pass


@dataclass(frozen=True)
class ChromiumChoice:
    executable_path: str | None  # None: Playwright's own downloaded Chromium
    source: str  # how it was found, said to the user


def find_chromium(configured: str | None = None) -> ChromiumChoice:
    """The Chromium to drive: config, then $PORTAL_WORKER_CHROMIUM, then the system, then Playwright's."""
    if configured:
        if not Path(configured).is_file():
            raise BrowserNotFound(f"browser.executable_path {configured!r} does not exist")
        return ChromiumChoice(configured, "browser.executable_path in config")
    from_env = os.environ.get("PORTAL_WORKER_CHROMIUM")
    if from_env:
        if not Path(from_env).is_file():
            raise BrowserNotFound(f"PORTAL_WORKER_CHROMIUM={from_env!r} does not exist")
        return ChromiumChoice(from_env, "PORTAL_WORKER_CHROMIUM")
    for candidate in SYSTEM_CANDIDATES:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return ChromiumChoice(candidate, "system Chromium")
    bundled = _playwright_chromium()
    if bundled:
        return ChromiumChoice(None, f"Playwright's Chromium ({bundled})")
    raise BrowserNotFound(
        "no Chromium found: install one (Debian/Ubuntu: `apt-get install chromium`), run "
        "`portal-worker browser setup`, or set browser.executable_path in the config"
    )


def _playwright_chromium() -> str | None:
    try:
        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:  # noqa: BLE001  (no driver or no browser: either way none to use)
        return None
    return path if path and Path(path).is_file() else None


class LaunchOptions(TypedDict):
    """The keyword arguments of Playwright's `chromium.launch` the worker sets."""

    headless: bool
    args: list[str]
    executable_path: NotRequired[str]


def launch_options(choice: ChromiumChoice, *, headless: bool = True, extra_args: tuple[str, ...] = ()) -> LaunchOptions:
    args = list(BASE_ARGS) + list(extra_args)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to sandbox as root
    options: LaunchOptions = {"headless": headless, "args": args}
    if choice.executable_path:
        options["executable_path"] = choice.executable_path
    return options


@contextmanager
def open_browser(
    choice: ChromiumChoice, *, headless: bool = True, extra_args: tuple[str, ...] = ()
) -> Iterator[Browser]:
    """One Playwright and one browser for this thread; both closed however the block ends."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options(choice, headless=headless, extra_args=extra_args))
        log.info("browser_started", version=browser.version, source=choice.source)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def account_context(browser: Browser, state_file: Path | None) -> Iterator[BrowserContext]:
    """A context for one portal account, reusing its saved login; saved back (0600) and closed after."""
    context = browser.new_context(storage_state=saved_login(state_file), service_workers="block")
    context.route(BLOCKED_RESOURCES, lambda route: route.abort())
    try:
        yield context
        if state_file:
            try:
                state = context.storage_state()
            except PlaywrightError:  # closed by the watchdog or gone with the browser: the last saved one stays
                log.warning("session_state_not_saved")
            else:  # whole or not at all: a file no login can read would fail every later batch of the account
                write_private(state_file, json.dumps(state).encode())
    finally:
        context.close()


def saved_login(state_file: Path | None) -> Any:
    """The account's saved cookies and storage, or None to sign in afresh when there is none or it is unreadable."""
    if state_file is None or not state_file.exists():
        return None
    try:
        return json.loads(state_file.read_bytes())
    except (OSError, ValueError) as exc:
        log.warning("session_state_unreadable", error=type(exc).__name__)
        state_file.unlink(missing_ok=True)
        return None


def in_a_thread_of_its_own(work: Callable[[], T]) -> T:
    """Run `work`, which drives a browser, in a new thread and return what it returns (or raise what it raised).

    Sync Playwright refuses a thread with a running asyncio loop, and a caller may have one (a command run
    inside another program, a test session); a thread of its own has none. The log context goes along."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser") as pool:
        return pool.submit(contextvars.copy_context().run, work).result()


def setup_browser() -> tuple[ChromiumChoice, str]:
    """Find a Chromium, installing one if needed. Returns the choice and what was done."""
    try:
        return find_chromium(), "found"
    except BrowserNotFound:
        pass
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and shutil.which("apt-get"):
        # the apt-get that shutil.which just found on PATH
        subprocess.run(["apt-get", "update", "-qq"], check=True)  # noqa: S607
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],  # noqa: S607
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        return find_chromium(), "installed Debian's chromium package with apt-get"
    subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=True)
    return find_chromium(), "downloaded Chromium with `playwright install chromium`"
