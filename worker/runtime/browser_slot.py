"""One runner's browser: launched on first use, recycled after N tasks or past a memory limit.

Playwright's sync API belongs to the thread that started it (docs/architecture.md), so a slot is
created, used and closed by its runner thread alone; only `kill()` may be called from
another thread (the watchdog), and it works on processes, not on Playwright objects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil
import structlog
from playwright.sync_api import Browser, Playwright, sync_playwright

from worker.runtime.browser import ChromiumChoice, launch_options
from worker.runtime.processes import kill_tree, marker_arg, rss_mb, tagged_browsers

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RecyclePolicy:
    after_tasks: int
    max_rss_mb: float


class BrowserSlot:
    """A runner's browser. Given a `shared` browser (a caller's, used from the caller's own thread), the slot
    only hands it out: launching, recycling, closing and killing are the caller's business."""

    def __init__(
        self,
        choice: ChromiumChoice,
        *,
        data_dir: Path,
        runner: str,
        policy: RecyclePolicy,
        headless: bool = True,
        extra_args: tuple[str, ...] = (),
        shared: Browser | None = None,
    ) -> None:
        self.choice, self.data_dir, self.runner, self.policy = choice, data_dir, runner, policy
        self.headless, self.extra_args = headless, extra_args
        self.shared = shared
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self.tasks_since_launch = 0
        self.launches = 0

    def browser(self) -> Browser:
        if self.shared is not None:
            return self.shared
        if self._browser is not None and not self._browser.is_connected():
            log.warning("browser_lost", runner=self.runner)
            self.close()
        if self._browser is None:
            self._playwright = sync_playwright().start()
            args = (*self.extra_args, marker_arg(self.data_dir, self.runner))
            self._browser = self._playwright.chromium.launch(
                **launch_options(self.choice, headless=self.headless, extra_args=args)
            )
            self.launches += 1
            self.tasks_since_launch = 0
            log.info("browser_started", runner=self.runner, version=self._browser.version, source=self.choice.source)
        return self._browser

    def connected(self) -> bool:
        browser = self.shared or self._browser
        return browser is not None and browser.is_connected()

    def task_done(self) -> None:
        self.tasks_since_launch += 1

    def recycle_if_due(self) -> str | None:
        """Close the browser when it has served its tasks or grown too big; returns why, if it did."""
        if self._browser is None:
            return None
        reason = None
        if self.tasks_since_launch >= self.policy.after_tasks:
            reason = f"{self.tasks_since_launch} tasks"
        else:
            used = self.memory_mb()
            if used > self.policy.max_rss_mb:
                reason = f"{used:.0f} MB in use"
        if reason:
            log.info("browser_recycled", runner=self.runner, reason=reason)
            self.close()
        return reason

    def memory_mb(self) -> float:
        return rss_mb(self._processes())

    def kill(self) -> int:
        """From any thread: kill this runner's Chromium so a hung Playwright call fails at once."""
        return 0 if self.shared is not None else kill_tree(self._processes())

    def close(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None and browser.is_connected():
                browser.close()
        except Exception:  # noqa: BLE001  (a dead browser cannot be closed politely; the kill below ends it)
            log.warning("browser_close_failed", runner=self.runner)
        finally:
            if playwright is not None:
                try:
                    playwright.stop()
                except Exception:  # noqa: BLE001
                    log.warning("playwright_stop_failed", runner=self.runner)
            self.kill()  # whatever survived close(): no Chromium outlives its slot

    def _processes(self) -> list[psutil.Process]:
        return tagged_browsers(self.data_dir, pid=os.getpid(), runner=self.runner)
