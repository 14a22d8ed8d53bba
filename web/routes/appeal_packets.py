"""The claim page's "Build appeal packet" button: builds a denial's packet (worker/runtime/packets.py) with the
PDFs staff upload, then hands it over as a download; served only to logged-in staff, and audited."""

from __future__ import annotations

import contextlib
import secrets
import shutil
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session

from flows.appeal_packet import PacketProblem
from store.models import Denial
from web.deps import CurrentStaff, Db, Now, audit
from web.templating import render
from worker.runtime.packets import packet_path, packets_dir, prepare_packet, write_packet

router = APIRouter()
UPLOADS = ".uploads"


def _denial_url(claim_id: str, denial_id: int) -> str:
    return f"/claims/{quote(claim_id, safe='')}/denials/{denial_id}"


def _refused(request: Request, claim_id: str, denial_id: int, why: str, status_code: int) -> Response:
    return render(
        request,
        "appeal_packet_refused.html",
        status_code=status_code,
        title="The appeal packet was not built",
        message=why,
        claim_url=f"/claims/{quote(claim_id, safe='')}#denial-{denial_id}",
    )


def _denial_of(db: Session, claim_id: str, denial_id: int) -> Denial | None:
    denial = db.get(Denial, denial_id)
    return denial if denial is not None and denial.claim_id == claim_id else None


def _save_uploads(folder: Path, uploads: list[UploadFile]) -> list[Path]:
    """The uploads, private, under names of our own (the browser's file name may name the patient)."""
    saved = []
    for n, upload in enumerate((u for u in uploads if u.filename), start=1):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"attachment-{n}.pdf"
        path.write_bytes(upload.file.read())
        path.chmod(0o600)
        saved.append(path)
    return saved


@router.post("/claims/{claim_id}/denials/{denial_id}/packet")
def build(
    request: Request,
    claim_id: str,
    denial_id: int,
    db: Db,
    staff: CurrentStaff,
    moment: Now,
    attach: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    if _denial_of(db, claim_id, denial_id) is None:
        return _refused(request, claim_id, denial_id, f"Claim {claim_id[:64]} has no denial {denial_id}.", 404)
    settings = request.app.state.settings
    folder = packets_dir(settings.worker.data_dir) / UPLOADS / secrets.token_hex(8)
    try:
        attachments = _save_uploads(folder, attach or [])
        today = moment.astimezone(request.app.state.tz).date()
        plan = prepare_packet(settings, db, denial_id, today=today, attachments=attachments)
        db.commit()  # the store is not held while Chromium prints
        built = write_packet(settings, plan)
    except PacketProblem as problem:
        audit(request, db, staff, "appeal_packet_refused", str(denial_id), str(problem)[:200])
        words = str(problem)
        return _refused(request, claim_id, denial_id, f"{words[:1].upper()}{words[1:]}. Nothing was written.", 400)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()  # only when no other build is uploading
    what = "correction sheet" if built.plan.correction else f"{built.plan.level_name} packet"
    audit(request, db, staff, "appeal_packet_built", str(denial_id), f"{what}, {built.pages} pages")
    return RedirectResponse(f"{_denial_url(claim_id, denial_id)}/packet.pdf", status_code=303)


@router.get("/claims/{claim_id}/denials/{denial_id}/packet.pdf")
def download(request: Request, claim_id: str, denial_id: int, db: Db, staff: CurrentStaff) -> Response:
    path = packet_path(request.app.state.settings.worker.data_dir, denial_id)
    if _denial_of(db, claim_id, denial_id) is None or not path.is_file():
        return _refused(request, claim_id, denial_id, f"No appeal packet has been built for denial {denial_id}.", 404)
    audit(request, db, staff, "appeal_packet_downloaded", str(denial_id))
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=path.name,
        content_disposition_type="attachment",
        headers={"Cache-Control": "no-store"},
    )
