"""An appeal packet as one PDF: flows/appeal_packet.py says what goes in; here its pages are printed by
Chromium's own page.pdf in a short-lived browser, merged with pypdf with a bookmark per part, and written
privately and atomically (temp file, fsync, rename; 0600) as packets/denial-ID.pdf in the data folder."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import structlog
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows.appeal_packet import PacketPlan, PacketProblem, PartKind, letters, plan_packet
from flows.deadlines import load_payer_rules
from store.appeal_packets import packet_facts
from store.db import session_scope
from worker.runtime.browser import find_chromium, in_a_thread_of_its_own, open_browser
from worker.runtime.evidence import evidence_dir
from worker.runtime.evidence_printer import EmptyArchive, open_archive
from worker.runtime.private_files import write_private
from worker.settings import Settings

log = structlog.get_logger(__name__)
PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class BuiltPacket:
    path: Path
    pages: int
    plan: PacketPlan


def packets_dir(data_dir: Path) -> Path:
    return data_dir / "packets"


def packet_path(data_dir: Path, denial_id: int) -> Path:
    """Where a denial's packet is kept: named by the denial id alone (no patient in a file name)."""
    return packets_dir(data_dir) / f"denial-{denial_id}.pdf"


def check_target(out: Path) -> None:
    """A file name in a folder that exists (said before any work)."""
    if out.is_dir():
        raise PacketProblem(f"--out {out}: is a folder; give a file name in it")
    if not out.parent.is_dir():
        raise PacketProblem(f"--out {out}: there is no folder {out.parent}")


def check_attachments(attachments: Sequence[Path]) -> list[PdfReader]:
    """Each attachment must be a readable PDF; PacketProblem names the first that is not."""
    readers = []
    for n, path in enumerate(attachments, start=1):
        where = f"attachment {n} ({path.name})"
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise PacketProblem(f"{where}: there is no such file") from None
        except IsADirectoryError:
            raise PacketProblem(f"{where}: is a folder, not a PDF file") from None
        except OSError as e:
            raise PacketProblem(f"{where}: cannot be read ({e.strerror or e.__class__.__name__})") from None
        if not data.startswith(PDF_MAGIC):
            raise PacketProblem(f"{where}: is not a PDF file")
        try:
            reader = PdfReader(io.BytesIO(data))
            if len(reader.pages) == 0:
                raise PacketProblem(f"{where}: the PDF has no pages")
        except (PdfReadError, ValueError, KeyError, TypeError) as e:
            raise PacketProblem(f"{where}: is not a readable PDF ({e.__class__.__name__})") from None
        readers.append(reader)
    return readers


def _inside(folder: Path, stored: str) -> Path | None:
    """A kept file's path if it is a file inside `folder` (symlinks followed), else None."""
    if not stored:
        return None
    base = folder.resolve()
    try:
        path = (base / stored).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return path if path.is_relative_to(base) and path.is_file() else None


def _print_pages(settings: Settings, pages: Sequence[str | Path]) -> list[bytes]:
    """Each page printed by Chromium (Letter, backgrounds on), in one short-lived browser, offline: HTML, or a
    page a check kept as an MHTML archive and the worker has not printed yet."""

    def work() -> list[bytes]:
        chromium = find_chromium(settings.browser.executable_path or None)
        with open_browser(chromium, headless=True, extra_args=tuple(settings.browser.extra_args)) as browser:
            context = browser.new_context(java_script_enabled=False, offline=True)
            try:
                page = context.new_page()
                printed = []
                for source in pages:
                    if isinstance(source, Path):
                        try:
                            open_archive(page, source)
                        except EmptyArchive:
                            raise PacketProblem(
                                f"the page kept as {source.name} is cut short or no page at all, so it cannot be "
                                "printed; its HTML is beside it in the evidence folder"
                            ) from None
                    else:
                        page.set_content(source, wait_until="load")
                    printed.append(page.pdf(format="Letter", print_background=True, prefer_css_page_size=True))
                return printed
            finally:
                context.close()

    return in_a_thread_of_its_own(work)


def _merge(plan: PacketPlan, printed: Sequence[bytes], attachments: Sequence[PdfReader]) -> tuple[bytes, int]:
    writer = PdfWriter()
    html_pages, staff = iter(printed), iter(attachments)
    for part in plan.parts:
        if part.to_print is not None:
            reader = PdfReader(io.BytesIO(next(html_pages)))
        elif part.kind is PartKind.ATTACHMENT:
            reader = next(staff)
        else:
            assert part.pdf is not None
            try:
                reader = PdfReader(part.pdf)
                reader.pages[0]  # a kept PDF that cannot be read fails here, not half-way
            except (PdfReadError, OSError, ValueError, IndexError, KeyError) as e:
                raise PacketProblem(
                    f"the kept file for “{part.title}” is not a readable PDF ({type(e).__name__})"
                ) from None
        first = len(writer.pages)
        for page in reader.pages:
            writer.add_page(page)
        writer.add_outline_item(part.title, first)
    writer.add_metadata({"/Title": f"Appeal packet, denial {plan.denial_id}", "/Producer": "portal-worker"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), len(writer.pages)


def prepare_packet(
    settings: Settings, session: Session, denial_id: int, *, today: date, attachments: Sequence[Path] = ()
) -> PacketPlan:
    """What denial `denial_id`'s packet holds, read in the caller's session (kept short: on SQLite every
    transaction holds the write lock). PacketProblem for an unknown denial, nothing to file, a bad attachment
    or a bad template."""
    check_attachments(attachments)
    facts = packet_facts(session, denial_id)
    if facts is None:
        raise PacketProblem(f"there is no denial {denial_id} in the store (portal-worker worklist lists them)")
    kept = evidence_dir(settings.worker.data_dir)
    return plan_packet(
        facts,
        playbook=settings.playbook(),
        rules=load_payer_rules(),
        env=letters(settings.config_path.parent if settings.config_path else None),
        today=today,
        practice=settings.practice.name,
        attachments=list(attachments),
        readable=lambda stored: _inside(kept, stored),
    )


def write_packet(settings: Settings, plan: PacketPlan, *, out: Path | None = None) -> BuiltPacket:
    """Print the plan's pages, merge them with its PDFs (bookmark per part) and write the packet to `out` or
    packets/denial-ID.pdf, whole or not at all. No store access: call it after the session is closed."""
    if out is not None:
        check_target(out)
    target = out if out is not None else packet_path(settings.worker.data_dir, plan.denial_id)
    staff = check_attachments([part.pdf for part in plan.parts if part.kind is PartKind.ATTACHMENT and part.pdf])
    printed = _print_pages(settings, [source for part in plan.parts if (source := part.to_print) is not None])
    data, pages = _merge(plan, printed, staff)
    write_private(target, data)
    log.info(
        "appeal_packet_built",
        denial_id=plan.denial_id,
        correction=plan.correction,
        level=plan.level,
        parts=len(plan.parts),
        pages=pages,
        still_to_attach=len(plan.checklist),
    )
    return BuiltPacket(target, pages, plan)


def build_packet(
    settings: Settings,
    engine: Engine,
    denial_id: int,
    *,
    today: date,
    attachments: Sequence[Path] = (),
    out: Path | None = None,
) -> BuiltPacket:
    """Build denial `denial_id`'s packet (appeal letter, or correction sheet for a soft denial to correct)
    and write it to `out` or packets/denial-ID.pdf. PacketProblem (nothing written) for an unknown denial,
    nothing to file, a bad attachment, a bad template or a bad --out."""
    if out is not None:
        check_target(out)
    with session_scope(engine) as session:
        plan = prepare_packet(settings, session, denial_id, today=today, attachments=attachments)
    return write_packet(settings, plan, out=out)
