"""Lakeshore State Medicaid: a legacy state MMIS provider portal (think NY ePACES).

Server-rendered forms and tables, a security question after the password, a short
idle timeout answered with HTTP 200 "your session has timed out", and a maintenance
page that also answers 200, as the old state systems do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fake_portal.data import PAYERS, Claim, Status
from fake_portal.web import layout, money, templates, world
from fake_portal.world import Session

PORTAL = "medicaid"
PREFIX = "/medicaid"
COOKIE = "medicaid_session"
PAYER_IDS = {p.id for p in PAYERS if p.portal == PORTAL}
HELP_DESK = "1-800-555-0142"

# Layout 2 is the vendor's next release: the claim pages' ids and field names are
# renamed and their table columns reordered. Login, security and menu pages stay, and
# the two grids keep their ids, so only their moved columns give the release away.
FIELD_NAMES = {  # form field -> (layout 1 name, layout 2 name)
    "npi": ("providerNpi", "txtProvNPI"),
    "recipient": ("recipientId", "txtRecipID"),
    "dos_from": ("dosFrom", "txtFromDOS"),
    "dos_to": ("dosTo", "txtThruDOS"),
    "pcn": ("patientControlNo", "txtPCN"),
    "tcn": ("tcn", "txtTCN"),
}
ELEMENT_IDS = {  # element -> (layout 1 id, layout 2 id)
    "form": ("claimInquiryForm", "frmClmInq"),
    "errors": ("inquiryErrors", "valSummary"),
    "search": ("btnSearch", "btnSubmitInq"),
    "results": ("claimResults", "claimResults"),
    "no_records": ("noRecords", "lblNoRecs"),
    "header": ("claimHeader", "tblClmHdr"),
    "tcn": ("claimTcn", "lblTCN"),
    "pcn": ("claimPcn", "lblPatCtrlNo"),
    "status": ("claimStatus", "lblClmStatus"),
    "status_date": ("statusDate", "lblStatusEffDt"),
    "total_charge": ("totalCharge", "lblTotChg"),
    "allowed": ("allowedAmount", "lblAllowedAmt"),
    "paid": ("paidAmount", "lblPaidAmt"),
    "remit_trace": ("remitTrace", "lblRATrace"),
    "remit_date": ("remitDate", "lblRADate"),
    "lines": ("serviceLines", "serviceLines"),
}
RESULT_COLUMNS = {
    1: ("TCN", "PATIENT CONTROL #", "DOS FROM", "DOS TO", "BILLED", "PAID", "STATUS"),
    2: ("PATIENT CONTROL #", "TCN", "STATUS", "DOS FROM", "DOS TO", "PAID", "BILLED"),
}
LINE_COLUMNS = {
    1: ("LINE", "PROC", "CHARGE", "GROUP", "CARC", "ADJ AMT", "RARC"),
    2: ("LINE", "PROC", "GROUP", "CARC", "RARC", "ADJ AMT", "CHARGE"),
}
SHORT_STATUS = {"A2": "RECEIVED", "A7": "REJECTED", "P1": "PENDED", "P3": "PENDED - INFO REQ",
                "F1": "PAID", "F2": "DENIED"}

Handler = Callable[[Request, Session], Awaitable[Response]]


# --- helpers ------------------------------------------------------------------


def _page(request: Request, template: str, context: dict[str, object] | None = None,
          status_code: int = 200) -> Response:
    version = layout(request, PORTAL)
    base = {
        "prefix": PREFIX,
        "portal_date": world(request).now(),
        "ids": {k: v[version - 1] for k, v in ELEMENT_IDS.items()},
        "names": {k: v[version - 1] for k, v in FIELD_NAMES.items()},
    }
    return templates.TemplateResponse(request, f"medicaid/{template}", {**base, **(context or {})},
                                      status_code=status_code)


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/{path}", status_code=303)


def _timed_out(request: Request) -> Response:
    """Legacy behaviour: a 200 page, not a redirect or a 401."""
    response = _page(request, "timeout.html")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


def _no_session(request: Request) -> Response:
    return _timed_out(request) if request.cookies.get(COOKIE) else _redirect("login")


def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Pages behind the login: a dead session gets the timeout page, a half-done login its question."""
    async def wrapper(request: Request) -> Response:
        session = world(request).session(PORTAL, request.cookies.get(COOKIE))
        if session is None:
            return _no_session(request)
        if session.stage != "in":
            return _redirect("security")
        return await handler(request, session)
    return wrapper


def _medicaid_claims(request: Request) -> list[tuple[Claim, Status]]:
    """Claims this portal knows today, with their current status."""
    today = world(request).today()
    found = []
    for claim in world(request).dataset.claims_for(PAYER_IDS):
        status = claim.status_on(today)
        if status is not None:
            found.append((claim, status))
    return found


def _form_value(form: dict[str, str], field: str) -> str:
    """Either layout's field name is accepted: a form rendered before a release still posts."""
    for name in FIELD_NAMES[field]:
        if form.get(name):
            return str(form[name]).strip()
    return ""


def _us_date(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()
    except ValueError:
        return None


# --- login and security question ---------------------------------------------------


async def root(request: Request) -> Response:
    return _redirect("login")


async def login_form(request: Request) -> Response:
    message = "YOU HAVE BEEN LOGGED OFF." if request.query_params.get("loggedoff") else None
    return _page(request, "login.html", {"notice": message})


async def login_submit(request: Request) -> Response:
    form = await request.form()
    user_id = str(form.get("userId", "")).strip()
    password = str(form.get("password", ""))
    w = world(request)
    outcome = w.check_password(PORTAL, user_id, password)
    if outcome == "locked":
        error = ("YOUR ACCOUNT HAS BEEN LOCKED DUE TO INVALID LOGIN ATTEMPTS. "
                 f"CONTACT PROVIDER SERVICES AT {HELP_DESK} TO RESET IT.")
        return _page(request, "login.html", {"error": error, "user_id": user_id})
    if outcome != "ok":
        error = (f"INVALID USER ID OR PASSWORD. ACCOUNTS ARE LOCKED AFTER "
                 f"{w.faults[PORTAL].lockout_after} INVALID ATTEMPTS.")
        return _page(request, "login.html", {"error": error, "user_id": user_id})
    w.end_session(request.cookies.get(COOKIE))
    account = w.account(PORTAL, user_id)
    needs_question = account is not None and bool(account.security_question)
    sid = w.start_session(PORTAL, user_id, "security" if needs_question else "in")
    response = _redirect("security" if needs_question else "menu")
    response.set_cookie(COOKIE, sid, path=PREFIX, httponly=True, samesite="lax")
    return response


async def security_question(request: Request) -> Response:
    w = world(request)
    session = w.session(PORTAL, request.cookies.get(COOKIE))
    if session is None:
        return _no_session(request)
    if session.stage == "in":
        return _redirect("menu")
    account = w.account(PORTAL, session.username)
    if account is None or not account.security_question:
        return _redirect("login")
    error = None
    if request.method == "POST":
        form = await request.form()
        given = str(form.get("answer", "")).strip().casefold()
        if given == (account.security_answer or "").strip().casefold():
            with w.lock:
                session.stage = "in"
            return _redirect("menu")
        error = "THE ANSWER PROVIDED DOES NOT MATCH OUR RECORDS. PLEASE TRY AGAIN."
    return _page(request, "security.html", {"question": account.security_question, "error": error})


async def logout(request: Request) -> Response:
    world(request).end_session(request.cookies.get(COOKIE))
    response = RedirectResponse(f"{PREFIX}/login?loggedoff=1", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


# --- signed-in pages ------------------------------------------------------------


@signed_in
async def menu(request: Request, session: Session) -> Response:
    return _page(request, "menu.html", {"user_id": session.username})


@signed_in
async def claim_inquiry(request: Request, session: Session) -> Response:
    if request.method == "GET":
        return _page(request, "inquiry.html", {"values": {}, "errors": []})
    form = {k: str(v) for k, v in (await request.form()).items()}
    values = {field: _form_value(form, field) for field in FIELD_NAMES}
    errors = _validate(values)
    if errors:
        return _page(request, "inquiry.html", {"values": values, "errors": errors})
    dos = (_us_date(values["dos_from"]), _us_date(values["dos_to"]))
    matches = [(c, s) for c, s in _medicaid_claims(request) if _matches(c, values, *dos)]
    version = layout(request, PORTAL)
    columns = RESULT_COLUMNS[version]
    rows = [_result_row(c, s, columns) for c, s in matches]
    return _page(request, "results.html", {"columns": columns, "rows": rows, "values": values})


def _validate(values: dict[str, str]) -> list[str]:
    errors = []
    if not (values["npi"].isdigit() and len(values["npi"]) == 10):
        errors.append("PROVIDER NPI MUST BE 10 DIGITS.")
    if not values["recipient"].isalnum():
        errors.append("RECIPIENT ID IS REQUIRED.")
    dos_from, dos_to = _us_date(values["dos_from"]), _us_date(values["dos_to"])
    if dos_from is None or dos_to is None:
        errors.append("DATES OF SERVICE MUST BE ENTERED AS MM/DD/YYYY.")
    elif dos_to < dos_from:
        errors.append("DOS TO CANNOT BE BEFORE DOS FROM.")
    return errors


def _matches(claim: Claim, values: dict[str, str], dos_from: date | None, dos_to: date | None) -> bool:
    return (
        dos_from is not None and dos_to is not None
        and claim.rendering_npi == values["npi"]
        and claim.member_id.upper() == values["recipient"].upper()
        and claim.dos_from <= dos_to and claim.dos_to >= dos_from
        and values["pcn"].upper() in ("", claim.claim_id.upper())
        and values["tcn"].upper() in ("", claim.payer_claim_number.upper())
    )


def _result_row(claim: Claim, status: Status, columns: tuple[str, ...]) -> list[dict[str, str | None]]:
    cells: dict[str, dict[str, str | None]] = {
        "TCN": {"text": claim.payer_claim_number, "href": f"{PREFIX}/claims/detail?tcn={claim.payer_claim_number}"},
        "PATIENT CONTROL #": {"text": claim.claim_id, "href": None},
        "DOS FROM": {"text": claim.dos_from.strftime("%m/%d/%Y"), "href": None},
        "DOS TO": {"text": claim.dos_to.strftime("%m/%d/%Y"), "href": None},
        "BILLED": {"text": money(claim.billed), "href": None},
        "PAID": {"text": money(status.paid), "href": None},
        "STATUS": {"text": SHORT_STATUS.get(status.category, status.category), "href": None},
    }
    return [cells[c] for c in columns]


@signed_in
async def claim_detail(request: Request, session: Session) -> Response:
    tcn = request.query_params.get("tcn", "")
    found = [(c, s) for c, s in _medicaid_claims(request) if c.payer_claim_number == tcn]
    if not found:
        return _page(request, "detail_missing.html", status_code=200)
    claim, status = found[0]
    columns = LINE_COLUMNS[layout(request, PORTAL)]
    return _page(request, "detail.html", {"claim": claim, "status": status, "columns": columns,
                                          "lines": _line_rows(claim, status, columns)})


def _line_rows(claim: Claim, status: Status, columns: tuple[str, ...]) -> list[list[str]]:
    """One row per line and adjustment (ePACES style); a line with no adjustment gets one blank row."""
    rows = []
    for line in claim.lines:
        base = {"LINE": str(line.line_no), "PROC": line.procedure, "CHARGE": money(line.charge)}
        adjustments = [a for a in status.adjustments if a.line_no == line.line_no] or [None]
        for adj in adjustments:
            codes = {"GROUP": "", "CARC": "", "ADJ AMT": "", "RARC": ""} if adj is None else {
                "GROUP": adj.group_code, "CARC": adj.carc, "ADJ AMT": money(adj.amount),
                "RARC": ", ".join(adj.rarcs)}
            rows.append({**base, **codes})
    for adj in (a for a in status.adjustments if a.line_no is None):
        rows.append({"LINE": "", "PROC": "", "CHARGE": "", "GROUP": adj.group_code, "CARC": adj.carc,
                     "ADJ AMT": money(adj.amount), "RARC": ", ".join(adj.rarcs)})
    return [[row[c] for c in columns] for row in rows]


# --- faults -------------------------------------------------------------------


def fault_page(request: Request, kind: str) -> Response:
    """Maintenance answers 200 (legacy); throttling 429; anything else the 500 SYSTEM ERROR page."""
    if kind == "maintenance":
        return _page(request, "maintenance.html")
    if kind == "rate_limited":
        response = _page(request, "rate_limited.html", status_code=429)
        response.headers["Retry-After"] = "60"
        return response
    return _page(request, "error.html", status_code=500)


routes = [
    Route("/", root),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/security", security_question, methods=["GET", "POST"]),
    Route("/logout", logout),
    Route("/menu", menu),
    Route("/claims/inquiry", claim_inquiry, methods=["GET", "POST"]),
    Route("/claims/detail", claim_detail),
]
