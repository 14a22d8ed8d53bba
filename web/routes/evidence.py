"""Evidence files (a portal's screenshot, saved page or printed PDF), served only from inside the evidence folder.

A saved page is the payer's HTML: it is never rendered on our origin. It goes out as plain text
under a sandboxing CSP, so no script, form or link in it can act as the workspace. The PDF is the
page as our own Chromium printed it (no scripts): it goes out as a PDF, checked to be one.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from store.claim_detail import get_evidence
from web.deps import CurrentStaff, Db, audit
from web.templating import render
from worker.runtime.evidence import evidence_dir

router = APIRouter()
log = structlog.get_logger("web.evidence")
SANDBOX = "sandbox; default-src 'none'"
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def inside(folder: Path, stored: str) -> Path | None:
    """The stored path, resolved (symlinks followed), if it is a file inside `folder`; else None."""
    base = folder.resolve()
    try:
        path = (base / stored).resolve(strict=True)  # a relative path counts from the folder; an absolute one stays
    except (OSError, RuntimeError):
        return None
    return path if path.is_relative_to(base) and path.is_file() else None


def _refused(request: Request, db: Db, staff: CurrentStaff, evidence_id: int, why: str) -> Response:
    audit(request, db, staff, "evidence_refused", str(evidence_id), why)
    log.warning("evidence_refused", evidence_id=evidence_id, why=why, user=staff.name)
    return render(
        request,
        "error.html",
        status_code=404,
        title="No such evidence file",
        message=f"Evidence {evidence_id} cannot be shown: {why}.",
    )


def _serve(request: Request, db: Db, staff: CurrentStaff, evidence_id: int, which: str) -> Response:
    row = get_evidence(db, evidence_id)
    if row is None:
        return _refused(request, db, staff, evidence_id, "there is no such evidence")
    stored = {"screenshot": row.screenshot_path, "pdf": row.pdf_path}.get(which, row.html_path)
    if not stored:
        return _refused(request, db, staff, evidence_id, f"no {which} was kept")
    path = inside(evidence_dir(request.app.state.settings.worker.data_dir), stored)
    if path is None:
        return _refused(request, db, staff, evidence_id, "the file is missing or outside the evidence folder")
    audit(request, db, staff, "view_evidence", str(evidence_id), which)
    if which == "screenshot":
        media = IMAGE_TYPES.get(path.suffix.lower())
        if media is None:
            return _refused(request, db, staff, evidence_id, "the screenshot is not an image")
        return FileResponse(path, media_type=media, content_disposition_type="inline", filename=path.name)
    if which == "pdf":
        with path.open("rb") as head:
            if head.read(5) != b"%PDF-":
                return _refused(request, db, staff, evidence_id, "the PDF is not a PDF")
        return FileResponse(
            path,
            media_type="application/pdf",
            content_disposition_type="inline",
            filename=path.name,
            headers={"X-Content-Type-Options": "nosniff"},
        )
    return FileResponse(
        path,
        media_type="text/plain; charset=utf-8",
        content_disposition_type="inline",
        filename=path.name + ".txt",
        headers={"Content-Security-Policy": SANDBOX},
    )


@router.get("/evidence/{evidence_id}")
def evidence_screenshot(request: Request, evidence_id: int, db: Db, staff: CurrentStaff) -> Response:
    """The screenshot; the saved page when no screenshot was kept."""
    row = get_evidence(db, evidence_id)
    which = "page" if row is not None and not row.screenshot_path and row.html_path else "screenshot"
    return _serve(request, db, staff, evidence_id, which)


@router.get("/evidence/{evidence_id}/page")
def evidence_page(request: Request, evidence_id: int, db: Db, staff: CurrentStaff) -> Response:
    """The saved page, as text: the payer's HTML is read, never run."""
    return _serve(request, db, staff, evidence_id, "page")


@router.get("/evidence/{evidence_id}/pdf")
def evidence_pdf(request: Request, evidence_id: int, db: Db, staff: CurrentStaff) -> Response:
    """The page as Chromium printed it when the portal first showed it (a claim's denial or payment)."""
    return _serve(request, db, staff, evidence_id, "pdf")
