"""Alerts (acknowledge, snooze, the resolved ones), open findings, authorizations and enrollments, each
exported as CSV or Excel."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from flows.alerts import SEVERITIES, AlertNotFound, acknowledge
from flows.list_tables import alerts_table, authorizations_table, enrollments_table, findings_table
from store.authorizations import authorizations_page
from store.findings import findings_page
from store.list_exports import patient_names
from store.workspace_pages import (
    ALERT_TABS,
    alerts_tab_page,
    authorization_choices,
    enrollment_choices,
    enrollments_page,
)
from web.deps import CurrentStaff, Db, Now, audit
from web.downloads import carries_patient_names, download, export_format
from web.sessions import Staff
from web.templating import render
from worker.clock import aware
from worker.security.staff import ROLE_DEPARTMENT
from worker.settings import DEPARTMENTS

router = APIRouter()
PAGE_SIZE = 50
ALL = "all"
TAB_WORDS = {"waiting": "Waiting", "set_aside": "Acknowledged or snoozed", "resolved": "Resolved"}


def _page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def _alert_filters(request: Request, staff: Staff) -> tuple[str, str, str]:
    """(tab, department or ALL, severity or "") as the query string says, the role's department first."""
    q = request.query_params
    tab = q.get("tab", "waiting")
    owner = q.get("owner") or ROLE_DEPARTMENT.get(staff.role, ALL)
    severity = q.get("severity", "")
    return (
        tab if tab in ALERT_TABS else "waiting",
        owner if owner in DEPARTMENTS else ALL,
        severity if severity in SEVERITIES else "",
    )


def _alerts_page(
    request: Request, db: Session, staff: Staff, moment: datetime, *, error: str | None = None, status_code: int = 200
) -> Response:
    q = request.query_params
    tab, owner, severity = _alert_filters(request, staff)
    page = _page_number(request)
    shown = alerts_tab_page(
        db, tab, moment, PAGE_SIZE, (page - 1) * PAGE_SIZE, None if owner == ALL else owner, severity or None
    )
    filters = {"tab": tab, "owner": owner, "severity": severity}
    return render(
        request,
        "alerts.html",
        status_code=status_code,
        title="Alerts",
        tabs=TAB_WORDS,
        tab=tab,
        owner=owner,
        severity=severity,
        owners=DEPARTMENTS,
        severities=tuple(reversed(SEVERITIES)),
        shown=shown,
        page=page,
        pages=(shown.total + PAGE_SIZE - 1) // PAGE_SIZE,
        query=lambda **changes: urlencode({k: v for k, v in {**filters, **changes}.items() if v}),
        back=urlencode({k: v for k, v in filters.items() if v}),
        notice=q.get("done"),
        error=error,
        today=aware(moment).astimezone(request.app.state.tz).date(),
    )


@router.get("/alerts")
def alerts(request: Request, db: Db, staff: CurrentStaff, moment: Now) -> Response:
    return _alerts_page(request, db, staff, moment)


def _back(back: str, done: str) -> RedirectResponse:
    query = back.lstrip("?")
    said = urlencode({"done": done})
    return RedirectResponse(f"/alerts?{query}&{said}" if query else f"/alerts?{said}", status_code=303)


def _refused(request: Request, db: Session, staff: Staff, moment: datetime, back: str, why: str) -> Response:
    request.scope["query_string"] = back.lstrip("?").encode()
    return _alerts_page(request, db, staff, moment, error=why, status_code=400)


@router.post("/alerts/{alert_id}/ack")
def acknowledge_alert(
    request: Request, db: Db, staff: CurrentStaff, moment: Now, alert_id: int, back: Annotated[str, Form()] = ""
) -> Response:
    try:
        alert = acknowledge(db, alert_id, moment, by=staff.name)
    except AlertNotFound:
        return _refused(request, db, staff, moment, back, f"There is no alert {alert_id}.")
    audit(request, db, staff, "alert_acknowledge", str(alert_id), alert.kind)
    return _back(back, f"Alert {alert_id} acknowledged by {staff.name}.")


@router.post("/alerts/{alert_id}/snooze")
def snooze_alert(
    request: Request,
    db: Db,
    staff: CurrentStaff,
    moment: Now,
    alert_id: int,
    until: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Snoozed until the start of `until`, practice time: it comes back then if still true."""
    tz = request.app.state.tz
    try:
        day = date.fromisoformat(until.strip())
    except ValueError:
        return _refused(request, db, staff, moment, back, "Choose the day the alert should come back (YYYY-MM-DD).")
    wakes = datetime.combine(day, time(0), tz)
    if wakes <= aware(moment):
        return _refused(request, db, staff, moment, back, "A snooze ends in the future: choose a day after today.")
    try:
        acknowledge(db, alert_id, moment, wakes - aware(moment), by=staff.name)
    except AlertNotFound:
        return _refused(request, db, staff, moment, back, f"There is no alert {alert_id}.")
    audit(request, db, staff, "alert_snooze", str(alert_id), f"until {day.isoformat()}")
    return _back(back, f"Alert {alert_id} snoozed by {staff.name} until {day.isoformat()}.")


@router.get("/findings")
def findings(request: Request, db: Db, staff: CurrentStaff) -> Response:
    include_resolved = request.query_params.get("show") == "all"
    page = _page_number(request)
    shown = findings_page(db, PAGE_SIZE, (page - 1) * PAGE_SIZE, include_resolved=include_resolved)
    return render(
        request,
        "findings.html",
        title="Findings",
        shown=shown,
        page=page,
        pages=(shown.total + PAGE_SIZE - 1) // PAGE_SIZE,
        include_resolved=include_resolved,
        query=lambda **changes: urlencode(
            {k: v for k, v in {"show": "all" if include_resolved else "", **changes}.items() if v}
        ),
    )


@router.get("/authorizations")
def authorizations(request: Request, db: Db, staff: CurrentStaff) -> Response:
    q = request.query_params
    status, payer = q.get("status", ""), q.get("payer", "")
    page = _page_number(request)
    shown = authorizations_page(db, PAGE_SIZE, (page - 1) * PAGE_SIZE, status=status or None, payer_id=payer or None)
    statuses, payers = authorization_choices(db)
    return render(
        request,
        "authorizations.html",
        title="Authorizations",
        shown=shown,
        page=page,
        pages=(shown.total + PAGE_SIZE - 1) // PAGE_SIZE,
        status=status,
        payer=payer,
        statuses=statuses,
        payers=payers,
        query=lambda **changes: urlencode(
            {k: v for k, v in {"status": status, "payer": payer, **changes}.items() if v}
        ),
    )


@router.get("/enrollments")
def enrollments(request: Request, db: Db, staff: CurrentStaff) -> Response:
    q = request.query_params
    status, payer = q.get("status", ""), q.get("payer", "")
    page = _page_number(request)
    shown = enrollments_page(db, PAGE_SIZE, (page - 1) * PAGE_SIZE, status=status or None, payer_id=payer or None)
    statuses, payers = enrollment_choices(db)
    return render(
        request,
        "enrollments.html",
        title="Enrollments",
        shown=shown,
        page=page,
        pages=(shown.total + PAGE_SIZE - 1) // PAGE_SIZE,
        status=status,
        payer=payer,
        statuses=statuses,
        payers=payers,
        query=lambda **changes: urlencode(
            {k: v for k, v in {"status": status, "payer": payer, **changes}.items() if v}
        ),
    )


# --- every list above as CSV or Excel: every row its filters match, not only the page shown -------------


@router.get("/alerts/export.{fmt}")
def export_alerts(request: Request, db: Db, staff: CurrentStaff, moment: Now, fmt: str) -> Response:
    export_format(fmt)
    tab, owner, severity = _alert_filters(request, staff)
    chosen = alerts_tab_page(db, tab, moment, 0, 0, None if owner == ALL else owner, severity or None).items
    names = None
    if carries_patient_names(request):
        names = patient_names(db, sorted({a.claim_id for a in chosen if a.claim_id}))
    filters = urlencode({k: v for k, v in {"tab": tab, "owner": owner, "severity": severity}.items() if v})
    return download(request, db, staff, alerts_table(chosen, names), fmt, filters)


@router.get("/findings/export.{fmt}")
def export_findings(request: Request, db: Db, staff: CurrentStaff, fmt: str) -> Response:
    export_format(fmt)
    include_resolved = request.query_params.get("show") == "all"
    chosen = findings_page(db, 0, 0, include_resolved=include_resolved).items
    return download(request, db, staff, findings_table(chosen), fmt, "show=all" if include_resolved else "")


def _status_and_payer(request: Request) -> tuple[str | None, str | None, str]:
    """The status and payer filters, and the same as a query string for the audit log."""
    status, payer = request.query_params.get("status", ""), request.query_params.get("payer", "")
    return status or None, payer or None, urlencode({k: v for k, v in {"status": status, "payer": payer}.items() if v})


@router.get("/authorizations/export.{fmt}")
def export_authorizations(request: Request, db: Db, staff: CurrentStaff, fmt: str) -> Response:
    export_format(fmt)
    status, payer, filters = _status_and_payer(request)
    chosen = authorizations_page(db, 0, 0, status=status, payer_id=payer).items
    table = authorizations_table(chosen, patient_names=carries_patient_names(request))
    return download(request, db, staff, table, fmt, filters)


@router.get("/enrollments/export.{fmt}")
def export_enrollments(request: Request, db: Db, staff: CurrentStaff, fmt: str) -> Response:
    export_format(fmt)
    status, payer, filters = _status_and_payer(request)
    chosen = enrollments_page(db, 0, 0, status=status, payer_id=payer).items
    return download(request, db, staff, enrollments_table([(p, e) for e, p in chosen]), fmt, filters)
