"""Prior-authorization requests in the workspace: the "Request authorization" form and the list of requests with
their state. Queueing only writes the request; the worker submits it (exactly once, flows/auth_requests.py)."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from flows.auth_request_queue import check_fields, queue_records
from flows.auth_requests import RequestProblem
from flows.task_work import TaskKind
from store.auth_requests import list_requests
from web.deps import CurrentStaff, Db, Forbidden, Now, audit
from web.sessions import Staff
from web.templating import render
from worker.runtime.planning import able_portals

router = APIRouter()

QUEUEING_ROLES = frozenset({"admin", "front_desk", "billing"})  # whoever owns prior authorizations
LABELS = {
    "payer_id": "Payer",
    "member_id": "Member ID",
    "date_of_birth": "Date of birth",
    "servicing_npi": "Servicing NPI",
    "procedure_codes": "Procedure codes",
    "units": "Units",
    "start_date": "From",
    "end_date": "To",
    "diagnosis_codes": "Diagnosis codes",
    "attachments": "Attachments",
}
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
PDF_MAGIC = b"%PDF-"


def _page(
    request: Request,
    db: Session,
    staff: Staff,
    *,
    error: str = "",
    values: dict[str, str] | None = None,
    code: int = 200,
) -> Response:
    return render(
        request,
        "auth_requests.html",
        status_code=code,
        title="Prior-auth requests",
        rows=list_requests(db),
        payers=_payers(request),
        may_queue=staff.role in QUEUEING_ROLES,
        error=error,
        values=values or {},
        done=request.query_params.get("done", ""),
    )


def _payers(request: Request) -> list[str]:
    """Payers whose portal takes requests online."""
    settings = request.app.state.settings
    return sorted(p for name in able_portals(settings, TaskKind.AUTH_REQUEST) for p in settings.portals[name].payers)


@router.get("/auth-requests")
def auth_requests(request: Request, db: Db, staff: CurrentStaff) -> Response:
    audit(request, db, staff, "view_auth_requests")
    return _page(request, db, staff)


@router.post("/auth-requests")
def queue_auth_request(
    request: Request,
    db: Db,
    staff: CurrentStaff,
    moment: Now,
    payer_id: Annotated[str, Form()] = "",
    member_id: Annotated[str, Form()] = "",
    date_of_birth: Annotated[str, Form()] = "",
    servicing_npi: Annotated[str, Form()] = "",
    procedure_codes: Annotated[str, Form()] = "",
    units: Annotated[str, Form()] = "",
    start_date: Annotated[str, Form()] = "",
    end_date: Annotated[str, Form()] = "",
    diagnosis_codes: Annotated[str, Form()] = "",
    attachments: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    if staff.role not in QUEUEING_ROLES:
        raise Forbidden("Only the front desk, billing or an admin queues prior-authorization requests.")
    values = {
        "payer_id": payer_id,
        "member_id": member_id,
        "date_of_birth": date_of_birth,
        "servicing_npi": servicing_npi,
        "procedure_codes": procedure_codes,
        "units": units,
        "start_date": start_date,
        "end_date": end_date,
        "diagnosis_codes": diagnosis_codes,
    }
    if payer_id not in _payers(request):
        return _page(request, db, staff, error="Payer: choose one from the list.", values=values, code=400)
    folder = request.app.state.settings.worker.data_dir / "auth-requests" / secrets.token_hex(8)
    try:
        saved = _save_uploads(folder, attachments or [])
        values["attachments"] = ";".join(saved)
        tz = request.app.state.tz
        record = check_fields(values, moment.astimezone(tz).date(), folder, LABELS)
    except RequestProblem as problem:
        shutil.rmtree(folder, ignore_errors=True)
        values.pop("attachments", None)
        return _page(request, db, staff, error=str(problem), values=values, code=400)
    [queued] = queue_records(db, [record], staff.name, moment)
    if not queued.new:
        shutil.rmtree(folder, ignore_errors=True)  # the request queued before keeps its own files
    audit(request, db, staff, "auth_request_queued" if queued.new else "auth_request_again", queued.request_id)
    done = (
        f"Queued {queued.request_id}: the worker submits it on the payer's portal within minutes."
        if queued.new
        else f"Already queued as {queued.request_id} (same payer, member, codes and dates): nothing new was queued."
    )
    return RedirectResponse(f"/auth-requests?{urlencode({'done': done})}", status_code=303)


def _save_uploads(folder: Path, uploads: list[UploadFile]) -> list[str]:
    """The uploaded PDFs, private to the worker's user, each named after its upload; a non-PDF is refused."""
    saved = []
    for n, upload in enumerate(u for u in uploads if u.filename):
        content = upload.file.read()
        if not content.startswith(PDF_MAGIC):
            raise RequestProblem(f"Attachments: attachment {n + 1} is not a PDF file")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / (SAFE_NAME.sub("_", Path(upload.filename or "").name) or f"attachment-{n + 1}.pdf")
        path.write_bytes(content)
        path.chmod(0o600)
        saved.append(path.name)
    return saved
