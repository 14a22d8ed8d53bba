"""One Chromium per worker process, owned by one thread, shared by every runner.

Each runner works one portal account at a time in a browser context of its own (cookies, storage
state and pacing stay per account), but the contexts live in one browser: one Chromium and one
Playwright driver instead of one of each per runner, which is most of a runner's memory
(docs/architecture.md, "One browser per host"). Playwright's sync API belongs to the thread that
started it, so the host's thread owns Playwright and the browser, and runs every call the runners
make on them (remote.py), each in a greenlet of its own: while one runner's page loads, another's
call runs.

The host launches Chromium on first use and again after it died (a crash, or `kill`): the batches
that had contexts in it fail and hand their tasks back, and the next batch gets the new browser. It
is recycled after `after_tasks` tasks or past `max_rss_mb`, once the contexts open at that moment
have closed (new ones wait for it). The watchdog closes a stuck runner's context (`close_soon`), or
kills the whole browser (`kill`), from any thread.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import greenlet  # type: ignore[import-untyped]  # Playwright's own dependency; it ships no types
import psutil
import structlog
from playwright._impl._greenlets import wait_for_future  # the wait a sync call makes, to keep the loop running
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from worker.runtime.browser import ChromiumChoice, account_context, launch_options
from worker.runtime.processes import kill_tree, marker_arg, rss_mb, tagged_browsers
from worker.runtime.remote import Remote, as_context

log = structlog.get_logger(__name__)

T = TypeVar("T")
HOST = "host"  # the runner name in the browser's process tag (processes.py)


@dataclass(frozen=True)
class RecyclePolicy:
    after_tasks: int
    max_rss_mb: float


class HostStopped(RuntimeError):
    """The host thread is gone (the worker is stopping): nothing more runs on its browser."""


class BrowserHost:
    """The worker process's browser and the thread that drives it."""

    def __init__(
        self,
        choice: ChromiumChoice,
        *,
        data_dir: Path,
        policy: RecyclePolicy,
        headless: bool = True,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.choice, self.data_dir, self.policy = choice, data_dir, policy
        self.headless, self.extra_args = headless, extra_args
        self.launches = 0
        self.generation = 0  # raised when the browser is killed or found dead: a context older than it is gone
        self.tasks_since_launch = 0
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._open = 0  # contexts open now
        self._recycle_due: str | None = None  # why the browser goes once its open contexts close
        self._state = threading.Condition()
        self._launching = threading.Lock()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_id: int | None = None
        self._loop_call: Callable[[Callable[[], None]], None] | None = None
        self._stop: Callable[[], None] | None = None
        self._failure: BaseException | None = None

    # --- running work on the host thread ------------------------------------------------

    def call(self, work: Callable[[], T]) -> T:
        """Run `work` on the host thread, in a greenlet of its own, and return its result (or raise its error)."""
        if threading.get_ident() == self._thread_id:
            return work()
        schedule = self._started()
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            def body() -> None:
                try:
                    done.set_result(work())
                except BaseException as exc:  # noqa: BLE001  (handed to the caller's thread, raised there)
                    done.set_exception(exc)

            greenlet.greenlet(body).switch()

        schedule(start)
        return done.result()

    def _started(self) -> Callable[[Callable[[], None]], None]:
        with self._state:
            if self._thread is None or not self._thread.is_alive():
                self._ready.clear()
                self._thread = threading.Thread(target=self._serve, name="browser-host", daemon=True)
                self._thread.start()
        self._ready.wait()
        if self._loop_call is None:
            raise HostStopped(f"the browser host could not start: {self._failure!r}")
        return self._loop_call

    def _serve(self) -> None:
        """The host thread: Playwright's loop runs until `stop`, answering `call`s in between."""
        self._thread_id = threading.get_ident()
        try:
            with sync_playwright() as playwright:
                self._playwright = playwright
                impl = playwright._impl_obj
                loop, fiber = impl._loop, impl._dispatcher_fiber
                stopped = loop.create_future()

                def schedule(callback: Callable[[], None]) -> None:
                    loop.call_soon_threadsafe(callback)

                def stop() -> None:
                    loop.call_soon_threadsafe(lambda: None if stopped.done() else stopped.set_result(None))

                self._loop_call, self._stop = schedule, stop
                self._ready.set()
                wait_for_future(loop, fiber, stopped)
                self._close_browser()
        except BaseException as exc:
            self._failure = exc
            log.exception("browser_host_failed")
        finally:
            self._loop_call = self._stop = None
            self._thread_id = None
            self._ready.set()

    # --- the browser ----------------------------------------------------------------------

    @contextmanager
    def context(self, state_file: Path | None) -> Iterator[BrowserContext]:
        """A context for one portal account in the shared browser (account_context), for a runner's batch."""
        with self._state:
            while self._recycle_due and self._open:  # the browser goes once its open contexts close
                self._state.wait()
            self._open += 1
        try:
            with self._launching:  # one runner launches; the others wait for its browser rather than start more
                browser = self.call(self._launched)
            context_manager = self.call(lambda: account_context(browser, state_file))
            with Remote(self, context_manager) as context:
                yield as_context(context)
        finally:
            with self._state:
                self._open -= 1
                self._state.notify_all()
            self.recycle_if_due()

    def _launched(self) -> Browser:
        """The browser, launched when there is none or the last one died (host thread only)."""
        if self._browser is not None and not self._browser.is_connected():
            log.warning("browser_lost", runner=HOST)
            self.generation += 1
            self._close_browser()
        if self._browser is None:
            assert self._playwright is not None  # set before the host thread takes any call
            args = (*self.extra_args, marker_arg(self.data_dir, HOST))
            self._browser = self._playwright.chromium.launch(
                **launch_options(self.choice, headless=self.headless, extra_args=args)
            )
            self.launches += 1
            self.tasks_since_launch = 0
            log.info("browser_started", runner=HOST, version=self._browser.version, source=self.choice.source)
        return self._browser

    def connected(self) -> bool:
        browser = self._browser
        return browser is not None and self.call(browser.is_connected)

    def task_done(self) -> None:
        with self._state:
            self.tasks_since_launch += 1

    def recycle_if_due(self) -> str | None:
        """Close the browser when it has served its tasks or grown too big and no context is open; returns why."""
        if self._browser is None:
            return None
        with self._state:
            if self._recycle_due is None:
                if self.tasks_since_launch >= self.policy.after_tasks:
                    self._recycle_due = f"{self.tasks_since_launch} tasks"
                elif (used := self.memory_mb()) > self.policy.max_rss_mb:
                    self._recycle_due = f"{used:.0f} MB in use"
            if self._recycle_due is None or self._open:
                return None
            reason, self._recycle_due = self._recycle_due, None
            log.info("browser_recycled", runner=HOST, reason=reason)
            self.call(self._close_browser)
            self._state.notify_all()
            return reason

    def memory_mb(self) -> float:
        return rss_mb(self._processes())

    def close_soon(self, context: BrowserContext) -> None:
        """From any thread, without waiting: close a stuck runner's context, so its hung call fails at once."""
        schedule = self._loop_call
        if schedule is not None:  # the greenlet is made on the host thread: a greenlet belongs to its thread
            schedule(lambda: greenlet.greenlet(lambda: _close_quietly(context)).switch())

    def kill(self) -> int:
        """From any thread: kill the browser's processes; every batch in it fails and hands its tasks back."""
        self.generation += 1  # before the kill: a runner whose call fails with it must see why
        return kill_tree(self._processes())

    def close(self) -> None:
        """Close the browser and end the host thread (the worker is stopping); whatever survived is killed."""
        stop, thread = self._stop, self._thread
        if stop is not None:
            stop()
        if thread is not None:
            thread.join(30)
        self.kill()

    def _close_browser(self) -> None:
        browser, self._browser = self._browser, None
        if browser is None:
            return
        try:
            if browser.is_connected():
                browser.close()
        except Exception:  # noqa: BLE001  (a dead browser cannot be closed politely; the kill below ends it)
            log.warning("browser_close_failed", runner=HOST)
        finally:
            self.kill()

    def _processes(self) -> list[psutil.Process]:
        return tagged_browsers(self.data_dir, pid=os.getpid(), runner=HOST)


def _close_quietly(context: BrowserContext) -> None:
    try:
        context.close()
    except Exception:  # noqa: BLE001  (already closed, or the browser is gone: either way it is closed)
        log.warning("context_close_failed")
