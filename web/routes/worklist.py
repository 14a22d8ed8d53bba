"""The worklist: open denials by priority, filtered and sorted, assigned in bulk, exported as CSV or Excel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from flows.denials import DenialActionRefused, assign_denials
from flows.list_tables import worklist_table
from flows.worklist import (
    Ranked,
    WorklistFilter,
    filter_worklist,
    normalise_owner,
    owner_choices,
    rank_worklist,
    work_items,
)
from store import staff as staff_store
from store.pages import Page, page_of_list
from web.deps import CurrentStaff, Db, Now, audit
from web.downloads import carries_patient_names, download, export_format
from web.sessions import Staff
from web.templating import render
from worker.clock import aware
from worker.security.staff import ROLE_DEPARTMENT

router = APIRouter()
PAGE_SIZE = 50
ALL = "all"
ME = "me"
SORTS: dict[str, Callable[[Ranked], Any]] = {
    "priority": lambda i: -i.priority,
    "amount": lambda i: -i.facts.amount,
    "age": lambda i: i.facts.denial_date or i.facts.first_seen_at.date(),
    "deadline": lambda i: (i.days_left is None, i.days_left if i.days_left is not None else 0),
    "payer": lambda i: i.facts.payer_id or "",
    "claim": lambda i: i.facts.claim_id or i.facts.reported_claim_id,
}


@dataclass(frozen=True)
class Choice:
    """What the filters say, as the page's query string carries it."""

    owner: str  # a department, or ALL
    payer: str
    category: str
    assignee: str  # "", UNASSIGNED, ME or a login name
    sort: str
    page: int

    def query(self, **changes: object) -> str:
        values = {
            "owner": self.owner,
            "payer": self.payer,
            "category": self.category,
            "assignee": self.assignee,
            "sort": self.sort,
            "page": self.page,
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})


def _choice(request: Request, staff: Staff) -> tuple[Choice, str | None]:
    """The filters from the query string; an unknown department is said, and every department shown."""
    q = request.query_params
    error = None
    owner = q.get("owner") or ROLE_DEPARTMENT.get(staff.role, ALL)
    if owner != ALL:
        known = normalise_owner(owner)
        if known is None:
            error = f"There is no department {owner!r}; showing every department."
        owner = known or ALL
    sort = q.get("sort", "priority")
    try:
        page = max(1, int(q.get("page", "1")))
    except ValueError:
        page = 1
    return (
        Choice(
            owner,
            q.get("payer", ""),
            q.get("category", ""),
            q.get("assignee", ""),
            sort if sort in SORTS else "priority",
            page,
        ),
        error,
    )


def _items(db: Session, today: date, choice: Choice, staff: Staff) -> tuple[list[Ranked], list[Ranked]]:
    """(the department's worklist, the filtered and sorted part of it), ranked from plain columns."""
    everything = rank_worklist(db, today, owner=None if choice.owner == ALL else choice.owner)
    assignee = staff.name if choice.assignee == ME else choice.assignee
    chosen = WorklistFilter(choice.payer or None, choice.category or None, assignee or None)
    kept = filter_worklist(everything, chosen)
    if choice.sort != "priority":
        kept.sort(key=SORTS[choice.sort])  # stable: ties keep priority order
    return everything, kept


def _today(request: Request, moment: datetime) -> date:
    return aware(moment).astimezone(request.app.state.tz).date()


def _page(
    request: Request,
    db: Session,
    staff: Staff,
    moment: datetime,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    choice, said = _choice(request, staff)
    today = _today(request, moment)
    everything, kept = _items(db, today, choice, staff)
    ranked = page_of_list(kept, PAGE_SIZE, (choice.page - 1) * PAGE_SIZE)
    shown = Page(work_items(db, ranked.items), ranked.total, ranked.offset, ranked.limit)
    partial = request.headers.get("HX-Request") and request.headers.get("HX-Target") == "worklist-body"
    return render(
        request,
        "worklist_body.html" if partial else "worklist.html",
        status_code=status_code,
        title="Worklist",
        choice=choice,
        error=error or said,
        notice=notice,
        shown=shown,
        today=today,
        payers=sorted({i.facts.payer_id for i in everything if i.facts.payer_id}),
        categories=sorted({i.facts.category for i in everything}),
        owners=owner_choices(),
        users=[u.name for u in staff_store.list_users(db) if not u.disabled],
        pages=(shown.total + PAGE_SIZE - 1) // PAGE_SIZE,
        total_amount=sum(i.facts.amount for i in kept),
    )


@router.get("/worklist")
def worklist(request: Request, db: Db, staff: CurrentStaff, moment: Now) -> Response:
    notice = None
    if request.query_params.get("assigned"):
        notice = (
            f"Assigned {request.query_params['assigned']} denial(s) to {request.query_params.get('to') or 'nobody'}."
        )
    return _page(request, db, staff, moment, notice=notice)


@router.post("/worklist/assign")
def bulk_assign(
    request: Request,
    db: Db,
    staff: CurrentStaff,
    moment: Now,
    ids: Annotated[list[str] | None, Form()] = None,
    assignee: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """All or nothing: no denial chosen, an unknown person or an unknown denial writes nothing."""
    try:
        denial_ids = [int(i) for i in ids or []]
    except ValueError:
        denial_ids = []
        ids = None
    error = None
    if not ids:
        error = "Tick at least one denial to assign."
    elif assignee == "":
        error = "Choose who gets them (or “nobody” to unassign)."
    elif assignee != "-" and ((user := staff_store.get_user(db, assignee)) is None or user.disabled):
        error = f"There is no active user {assignee!r}: nothing was assigned."
    if error is None:
        who = None if assignee == "-" else assignee
        try:
            assign_denials(db, denial_ids, who, moment, actor=staff.name)
        except DenialActionRefused as refused:
            db.rollback()
            error = f"{refused}: nothing was assigned."
    if error is not None:
        request.scope["query_string"] = back.lstrip("?").encode()
        return _page(request, db, staff, moment, error=error, status_code=400)
    audit(
        request, db, staff, "assign", ",".join(map(str, denial_ids)), f"to {assignee if assignee != '-' else 'nobody'}"
    )
    query = back.lstrip("?")
    said = urlencode({"assigned": len(set(denial_ids)), "to": "" if assignee == "-" else assignee})
    return RedirectResponse(f"/worklist?{query}&{said}" if query else f"/worklist?{said}", status_code=303)


@router.get("/worklist/export.{fmt}")
def export(request: Request, db: Db, staff: CurrentStaff, moment: Now, fmt: str) -> Response:
    """Every denial the filters keep (not only the page shown), in the page's order."""
    export_format(fmt)
    choice, _ = _choice(request, staff)
    _, kept = _items(db, _today(request, moment), choice, staff)
    table = worklist_table(work_items(db, kept), patient_names=carries_patient_names(request))
    return download(request, db, staff, table, fmt, choice.query(page=1))
