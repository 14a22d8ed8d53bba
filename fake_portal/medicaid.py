"""Lakeshore State Medicaid: a legacy state MMIS provider portal (think NY ePACES).

Server-rendered forms and tables, a security question after the password (or, once
the password expired, the CHANGE PASSWORD page and no session), a short
idle timeout answered with HTTP 200 "your session has timed out", and a maintenance
page that also answers 200, as the old state systems do. Besides claim inquiry (one
recipient's claims, or every claim by dates of service, 31 days and 25 rows a page at a time) it
offers prior authorization inquiry (by PA number or recipient) and provider
enrollment status (by NPI), for this payer's records only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fake_portal.data import PAYERS, Adjustment, Claim, Status
from fake_portal.id_drift import drifted as with_id_drift
from fake_portal.page_drift import drifted, drifted_status
from fake_portal.programs import Authorization, Enrollment
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
    "list_form": ("claimListForm", "frmClmLst"),
    "list_errors": ("listErrors", "valListSummary"),
    "list": ("claimList", "claimList"),
    "list_next": ("listNextPage", "lnkNxtPg"),
}
RESULT_COLUMNS = {
    1: ("TCN", "PATIENT CONTROL #", "DOS FROM", "DOS TO", "BILLED", "PAID", "STATUS"),
    2: ("PATIENT CONTROL #", "TCN", "STATUS", "DOS FROM", "DOS TO", "PAID", "BILLED"),
}
# Claims by date of service: layout 2 swaps BILLED and PAID, and the status with its date, and words one
# header its own way, so a reader trusting positions would take the paid amount for the billed one.
LIST_COLUMNS = {
    1: (
        "TCN",
        "PATIENT CONTROL NO.",
        "RECIPIENT ID",
        "DATES OF SERVICE",
        "BILLED",
        "PAID",
        "CLAIM STATUS",
        "STATUS DATE",
        "REMITTANCE/CHECK NO.",
    ),
    2: (
        "TCN",
        "PATIENT CONTROL NO.",
        "RECIPIENT ID",
        "DATES OF SERVICE",
        "PAID",
        "BILLED",
        "STATUS DATE",
        "CLAIM STATUS",
        "RA TRACE #",
    ),
}
LIST_MAX_DAYS = 31  # "THE DATE OF SERVICE RANGE MAY NOT EXCEED 31 DAYS."
LIST_ROWS_PER_PAGE = 25
LIST_FIELDS = {"dos_from": ("dosFrom", "txtFromDOS"), "dos_to": ("dosTo", "txtThruDOS")}
LINE_COLUMNS = {
    1: ("LINE", "PROC", "CHARGE", "GROUP", "CARC", "ADJ AMT", "RARC"),
    2: ("LINE", "PROC", "GROUP", "CARC", "RARC", "ADJ AMT", "CHARGE"),
}
# The prior authorization and enrollment pages follow the same release: their form
# fields and labelled values are renamed, the PA grids keep their ids and move columns.
PROGRAM_FIELD_NAMES = {
    "pa_number": ("paNumber", "txtPANo"),
    "pa_recipient": ("paRecipientId", "txtPARecipID"),
    "enr_npi": ("enrollmentNpi", "txtEnrNPI"),
}
PROGRAM_ELEMENT_IDS = {
    "pa_form": ("paInquiryForm", "frmPAInq"),
    "pa_search": ("btnPASearch", "btnPASubmit"),
    "pa_header": ("paHeader", "tblPAHdr"),
    "pa_no": ("paNo", "lblPANum"),
    "pa_status": ("paStatus", "lblPAStat"),
    "pa_recipient": ("paRecipient", "lblPARecipID"),
    "pa_npi": ("paServicingNpi", "lblSvcNPI"),
    "pa_from": ("paFromDate", "lblPAEffDt"),
    "pa_to": ("paToDate", "lblPAThruDt"),
    "pa_units_auth": ("unitsAuthorized", "lblUnitsAuth"),
    "pa_units_used": ("unitsUsed", "lblUnitsUsed"),
    "pa_denial": ("denialReason", "lblDenyRsn"),
    "pa_lines": ("paProcedures", "paProcedures"),
    "pa_list": ("paList", "paList"),
    "enr_form": ("enrollmentForm", "frmProvEnr"),
    "enr_search": ("btnEnrSearch", "btnEnrSubmit"),
    "enr_header": ("enrollmentDetail", "tblEnrDtl"),
    "enr_npi": ("enrNpi", "lblNPI"),
    "enr_provider_id": ("medicaidProviderId", "lblMPI"),
    "enr_status": ("enrollmentStatus", "lblEnrStat"),
    "enr_effective": ("effectiveDate", "lblEffDt"),
    "enr_termination": ("terminationDate", "lblTermDt"),
    "enr_revalidation": ("revalidationDue", "lblRevalDt"),
}
PA_LIST_COLUMNS = {
    1: ("PA NUMBER", "STATUS", "FROM DATE", "TO DATE", "SERVICING NPI", "UNITS AUTH", "UNITS USED"),
    2: ("STATUS", "PA NUMBER", "SERVICING NPI", "FROM DATE", "TO DATE", "UNITS USED", "UNITS AUTH"),
}
PA_LINE_COLUMNS = {
    1: ("LINE", "PROC CODE", "DESCRIPTION"),
    2: ("PROC CODE", "DESCRIPTION", "LINE"),
}
PA_STATUS_WORDS = {
    "approved": "APPROVED",
    "pending": "PENDED",
    "denied": "DENIED",
    "expired": "EXPIRED",
    "cancelled": "CANCELLED",
}
ENROLLMENT_STATUS_WORDS = {
    "in_process": "ENROLLMENT IN PROCESS",
    "active": "ACTIVE",
    "denied": "DENIED",
    "terminated": "TERMINATED",
}
PROCEDURE_NAMES = {
    "97110": "THERAPEUTIC EXERCISES",
    "97112": "NEUROMUSCULAR REEDUCATION",
    "97140": "MANUAL THERAPY TECHNIQUES",
    "97530": "THERAPEUTIC ACTIVITIES",
}
SHORT_STATUS = {
    "A2": "RECEIVED",
    "A7": "REJECTED",
    "P1": "PENDED",
    "P3": "PENDED - INFO REQ",
    "F1": "PAID",
    "F2": "DENIED",
}

Handler = Callable[[Request, Session], Awaitable[Response]]


# --- helpers ------------------------------------------------------------------


def _page(
    request: Request, template: str, context: dict[str, object] | None = None, status_code: int = 200
) -> Response:
    version = layout(request, PORTAL)
    base = {
        "prefix": PREFIX,
        "portal_date": world(request).now(),
        "ids": {k: v[version - 1] for k, v in {**ELEMENT_IDS, **PROGRAM_ELEMENT_IDS}.items()},
        "names": {k: v[version - 1] for k, v in {**FIELD_NAMES, **PROGRAM_FIELD_NAMES}.items()},
    }
    return templates.TemplateResponse(
        request, f"medicaid/{template}", {**base, **(context or {})}, status_code=status_code
    )


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
    w = world(request)
    for claim in with_id_drift(w.faults[PORTAL].id_drift, w.dataset.claims_for(PAYER_IDS)):
        status = claim.status_on(today)
        if status is not None:
            found.append((claim, status))
    return found


def _form_value(form: dict[str, str], field: str, names: dict[str, tuple[str, str]] = FIELD_NAMES) -> str:
    """Either layout's field name is accepted: a form rendered before a release still posts."""
    for name in names[field]:
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


LOGIN_NOTICES = {
    "loggedoff": "YOU HAVE BEEN LOGGED OFF.",
    "pwchanged": "YOUR PASSWORD HAS BEEN CHANGED. PLEASE LOG IN WITH YOUR NEW PASSWORD.",
}
PASSWORD_FIELDS = ("currentPassword", "newPassword", "confirmPassword")  # current, new, confirmation
PASSWORD_CHANGE_ERRORS = {
    "mismatch": "NEW PASSWORD AND CONFIRM PASSWORD DO NOT MATCH.",
    "weak": "NEW PASSWORD MUST BE 8 TO 32 CHARACTERS AND MAY NOT MATCH THE CURRENT PASSWORD.",
    "wrong": "CURRENT PASSWORD IS INVALID.",
    "locked": f"YOUR ACCOUNT HAS BEEN LOCKED. CONTACT PROVIDER SERVICES AT {HELP_DESK} TO RESET IT.",
}


async def login_form(request: Request) -> Response:
    message = next((text for flag, text in LOGIN_NOTICES.items() if request.query_params.get(flag)), None)
    return _page(request, "login.html", {"notice": message})


async def login_submit(request: Request) -> Response:
    form = await request.form()
    user_id = str(form.get("userId", "")).strip()
    password = str(form.get("password", ""))
    w = world(request)
    outcome = w.check_password(PORTAL, user_id, password)
    if outcome == "expired":  # no session until a new password is chosen
        return _page(request, "password_expired.html", {"user_id": user_id})
    if outcome == "locked":
        error = (
            "YOUR ACCOUNT HAS BEEN LOCKED DUE TO INVALID LOGIN ATTEMPTS. "
            f"CONTACT PROVIDER SERVICES AT {HELP_DESK} TO RESET IT."
        )
        return _page(request, "login.html", {"error": error, "user_id": user_id})
    if outcome != "ok":
        error = (
            f"INVALID USER ID OR PASSWORD. ACCOUNTS ARE LOCKED AFTER {w.faults[PORTAL].lockout_after} INVALID ATTEMPTS."
        )
        return _page(request, "login.html", {"error": error, "user_id": user_id})
    w.end_session(request.cookies.get(COOKIE))
    account = w.account(PORTAL, user_id)
    needs_question = account is not None and bool(account.security_question)
    sid = w.start_session(PORTAL, user_id, "security" if needs_question else "in")
    response = _redirect("security" if needs_question else "menu")
    response.set_cookie(COOKIE, sid, path=PREFIX, httponly=True, samesite="lax")
    return response


async def change_password(request: Request) -> Response:
    form = await request.form()
    user_id = str(form.get("userId", "")).strip()
    current, new, confirm = (str(form.get(field, "")) for field in PASSWORD_FIELDS)
    outcome = world(request).change_password(PORTAL, user_id, current, new, confirm)
    if outcome == "changed":
        return _redirect("login?pwchanged=1")
    return _page(request, "password_expired.html", {"user_id": user_id, "error": PASSWORD_CHANGE_ERRORS[outcome]})


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
        dos_from is not None
        and dos_to is not None
        and claim.rendering_npi == values["npi"]
        and claim.member_id.upper() == values["recipient"].upper()
        and claim.dos_from <= dos_to
        and claim.dos_to >= dos_from
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
async def claim_list(request: Request, session: Session) -> Response:
    """CLAIMS BY DATE OF SERVICE: a GET form and its results, a page of LIST_ROWS_PER_PAGE rows at a time."""
    params = {k: str(v) for k, v in request.query_params.items()}
    values = {field: _form_value(params, field, LIST_FIELDS) for field in LIST_FIELDS}
    context: dict[str, object] = {"values": values, "errors": [], "rows": [], "searched": any(values.values())}
    if not context["searched"]:
        return _page(request, "claim_list.html", context)
    dos_from, dos_to = _us_date(values["dos_from"]), _us_date(values["dos_to"])
    if dos_from is None or dos_to is None:
        context["errors"] = ["DATES OF SERVICE MUST BE ENTERED AS MM/DD/YYYY."]
    elif dos_to < dos_from:
        context["errors"] = ["DOS TO CANNOT BE BEFORE DOS FROM."]
    elif (dos_to - dos_from).days + 1 > LIST_MAX_DAYS:
        context["errors"] = [f"THE DATE OF SERVICE RANGE MAY NOT EXCEED {LIST_MAX_DAYS} DAYS."]
    if context["errors"] or dos_from is None or dos_to is None:
        return _page(request, "claim_list.html", context)
    found = sorted(
        ((c, s) for c, s in _medicaid_claims(request) if c.dos_from <= dos_to and c.dos_to >= dos_from),
        key=lambda found: (found[0].dos_from, found[0].claim_id),
    )
    text = request.query_params.get("page", "1")
    page = max(int(text), 1) if text.isdigit() else 1
    start = (page - 1) * LIST_ROWS_PER_PAGE
    columns = LIST_COLUMNS[layout(request, PORTAL)]
    shown = found[start : start + LIST_ROWS_PER_PAGE]
    following = request.url.include_query_params(page=page + 1)
    context |= {
        "columns": columns,
        "rows": [_list_row(c, s, columns) for c, s in shown],
        "total": len(found),
        "page": page,
        "pages": max((len(found) + LIST_ROWS_PER_PAGE - 1) // LIST_ROWS_PER_PAGE, 1),
        "next_url": f"{following.path}?{following.query}" if start + LIST_ROWS_PER_PAGE < len(found) else "",
    }
    return _page(request, "claim_list.html", context)


def _list_row(claim: Claim, status: Status, columns: tuple[str, ...]) -> list[dict[str, str | None]]:
    """The status in the detail page's words; the status date is the day the status took effect."""
    texts = {
        "PATIENT CONTROL NO.": claim.claim_id,
        "RECIPIENT ID": claim.member_id,
        "DATES OF SERVICE": f"{claim.dos_from:%m/%d/%Y} - {claim.dos_to:%m/%d/%Y}",
        "BILLED": money(claim.billed),
        "PAID": money(status.paid),
        "CLAIM STATUS": f"{status.category} / {status.status_code} - {status.text}",
        "STATUS DATE": f"{status.effective:%m/%d/%Y}",
        "REMITTANCE/CHECK NO.": status.check_number or "",
        "RA TRACE #": status.check_number or "",
    }
    cells: dict[str, dict[str, str | None]] = {k: {"text": v, "href": None} for k, v in texts.items()}
    cells["TCN"] = {"text": claim.payer_claim_number, "href": f"{PREFIX}/claims/detail?tcn={claim.payer_claim_number}"}
    return [cells[c] for c in columns]


@signed_in
async def claim_detail(request: Request, session: Session) -> Response:
    tcn = request.query_params.get("tcn", "")
    found = [(c, s) for c, s in _medicaid_claims(request) if c.payer_claim_number == tcn]
    if not found:
        return _page(request, "detail_missing.html", status_code=200)
    claim, status = found[0]
    columns = LINE_COLUMNS[layout(request, PORTAL)]
    drift = world(request).faults[PORTAL].page_drift
    lines = _line_rows(claim, drifted_status(drift, status), columns)
    return _page(
        request,
        "detail.html",
        {"claim": claim, "status": status, "columns": columns, "line_table": drifted(drift, lines, request)},
    )


def _line_rows(claim: Claim, status: Status, columns: tuple[str, ...]) -> list[list[str]]:
    """One row per line and adjustment (ePACES style); a line with no adjustment gets one blank row."""
    rows = []
    for line in claim.lines:
        base = {"LINE": str(line.line_no), "PROC": line.procedure, "CHARGE": money(line.charge)}
        adjustments: list[Adjustment | None] = [a for a in status.adjustments if a.line_no == line.line_no] or [None]
        for adj in adjustments:
            codes = (
                {"GROUP": "", "CARC": "", "ADJ AMT": "", "RARC": ""}
                if adj is None
                else {
                    "GROUP": adj.group_code,
                    "CARC": adj.carc,
                    "ADJ AMT": money(adj.amount),
                    "RARC": ", ".join(adj.rarcs),
                }
            )
            rows.append({**base, **codes})
    for adj in (a for a in status.adjustments if a.line_no is None):
        rows.append(
            {
                "LINE": "",
                "PROC": "",
                "CHARGE": "",
                "GROUP": adj.group_code,
                "CARC": adj.carc,
                "ADJ AMT": money(adj.amount),
                "RARC": ", ".join(adj.rarcs),
            }
        )
    return [[row[c] for c in columns] for row in rows]


# --- prior authorizations ---------------------------------------------------------


def _authorizations(request: Request) -> list[tuple[Authorization, str]]:
    """This payer's authorizations the portal knows today, with their status."""
    today = world(request).today()
    found = []
    for auth in world(request).programs.authorizations.values():
        status = auth.status_on(today)
        if auth.payer_id in PAYER_IDS and status is not None:
            found.append((auth, status))
    return found


def _no_records(request: Request, heading: str, back: str) -> Response:
    return _page(request, "no_records.html", {"heading": heading, "back": back})


@signed_in
async def pa_inquiry(request: Request, session: Session) -> Response:
    if request.method == "GET":
        return _page(request, "pa_inquiry.html", {"values": {}, "errors": []})
    form = {k: str(v) for k, v in (await request.form()).items()}
    values = {f: _form_value(form, f, PROGRAM_FIELD_NAMES) for f in ("pa_number", "pa_recipient")}
    if values["pa_number"]:
        return _pa_detail(request, values["pa_number"])
    if not values["pa_recipient"].isalnum():
        errors = ["ENTER A PA NUMBER OR A RECIPIENT ID."]
        return _page(request, "pa_inquiry.html", {"values": values, "errors": errors})
    recipient = values["pa_recipient"].upper()
    found = [(a, s) for a, s in _authorizations(request) if a.member_id.upper() == recipient]
    if not found:
        return _no_records(request, "PRIOR AUTHORIZATION LIST", "pa/inquiry")
    columns = PA_LIST_COLUMNS[layout(request, PORTAL)]
    rows = [_pa_list_row(request, a, s, columns) for a, s in sorted(found, key=lambda f: f[0].auth_number)]
    return _page(request, "pa_list.html", {"columns": columns, "rows": rows, "recipient": found[0][0]})


def _pa_list_row(
    request: Request, auth: Authorization, status: str, columns: tuple[str, ...]
) -> list[dict[str, str | None]]:
    authorized, used = _units(request, auth, status)
    cells: dict[str, dict[str, str | None]] = {
        "PA NUMBER": {"text": auth.auth_number, "href": f"{PREFIX}/pa/detail?pa={auth.auth_number}"},
        "STATUS": {"text": PA_STATUS_WORDS[status], "href": None},
        "FROM DATE": {"text": auth.start.strftime("%m/%d/%Y"), "href": None},
        "TO DATE": {"text": auth.end.strftime("%m/%d/%Y"), "href": None},
        "SERVICING NPI": {"text": auth.servicing_npi, "href": None},
        "UNITS AUTH": {"text": authorized, "href": None},
        "UNITS USED": {"text": used, "href": None},
    }
    return [cells[c] for c in columns]


def _units(request: Request, auth: Authorization, status: str) -> tuple[str, str]:
    """Units authorized stay blank while a request is pended: nothing is authorized yet."""
    authorized = "" if status == "pending" else str(auth.units_approved)
    return authorized, str(auth.units_used_on(world(request).today()))


@signed_in
async def pa_detail_page(request: Request, session: Session) -> Response:
    return _pa_detail(request, request.query_params.get("pa", "").strip())


def _pa_detail(request: Request, pa_number: str) -> Response:
    found = [(a, s) for a, s in _authorizations(request) if a.auth_number.upper() == pa_number.upper()]
    if not found:
        return _no_records(request, "PRIOR AUTHORIZATION DETAIL", "pa/inquiry")
    auth, status = found[0]
    authorized, used = _units(request, auth, status)
    columns = PA_LINE_COLUMNS[layout(request, PORTAL)]
    lines = [
        {"LINE": str(n), "PROC CODE": code, "DESCRIPTION": PROCEDURE_NAMES.get(code, "")}
        for n, code in enumerate(auth.procedure_codes, start=1)
    ]
    return _page(
        request,
        "pa_detail.html",
        {
            "auth": auth,
            "status_word": PA_STATUS_WORDS[status],
            "units_authorized": authorized,
            "units_used": used,
            "columns": columns,
            "lines": [[line[c] for c in columns] for line in lines],
            "denial_reason": (auth.denial_reason or "").upper() if status == "denied" else "",
        },
    )


# --- provider enrollment ----------------------------------------------------------


@signed_in
async def enrollment_inquiry(request: Request, session: Session) -> Response:
    if request.method == "GET":
        return _page(request, "enrollment_inquiry.html", {"values": {}, "errors": []})
    form = {k: str(v) for k, v in (await request.form()).items()}
    npi = _form_value(form, "enr_npi", PROGRAM_FIELD_NAMES)
    if not (npi.isdigit() and len(npi) == 10):
        errors = ["PROVIDER NPI MUST BE 10 DIGITS."]
        return _page(request, "enrollment_inquiry.html", {"values": {"enr_npi": npi}, "errors": errors})
    enrollment = _enrollment(request, npi)
    if enrollment is None:
        return _no_records(request, "PROVIDER ENROLLMENT STATUS", "enrollment/inquiry")
    provider = next(p for p in world(request).dataset.providers if p.npi == npi)
    status = enrollment.status_on(world(request).today())
    return _page(
        request,
        "enrollment_detail.html",
        {"enrollment": enrollment, "provider": provider, "status_word": _enrollment_word(enrollment, status)},
    )


def _enrollment(request: Request, npi: str) -> Enrollment | None:
    for payer_id in PAYER_IDS:
        found = world(request).programs.enrollments.get((npi, payer_id))
        if found is not None:
            return found
    return None


def _enrollment_word(enrollment: Enrollment, status: str) -> str:
    """A provider dropped for a missed revalidation is shown as LAPSED, not TERMINATED."""
    if status == "terminated" and enrollment.scenario == "lapsed":
        return "LAPSED"
    return ENROLLMENT_STATUS_WORDS[status]


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
    Route("/password/change", change_password, methods=["POST"]),
    Route("/security", security_question, methods=["GET", "POST"]),
    Route("/logout", logout),
    Route("/menu", menu),
    Route("/claims/inquiry", claim_inquiry, methods=["GET", "POST"]),
    Route("/claims/list", claim_list),
    Route("/claims/detail", claim_detail),
    Route("/pa/inquiry", pa_inquiry, methods=["GET", "POST"]),
    Route("/pa/detail", pa_detail_page),
    Route("/enrollment/inquiry", enrollment_inquiry, methods=["GET", "POST"]),
]
