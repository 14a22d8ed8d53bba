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
    def taken_away(self) -> bool: ...
    def cut_off(self) -> bool: ...


class BrowserLost(RuntimeError):
    """The batch's browser went away under a task that was not at fault: the task and the rest go back unworked."""


class HostedSlot:
    """A runner's share of the worker's browser: a context of its own per batch."""

    def __init__(self, host: BrowserHost) -> None:
        self.host = host
        self._context: BrowserContext | None = None
        self._closing = False  # the watchdog already closed the context in hand
        self._generation = 0  # the host's when the context in hand was opened

    @contextmanager
    def context(self, state_file: Path | None) -> Iterator[BrowserContext]:
        with self.host.context(state_file) as context:
            self._context, self._closing, self._generation = context, False, self.host.generation
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

    def taken_away(self) -> bool:
        """Whether the browser died under the context in hand, or was killed for another runner's stuck task: then
        a task's failure is no failure of that task's, nor of its portal's (a crash may surface as "could not load").
        A task of this runner's that the watchdog ended did fail."""
        return not self._closing and (self.host.generation != self._generation or not self.host.connected())

    def cut_off(self) -> bool:
        """Whether the watchdog ended the task in hand (its context closed, or the browser killed for it)."""
        return self._closing


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

    def taken_away(self) -> bool:
        return False  # the caller's browser is never relaunched here: its tasks fail, to be retried and parked

    def cut_off(self) -> bool:
        return False  # the watchdog never ends work in a caller's browser (`kill`)
