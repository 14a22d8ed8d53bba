"""A runner's browser: its share of the worker's one browser (browser_host.py), or a caller's own browser.

A runner asks its slot for a context per batch and tells it when a task is done; the watchdog asks
it to end a stuck task's browser work (`kill`). `run` and `check` give every runner a share of one
`BrowserHost`; a caller that owns a browser and drives one runner from its own thread (tests) gives
it that browser, whose launching and closing stay the caller's business.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from playwright.sync_api import Browser, BrowserContext

from worker.runtime.browser import account_context
from worker.runtime.browser_host import BrowserHost


class BrowserSlot(Protocol):
    def context(self, state_file: Path | None) -> AbstractContextManager[BrowserContext]: ...
    def task_done(self) -> None: ...
    def recycle_if_due(self) -> str | None: ...
    def connected(self) -> bool: ...
    def kill(self) -> int: ...


class HostedSlot:
    """A runner's share of the worker's browser: a context of its own per batch."""

    def __init__(self, host: BrowserHost) -> None:
        self.host = host
        self._context: BrowserContext | None = None
        self._closing = False  # the watchdog already closed the context in hand

    @contextmanager
    def context(self, state_file: Path | None) -> Iterator[BrowserContext]:
        with self.host.context(state_file) as context:
            self._context, self._closing = context, False
            try:
                yield context
            finally:
                self._context = None

    def task_done(self) -> None:
        self.host.task_done()

    def recycle_if_due(self) -> str | None:
        return self.host.recycle_if_due()

    def connected(self) -> bool:
        return self.host.connected()

    def kill(self) -> int:
        """From the watchdog's thread: a task past its deadline. Its context is closed, so the hung call fails;
        a runner still stuck at the next look (the host itself hangs) has the whole browser killed."""
        context = self._context
        if context is not None and not self._closing:
            self._closing = True
            self.host.close_soon(context)
            return 1
        return self.host.kill()


class CallerSlot:
    """A browser the caller owns and drives from its own thread: used as it is, never launched or closed here."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser

    def context(self, state_file: Path | None) -> AbstractContextManager[BrowserContext]:
        return account_context(self.browser, state_file)

    def task_done(self) -> None:
        pass

    def recycle_if_due(self) -> str | None:
        return None

    def connected(self) -> bool:
        return self.browser.is_connected()

    def kill(self) -> int:
        return 0
