"""The daily summary's links: /a/ALERT and /d/DENIAL, by number only, after login, to the page that shows it.

A link in an email ends up in mail archives, browser histories and proxy logs, so it names no claim, patient,
member or payer claim number (flows.digest.ALERT_PATH, DENIAL_PATH); the page it leads to does, behind the login.
An open that lands on a claim page is audited there (view_claim); the others are audited here.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from flows.alerts import FINDING_OWNERS
from store import alerts as alert_store
from store.denials import denials_by_id
from store.models import Alert
from web.deps import CurrentStaff, Db, audit
from web.templating import render

router = APIRouter()
CLAIM_KINDS = frozenset(
    {
        "timely_filing",
        "denial_deadline",
        "claim_outside_auth",
        "appeal_upheld",
        "appeal_upheld_final",
        "appeal_no_answer",
    }
)
AUTHORIZATION_KINDS = frozenset(kind for kind, owner in FINDING_OWNERS.items() if owner == "front_desk")
ENROLLMENT_KINDS = frozenset(kind for kind, owner in FINDING_OWNERS.items() if owner == "credentialing")


def claim_page(claim_id: str, denial_id: int | str | None = None) -> str:
    return "/claims/" + quote(claim_id, safe="") + (f"#denial-{denial_id}" if denial_id is not None else "")


def alert_page(alert: Alert) -> str:
    """Where an alert is worked: its claim, the authorizations or enrollments (of its payer), else the alerts."""
    if alert.kind in CLAIM_KINDS and alert.claim_id:
        return claim_page(alert.claim_id, alert.subject if alert.kind == "denial_deadline" else None)
    payer = f"?{urlencode({'payer': alert.payer_id})}" if alert.payer_id else ""
    if alert.kind in AUTHORIZATION_KINDS:
        return f"/authorizations{payer}"
    if alert.kind in ENROLLMENT_KINDS:
        return f"/enrollments{payer}"
    return f"/alerts?{urlencode({'tab': 'waiting', 'owner': alert.owner})}"


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _gone(request: Request, what: str, number: str) -> Response:
    return render(
        request,
        "error.html",
        status_code=404,
        title=f"No such {what}",
        message=f"There is no {what} {number[:20]} any more (or the link was cut short). "
        "Today and the worklist show what is open now.",
    )


@router.get("/a/{number}")
def open_alert(request: Request, number: str, db: Db, staff: CurrentStaff) -> Response:
    alert_id = _number(number)
    alert = alert_store.get(db, alert_id) if alert_id is not None else None
    if alert is None:
        audit(request, db, staff, "open_link_missing", f"alert {number[:20]}")
        return _gone(request, "alert", number)
    target = alert_page(alert)
    if not target.startswith("/claims/"):
        audit(request, db, staff, "open_alert_link", str(alert.id), target)
    return RedirectResponse(target, status_code=303)


@router.get("/d/{number}")
def open_denial(request: Request, number: str, db: Db, staff: CurrentStaff) -> Response:
    denial_id = _number(number)
    denial = denials_by_id(db, [denial_id]).get(denial_id) if denial_id is not None else None
    if denial is None:
        audit(request, db, staff, "open_link_missing", f"denial {number[:20]}")
        return _gone(request, "denial", number)
    if denial.claim_id is None:  # a denial on a claim not in our claims (an ERA's): the worklist has it
        audit(request, db, staff, "open_denial_link", str(denial.id), "/worklist")
        return RedirectResponse("/worklist", status_code=303)
    return RedirectResponse(claim_page(denial.claim_id, denial.id), status_code=303)
