"""The claim page: everything known about one claim, and what staff do about its denials."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from flows.appeal_progress import appeal_progress
from flows.cadence import claim_verdicts
from flows.claim_view import ClaimView, claim_view
from flows.denials import STAFF_STATUSES, DenialActionRefused, assign_denials, record_staff_action
from flows.task_work import TaskKind
from store import tasks
from store.claim_detail import load_claim_record
from store.claims import get_claim
from store.denials import unresolved_for_claim
from store.models import Denial
from store.staff import list_users
from web.deps import CurrentStaff, Db, Now, audit
from web.routes.appeal_decisions import DECIDING_ROLES
from web.templating import render
from worker.runtime.planning import Planner

router = APIRouter()
MAX_NOTE = 2000
STATUS_CHOICES = {
    "open": "Open",
    "appealed": "Appealed",
    "resubmitted": "Resubmitted",
    "written-off": "Written off",
    "resolved": "Resolved",
}


def _today(request: Request, moment: datetime) -> date:
    return moment.astimezone(request.app.state.tz).date()


def _claim_url(claim_id: str, anchor: str = "") -> str:
    return "/claims/" + quote(claim_id, safe="") + (f"#{anchor}" if anchor else "")


def _not_found(request: Request, claim_id: str) -> Response:
    return render(
        request,
        "error.html",
        status_code=404,
        title="No such claim",
        message=f"There is no claim with id “{claim_id[:64]}” in the store. Check the id, or search for the claim.",
    )


def _view(request: Request, db: Session, claim_id: str, moment: datetime) -> ClaimView | None:
    record = load_claim_record(db, claim_id)
    if record is None:
        return None
    return claim_view(
        record, _today(request, moment), progress=appeal_progress(db, [d.id for d in record.denials if d.id])
    )


def _page(
    request: Request, db: Session, view: ClaimView, status_code: int = 200, **messages: str | int | None
) -> Response:
    return render(
        request,
        "claim.html",
        status_code=status_code,
        title=f"Claim {view.record.claim.claim_id}",
        view=view,
        users=[u for u in list_users(db) if not u.disabled],
        status_choices=STATUS_CHOICES,
        **messages,
    )


@router.get("/claims/{claim_id}")
def claim_page(request: Request, claim_id: str, db: Db, staff: CurrentStaff, moment: Now) -> Response:
    view = _view(request, db, claim_id, moment)
    if view is None:
        audit(request, db, staff, "view_claim_missing", claim_id[:64])
        return _not_found(request, claim_id)
    audit(request, db, staff, "view_claim", claim_id)
    return _page(request, db, view)


def _denial_of(db: Session, claim_id: str, denial_id: int) -> Denial | None:
    denial = db.get(Denial, denial_id)
    return denial if denial is not None and denial.claim_id == claim_id else None


def _after_denial_action(
    request: Request,
    db: Session,
    claim_id: str,
    denial_id: int,
    moment: datetime,
    *,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    """htmx: the denial's card again, with what happened; a plain form: the claim page (an error stays on it)."""
    htmx = bool(request.headers.get("HX-Request"))
    if not htmx and error is None:
        return RedirectResponse(_claim_url(claim_id, f"denial-{denial_id}"), status_code=303)
    view = _view(request, db, claim_id, moment)
    assert view is not None
    if not htmx:
        return _page(request, db, view, 400, error_denial=denial_id, error=error)
    denial_view = next(d for d in view.denials if d.item.denial.id == denial_id)
    return render(
        request,
        "claim_denial.html",
        d=denial_view,
        view=view,
        users=[u for u in list_users(db) if not u.disabled],
        status_choices=STATUS_CHOICES,
        error_denial=denial_id if error else None,
        error=error,
        notice_denial=denial_id if notice else None,
        notice=notice,
    )


@router.post("/claims/{claim_id}/denials/{denial_id}/status")
def set_denial_status(
    request: Request,
    claim_id: str,
    denial_id: int,
    db: Db,
    staff: CurrentStaff,
    moment: Now,
    status: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    if _denial_of(db, claim_id, denial_id) is None:
        return _not_found(request, f"{claim_id} (denial {denial_id})")
    note = note.strip()
    error = None
    if status not in STAFF_STATUSES:
        error = f"Choose a status: {', '.join(STATUS_CHOICES.values()).lower()}."
    elif not note:
        error = "Write a note saying what was done (it goes into the appeal trail)."
    elif len(note) > MAX_NOTE:
        error = f"The note is longer than {MAX_NOTE} characters."
    elif STAFF_STATUSES[status] == "written_off" and staff.role not in DECIDING_ROLES:
        error = "Only billing (or an admin) writes denials off."
    if error:
        return _after_denial_action(request, db, claim_id, denial_id, moment, error=error)
    try:
        record_staff_action(db, denial_id, status, note, moment, actor=staff.name)
    except DenialActionRefused as refused:
        return _after_denial_action(request, db, claim_id, denial_id, moment, error=str(refused))
    audit(request, db, staff, "set_denial_status", claim_id, f"denial {denial_id}: {STAFF_STATUSES[status]}")
    words = STATUS_CHOICES[status].lower()
    return _after_denial_action(request, db, claim_id, denial_id, moment, notice=f"Marked {words}.")


@router.post("/claims/{claim_id}/denials/{denial_id}/assign")
def assign_denial(
    request: Request,
    claim_id: str,
    denial_id: int,
    db: Db,
    staff: CurrentStaff,
    moment: Now,
    assignee: Annotated[str, Form()] = "",
) -> Response:
    if _denial_of(db, claim_id, denial_id) is None:
        return _not_found(request, f"{claim_id} (denial {denial_id})")
    known = {u.name for u in list_users(db) if not u.disabled}
    who = assignee.strip() or None
    if who is not None and who not in known:
        error = f"“{who[:64]}” is not a workspace user: choose one from the list."
        return _after_denial_action(request, db, claim_id, denial_id, moment, error=error)
    assign_denials(db, [denial_id], who, moment, actor=staff.name)
    audit(request, db, staff, "assign_denial", claim_id, f"denial {denial_id}: {who or 'nobody'}")
    notice = f"Assigned to {who}." if who else "Unassigned."
    return _after_denial_action(request, db, claim_id, denial_id, moment, notice=notice)


@router.post("/claims/{claim_id}/recheck")
def recheck(request: Request, claim_id: str, db: Db, staff: CurrentStaff, moment: Now) -> Response:
    """Queue a claim-status check as `check --claim` plans one (cadence priority, the payer's portal); the
    worker's runners drive the portal. Planned in this request's unit of work: on SQLite it holds the write lock."""
    claim = get_claim(db, claim_id)
    if claim is None:
        return _not_found(request, claim_id)
    settings = request.app.state.settings
    planner = Planner(settings, request.app.state.engine, request.app.state.clock)
    portal = settings.portal_for_payer(claim.payer_id)
    error = None
    if portal is None or portal not in planner.able(TaskKind.CLAIM_STATUS):
        error = f"No enabled portal checks claims of payer {claim.payer_id}, so nothing was queued."
    else:
        open_denials = unresolved_for_claim(db, claim_id)  # the cadence keeps those still open
        verdict = claim_verdicts([claim], open_denials, planner.rules, moment, tz=request.app.state.tz)[0]
        tasks.enqueue(
            db,
            kind=TaskKind.CLAIM_STATUS.value,
            portal=portal,
            target=claim_id,
            reason=f"re-check asked by {staff.name}",
            now=moment,
            priority=verdict.priority,
        )
        audit(request, db, staff, "recheck_claim", claim_id, portal)
    htmx = bool(request.headers.get("HX-Request"))
    if not htmx and not error:
        return RedirectResponse(_claim_url(claim_id, "state"), status_code=303)
    view = _view(request, db, claim_id, moment)
    assert view is not None
    if not htmx:
        return _page(request, db, view, 400, state_error=error)
    return render(request, "claim_state.html", view=view, state_error=error, state_notice=None if error else True)
