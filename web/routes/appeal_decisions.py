"""The claim page's "Appeal decisions and write-offs" section: each denial's appeals with the payer's decision,
and the forms billing uses to record a decision (flows/appeal_decisions.py) or write a denial off.

The claim page loads the section with htmx (claim_appeal_decisions.html, one include); without JavaScript its
link opens the same section as a page of its own. A form that is refused says why and writes nothing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from flows.appeal_decisions import DecisionRefused, record_decision
from flows.appeal_panel import claim_appeals
from flows.denials import DenialActionRefused, parse_dollars, record_staff_action
from store.appeal_decisions import get_appeal
from store.claims import get_claim
from store.models import Denial
from web.deps import CurrentStaff, Db, Forbidden, Now, audit
from web.sessions import Staff
from web.templating import render

router = APIRouter()

DECIDING_ROLES = frozenset({"admin", "billing"})  # decisions and write-offs move money figures: billing's call
MAX_NOTE = 2000
MAX_REASON = 500


def _section_url(claim_id: str) -> str:
    return "/claims/" + quote(claim_id, safe="") + "/appeal-decisions"


def _may_decide(staff: Staff) -> bool:
    return staff.role in DECIDING_ROLES


def _today(request: Request, moment: datetime) -> date:
    return moment.astimezone(request.app.state.tz).date()


def _section(
    request: Request,
    db: Session,
    staff: Staff,
    claim_id: str,
    moment: datetime,
    *,
    error: str | None = None,
    error_for: str | None = None,
    values: dict[str, str] | None = None,
    code: int = 200,
) -> Response:
    """The section alone for htmx, else as a page of its own."""
    context: dict[str, Any] = {
        "claim_id": claim_id,
        "panels": claim_appeals(db, claim_id),
        "today": _today(request, moment),
        "may_decide": _may_decide(staff),
        "error": error,
        "error_for": error_for,
        "values": values or {},
        "decided": request.query_params.get("decided"),
        "written_off": request.query_params.get("written_off"),
        "section_url": _section_url(claim_id),
    }
    if request.headers.get("HX-Request"):
        return render(request, "appeal_decisions_section.html", **context)
    return render(request, "appeal_decisions.html", status_code=code, title=f"Claim {claim_id}: appeals", **context)


def _not_found(request: Request, what: str) -> Response:
    return render(
        request,
        "error.html",
        status_code=404,
        title="Not found",
        message=f"There is no {what[:80]} in the store. Open the claim again from the worklist or search.",
    )


def _done(request: Request, claim_id: str, **flag: str) -> Response:
    """After a change: the claim page again (htmx), or the section's page, saying what was recorded."""
    query = urlencode(flag)
    if request.headers.get("HX-Request"):
        target = "/claims/" + quote(claim_id, safe="") + f"?{query}"
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        if f"{current.path}?{current.query}" == target:
            # the browser is on that very address: going "there" again would only scroll, so reload it
            return Response(status_code=204, headers={"HX-Refresh": "true"})
        return Response(status_code=204, headers={"HX-Redirect": f"{target}#appeal-decisions"})
    return RedirectResponse(f"{_section_url(claim_id)}?{query}#appeal-decisions", status_code=303)


@router.get("/claims/{claim_id}/appeal-decisions")
def appeal_decisions(request: Request, claim_id: str, db: Db, staff: CurrentStaff, moment: Now) -> Response:
    if get_claim(db, claim_id) is None:
        return _not_found(request, f"claim “{claim_id}”")
    if not request.headers.get("HX-Request"):  # inside the claim page, whose view is audited already
        audit(request, db, staff, "view_appeal_decisions", claim_id)
    return _section(request, db, staff, claim_id, moment)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@router.post("/claims/{claim_id}/appeals/{appeal_id}/decision")
def decide(
    request: Request,
    claim_id: str,
    appeal_id: str,
    db: Db,
    staff: CurrentStaff,
    moment: Now,
    decision: Annotated[str, Form()] = "",
    decided_on: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    if not _may_decide(staff):
        raise Forbidden("Only billing (or an admin) records appeal decisions.")
    appeal = get_appeal(db, appeal_id)
    if appeal is None or appeal.claim_id != claim_id:
        return _not_found(request, f"appeal “{appeal_id}” of claim “{claim_id}”")
    values = {"decision": decision, "decided_on": decided_on, "amount": amount, "note": note}
    note = note.strip()
    day = _day(decided_on)
    error = None
    if decision not in ("overturned", "upheld"):
        error = "Choose overturned or upheld."
    elif day is None:
        error = "Give the decision's date (the payer's letter or portal says it)."
    elif decision == "upheld" and amount.strip():
        error = "An upheld appeal recovers nothing: leave the amount empty."
    elif decision == "overturned" and not amount.strip():
        error = "Say what the payer will pay for the overturned denial (e.g. 240.00)."
    elif len(note) > MAX_NOTE:
        error = f"The note is longer than {MAX_NOTE} characters."
    if error is None:
        assert day is not None
        try:
            recovered = parse_dollars(amount, "The amount") if decision == "overturned" else None
            record_decision(
                db,
                appeal,
                decision=decision,
                decided_on=day,
                amount_recovered=recovered,
                source="staff",
                actor=staff.name,
                at=moment,
                note=note or None,
            )
        except (DecisionRefused, DenialActionRefused) as refused:
            error = str(refused)
    if error is not None:
        return _section(
            request, db, staff, claim_id, moment, error=error, error_for=f"appeal-{appeal_id}", values=values, code=400
        )
    audit(request, db, staff, "record_appeal_decision", claim_id, f"appeal {appeal_id}: {decision} on {day}")
    return _done(request, claim_id, decided=appeal_id)


@router.post("/claims/{claim_id}/denials/{denial_id}/write-off")
def write_off(
    request: Request,
    claim_id: str,
    denial_id: int,
    db: Db,
    staff: CurrentStaff,
    moment: Now,
    amount: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    if not _may_decide(staff):
        raise Forbidden("Only billing (or an admin) writes denials off.")
    denial = db.get(Denial, denial_id)
    if denial is None or denial.claim_id != claim_id:
        return _not_found(request, f"denial {denial_id} of claim “{claim_id}”")
    values = {"amount": amount, "reason": reason}
    reason = reason.strip()
    error = None
    if not reason:
        error = "Say why it is written off (e.g. appeal upheld at the last level)."
    elif len(reason) > MAX_REASON:
        error = f"The reason is longer than {MAX_REASON} characters."
    else:
        try:
            written = parse_dollars(amount, "The amount") if amount.strip() else None
            record_staff_action(
                db, denial_id, "written-off", None, moment, actor=staff.name, amount=written, reason=reason
            )
        except DenialActionRefused as refused:
            error = str(refused)
    if error is not None:
        return _section(
            request, db, staff, claim_id, moment, error=error, error_for=f"denial-{denial_id}", values=values, code=400
        )
    audit(request, db, staff, "write_off_denial", claim_id, f"denial {denial_id}: {denial.write_off_amount}")
    return _done(request, claim_id, written_off=str(denial_id))
