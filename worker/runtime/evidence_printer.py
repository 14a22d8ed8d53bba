"""Printing the pages kept mid-check: a claim's page on first sight is kept as an MHTML archive (about 4 ms), and
turned into the PDF a person files and the screenshot the workspace shows here, once there is nothing to check.

The archive holds the page whole (its styles inside), so it prints offline the way it looked at the
portal, minutes or days later. An archive that does not print is tried a few times and then left (its HTML
and the archive itself stay); an appeal packet prints a claim's archive itself when it needs one not yet
printed (runtime/packets.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import structlog
from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.evidence import archives_to_print, record_print_failed, record_printed
from worker.runtime.evidence import evidence_dir, printed_paths
from worker.runtime.private_files import write_private

log = structlog.get_logger(__name__)

IDLE_PRINTS = 10  # archives printed per idle turn of a runner (about half a second), so new work waits little


def pending_archives(engine: Engine, data_dir: Path, limit: int = 1) -> list[tuple[int, Path]]:
    """(evidence id, archive) of this host's archives with no PDF yet, oldest first. Matched by the folder as the
    files were named (not resolved: an evidence folder an operator symlinked to a bigger disk still matches)."""
    with session_scope(engine) as session:
        rows = archives_to_print(session, str(evidence_dir(data_dir)), limit=limit)
        return [(row.id, Path(row.archive_path)) for row in rows if row.id is not None and row.archive_path]


class EmptyArchive(ValueError):
    """Chromium opened the file and found no page in it (cut short or not MHTML): nothing worth printing."""


def open_archive(page: Page, archive: Path) -> None:
    """Load an archive in `page`; EmptyArchive when it shows nothing (Chromium shows a bad one as a blank page)."""
    page.goto(archive.resolve().as_uri(), wait_until="load")
    if page.locator("body *").count() == 0:
        raise EmptyArchive(archive.name)


def print_archive(context: BrowserContext, archive: Path) -> tuple[bytes, bytes]:
    """(screenshot PNG, PDF) of an archive, loaded in `context` (offline: `print_archives`); PlaywrightError when
    it cannot be."""
    page = context.new_page()
    try:
        open_archive(page, archive)
        return page.screenshot(), page.pdf(print_background=True)
    finally:
        page.close()


def print_archives(engine: Engine, context: BrowserContext, pending: list[tuple[int, Path]]) -> int:
    """Print `pending` archives (pending_archives) in `context`, taken offline first; how many were printed."""
    if not pending:
        return 0
    try:
        context.set_offline(True)  # once for the context: anything an archive does not hold stays unfetched
    except PlaywrightError:
        log.warning("evidence_printing_stopped", error="the browser went")
        return 0  # the archives wait for the next idle turn
    printed = 0
    for evidence_id, archive in pending:
        try:
            if not archive.is_file():
                raise FileNotFoundError(archive.name)
            png, pdf = print_archive(context, archive)
        except (PlaywrightError, OSError, EmptyArchive) as exc:
            if isinstance(exc, PlaywrightError) and not _browser_up(context):
                log.warning("evidence_printing_stopped", error="the browser went")
                break  # no fault of the archive's: it and the rest wait for the next idle turn
            with session_scope(engine) as session:
                record_print_failed(session, evidence_id)
            log.warning("evidence_not_printed", evidence_id=evidence_id, error=type(exc).__name__)
            continue
        png_path, pdf_path = printed_paths(archive)
        write_private(png_path, png)
        write_private(pdf_path, pdf)
        with session_scope(engine) as session:
            stored = record_printed(session, evidence_id, screenshot_path=str(png_path), pdf_path=str(pdf_path))
        if not stored:  # purged while it printed: its files go with it
            png_path.unlink(missing_ok=True)
            pdf_path.unlink(missing_ok=True)
            continue
        printed += 1
    if printed:
        log.info("evidence_printed", pages=printed)
    return printed


def _browser_up(context: BrowserContext) -> bool:
    browser = context.browser
    return browser is not None and browser.is_connected()


class IdlePrinter:
    """The runners' idle turns print what their checks kept: only while no runner of this process holds a batch
    (printing beside a check would slow the very work it was moved off), and one runner at a time."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine, self.data_dir = engine, data_dir
        self._count = threading.Lock()
        self._batches = 0
        self._printing = threading.Lock()

    @contextmanager
    def batch_in_hand(self) -> Iterator[None]:
        with self._count:
            self._batches += 1
        try:
            yield
        finally:
            with self._count:
                self._batches -= 1

    def print_some(
        self,
        open_context: Callable[[], AbstractContextManager[BrowserContext]],
        starting: Callable[[], None] = lambda: None,
    ) -> int:
        """Up to IDLE_PRINTS archives printed in a context `open_context` opens, `starting` told first; 0 when
        busy or none wait."""
        if self._batches:
            return 0
        pending = pending_archives(self.engine, self.data_dir, IDLE_PRINTS)
        if not pending or not self._printing.acquire(blocking=False):
            return 0
        try:
            starting()
            with open_context() as context:
                return print_archives(self.engine, context, pending)
        finally:
            self._printing.release()
