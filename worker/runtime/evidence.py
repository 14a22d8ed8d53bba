"""Evidence, written privately (folder 0700, files 0600) and named by claim and time: screenshot, HTML, PDF, trace."""

from __future__ import annotations

import contextlib
import os
import re
from datetime import datetime
from pathlib import Path

import structlog
from playwright.sync_api import BrowserContext
from playwright.sync_api import Error as PlaywrightError

from portals.types import PageSnapshot
from store.models import Evidence
from worker.security.redaction import scrub

log = structlog.get_logger(__name__)


class FailureTrace:
    """A Playwright trace of the task in hand, kept only if the task fails.

    A trace records what is typed (a filled-in password, in plain text), so it runs only while logged in: `start`
    after the login, `discard` before any login (the adapter's `on_login`) and after a task
    that went well, `save` into the evidence when one failed.
    """

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.recording = False

    def start(self) -> None:
        if not self.recording:
            self.context.tracing.start(screenshots=True, snapshots=True)
            self.recording = True

    def discard(self) -> None:
        if self.recording:
            self.recording = False
            with contextlib.suppress(PlaywrightError):  # the browser is gone, and the trace with it
                self.context.tracing.stop()

    def save(self, path: Path) -> Path | None:
        """Stop into `path` (made 0600); None when nothing was being recorded or the browser is gone."""
        if not self.recording:
            return None
        self.recording = False
        try:
            self.context.tracing.stop(path=str(path))
        except PlaywrightError:
            log.warning("trace_not_saved", path=path.name)
            return None
        os.chmod(path, 0o600)  # Playwright wrote it with the umask's mode; the 0700 folder kept others out meanwhile
        return path


def evidence_dir(data_dir: Path) -> Path:
    return data_dir / "evidence"


RECORDS = "records"  # evidence/records/: pages a person may have to show later, kept for `records_days`


def is_record(path: str | Path | None) -> bool:
    """Whether an evidence file is a record (kept for `records_days`), by the folder it was written to."""
    return path is not None and RECORDS in Path(path).parts[-3:-1]


def save_snapshot(
    data_dir: Path,
    snapshot: PageSnapshot,
    *,
    portal: str,
    claim_id: str | None,
    reason: str,
    at: datetime,
    trace: FailureTrace | None = None,
    record: bool = False,
) -> Evidence:
    """A page as it was (screenshot and HTML, typed values blanked), and the task's trace when one failed. A
    `record` is written under evidence/records/, kept for the records retention rather than the short one."""
    base = evidence_dir(data_dir) / RECORDS if record else evidence_dir(data_dir)
    folder = base / _safe(portal)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for private in {evidence_dir(data_dir), base, folder}:
        os.chmod(private, 0o700)
    stem = f"{_safe(claim_id or 'login')}-{at.strftime('%Y%m%dT%H%M%S%fZ')}"
    html_path = _write_private(folder / f"{stem}.html", scrub(blank_typed_values(snapshot.html)).encode())
    png_path = _write_private(folder / f"{stem}.png", snapshot.screenshot_png) if snapshot.screenshot_png else None
    trace_path = trace.save(folder / f"{stem}.trace.zip") if trace else None
    return Evidence(
        created_at=at,
        portal=portal,
        claim_id=claim_id,
        reason=reason,
        url=snapshot.url,
        screenshot_path=str(png_path) if png_path else None,
        html_path=str(html_path),
        trace_path=str(trace_path) if trace_path else None,
    )


def sweep_expired(data_dir: Path, cutoff: datetime, records_cutoff: datetime | None = None) -> int:
    """Delete this install's evidence files last written before `cutoff` (records: before `records_cutoff`),
    whatever the store lists.

    With several hosts on one database, the purge job runs on one of them: it deletes every host's rows
    but can reach only its own files. So each worker also sweeps its own folder by the files' age."""
    folder, removed = evidence_dir(data_dir), 0
    if not folder.is_dir():
        return 0
    for path in folder.rglob("*"):
        expiry = (records_cutoff or cutoff) if is_record(path) else cutoff
        try:
            if path.is_file() and path.stat().st_mtime < expiry.timestamp():
                path.unlink()
                removed += 1
        except FileNotFoundError:  # the purge job removed it meanwhile
            continue
    if removed:
        log.info("evidence_swept", files=removed, older_than=cutoff.date().isoformat())
    return removed


INPUT_TAG = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
BUTTON_TYPE = re.compile(r"""\btype\s*=\s*["']?(submit|button|reset|image)\b""", re.IGNORECASE)
VALUE_ATTRIBUTE = re.compile(r"""((?<![\w-])value\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
TEXTAREA = re.compile(r"(<textarea\b[^>]*>).*?(</textarea>)", re.IGNORECASE | re.DOTALL)


def blank_typed_values(html: str) -> str:
    """The HTML with what was typed or filled in (usernames, passwords) blanked, button labels kept.

    The adapter blanks the fields in the page before taking it (portals/base.py); this holds for any
    snapshot, whoever took it."""

    def blank_input(tag: re.Match[str]) -> str:
        text = tag.group(0)
        return text if BUTTON_TYPE.search(text) else VALUE_ATTRIBUTE.sub(r'\1""', text)

    return TEXTAREA.sub(r"\1\2", INPUT_TAG.sub(blank_input, html))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _write_private(path: Path, data: bytes) -> Path:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def save_confirmation(
    data_dir: Path, snapshot: PageSnapshot, *, portal: str, subject: str, reason: str, at: datetime
) -> tuple[Evidence, str | None]:
    """A page a person may have to show later (an eligibility response, a claim's page on first sight): HTML as any
    evidence, and beside it the page printed as PDF (`pdf_path`) or, kept mid-check, the page whole as MHTML
    (`archive_path`) for the printer (runtime/evidence_printer.py) to turn into the PDF and screenshot later; all
    private. The row is the caller's to store."""
    evidence = save_snapshot(data_dir, snapshot, portal=portal, claim_id=subject, reason=reason, at=at, record=True)
    evidence.claim_id = None  # the subject names the files; it is no claim of ours
    html = Path(evidence.html_path or "")
    if snapshot.archive:
        evidence.archive_path = str(_write_private(html.with_suffix(".mhtml"), snapshot.archive))
    if not snapshot.pdf:
        return evidence, None
    pdf_path = _write_private(html.with_suffix(".pdf"), snapshot.pdf)
    evidence.pdf_path = str(pdf_path)
    return evidence, str(pdf_path)


def printed_paths(archive: Path) -> tuple[Path, Path]:
    """Where an archive's screenshot and PDF go: beside it, named as it is."""
    return archive.with_suffix(".png"), archive.with_suffix(".pdf")
