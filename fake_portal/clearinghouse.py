"""Summit Exchange: a multi-payer clearinghouse portal (Availity-like), mounted at /clearinghouse.

Sign-in is a password, then a 6-digit authenticator code that is accepted once. The
claim status search is answered by a JSON API and rendered by the browser's
JavaScript, so only a real browser sees results. The claim detail page is
server-rendered with the 277 status and the CAS adjustments. Layout 2 renames the
ids/classes and moves the results and adjustments columns.
"""

from __future__ import annotations

import secrets
from datetime import date

import pyotp
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from fake_portal.data import PAYERS, Claim, Payer, Status
from fake_portal.web import layout, templates, world
from fake_portal.world import Session

PORTAL = "clearinghouse"
BASE = f"/{PORTAL}"
COOKIE = "summit_sid"

SERVED_PAYERS: dict[str, Payer] = {p.id: p for p in PAYERS if p.portal == PORTAL}

# Element ids in layout 1; layout 2 (the "redesign") renames every one of them.
_IDS_V1 = {
    "login_form": "login-form", "username": "username", "password": "password", "sign_in": "sign-in",
    "login_error": "login-error", "notice": "login-notice",
    "mfa_form": "mfa-form", "otp": "otp-code", "verify": "verify-code", "mfa_error": "mfa-error",
    "dashboard": "dashboard",
    "search_form": "claim-search-form", "payer": "payer-id", "member": "member-id",
    "dos_from": "service-from", "dos_to": "service-to", "npi": "provider-npi",
    "pcn": "patient-control-number", "search": "search-claims", "results": "search-results",
    "alert": "search-alert",
    "detail": "claim-detail", "lines": "service-lines", "adjustments": "claim-adjustments",
    "f_pcn": "claim-pcn", "f_payer_claim": "claim-payer-number", "f_category": "claim-category",
    "f_status_code": "claim-status-code", "f_status_text": "claim-status-text",
    "f_effective": "claim-effective-date", "f_billed": "claim-billed", "f_allowed": "claim-allowed",
    "f_paid": "claim-paid", "f_patient_resp": "claim-patient-resp", "f_check": "claim-check",
    "f_paid_on": "claim-payment-date",
}
IDS = {1: _IDS_V1, 2: {key: f"sx-{value}" for key, value in _IDS_V1.items()}}
CLASSES = {
    1: {"results_table": "results-table", "no_results": "no-results", "view": "view-claim"},
    2: {"results_table": "sx-grid", "no_results": "sx-empty", "view": "sx-open-claim"},
}
RESULT_COLUMNS = {
    1: ("pcn", "payer_claim", "patient", "dos", "billed", "status", "action"),
    2: ("status", "patient", "dos", "pcn", "payer_claim", "billed", "action"),
}
ADJUSTMENT_COLUMNS = {
    1: ("line", "procedure", "group", "carc", "amount", "rarcs"),
    2: ("line", "procedure", "amount", "group", "carc", "rarcs"),
}
ADJUSTMENT_LABELS = {"line": "Line", "procedure": "Procedure", "group": "Group", "carc": "Reason (CARC)",
                     "amount": "Amount", "rarcs": "Remarks (RARC)"}
CATEGORY_NAMES = {
    "A2": "Acknowledgement/Acceptance into adjudication system",
    "A7": "Acknowledgement/Rejected for invalid information",
    "P1": "Pending/In process",
    "P3": "Pending/Requested information",
    "F1": "Finalized/Payment",
    "F2": "Finalized/Denial",
}

NOTICES = {
    "expired": "Your session has expired. Please sign in again.",
    "required": "Please sign in to continue.",
    "signed_out": "You have signed out of Summit Exchange.",
}
FAULTS = {  # kind -> (HTTP status, Retry-After seconds, heading, message)
    "maintenance": (503, "1800", "Scheduled maintenance",
                    "Summit Exchange is undergoing scheduled maintenance. Please try again in about 30 minutes."),
    "rate_limited": (429, "60", "Too many requests",
                     "You have made too many requests in a short time. Please wait a minute and try again."),
    "error": (500, None, "Something went wrong", "We could not complete your request. Please try again later."),
}


def _render(request: Request, name: str, context: dict[str, object], status_code: int = 200) -> Response:
    version = layout(request, PORTAL)
    base = {"ids": IDS[version], "cls": CLASSES[version], "layout": version, "user": None}
    return templates.TemplateResponse(request, f"{PORTAL}/{name}", {**base, **context}, status_code=status_code)


def _to_login(reason: str | None = None) -> RedirectResponse:
    target = f"{BASE}/login" + (f"?notice={reason}" if reason else "")
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(COOKIE, path=BASE)
    return response


def _signed_in(request: Request) -> Session | None:
    session = world(request).session(PORTAL, request.cookies.get(COOKIE))
    return session if session is not None and session.stage == "in" else None


def _why_not_signed_in(request: Request) -> str:
    return "expired" if request.cookies.get(COOKIE) else "required"


# --- sign-in ---------------------------------------------------------------


def root(request: Request) -> Response:
    if request.cookies.get(COOKIE):
        return RedirectResponse(f"{BASE}/dashboard", status_code=303)
    return RedirectResponse(f"{BASE}/login", status_code=303)


async def login(request: Request) -> Response:
    if request.method == "GET":
        notice = NOTICES.get(request.query_params.get("notice", ""))
        return _render(request, "login.html", {"notice": notice, "error": None, "username": ""})
    form = await request.form()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    w = world(request)
    verdict = w.check_password(PORTAL, username, password)
    if verdict != "ok":
        error = ("Your account is locked. Contact your administrator to unlock it." if verdict == "locked"
                 else "The user ID or password you entered is incorrect.")
        return _render(request, "login.html", {"notice": None, "error": error, "username": username})
    w.end_session(request.cookies.get(COOKIE))
    account = w.account(PORTAL, username)
    needs_code = account is not None and account.totp_secret is not None
    sid = w.start_session(PORTAL, username, "mfa" if needs_code else "in")
    response = RedirectResponse(f"{BASE}/mfa" if needs_code else f"{BASE}/dashboard", status_code=303)
    response.set_cookie(COOKIE, sid, path=BASE, httponly=True, samesite="lax")
    return response


async def mfa(request: Request) -> Response:
    w = world(request)
    session = w.session(PORTAL, request.cookies.get(COOKIE))
    if session is None or session.stage != "mfa":
        return _to_login(_why_not_signed_in(request))
    if request.method == "GET":
        return _render(request, "mfa.html", {"error": None})
    code = str((await request.form()).get("code", "")).strip()
    error = _check_code(request, session, code)
    if error:
        return _render(request, "mfa.html", {"error": error})
    return RedirectResponse(f"{BASE}/dashboard", status_code=303)


def _check_code(request: Request, session: Session, code: str) -> str | None:
    """None when the code is good (and the session is then signed in), else the message to show."""
    w = world(request)
    with w.lock:
        account = w.account(PORTAL, session.username)
        if account is None or account.totp_secret is None:
            return "Two-step verification is not set up for this user. Contact your administrator."
        if code and code == account.last_totp:
            return "This code has already been used. Wait for a new code from your authenticator app."
        if not (code.isdigit() and len(code) == 6 and pyotp.TOTP(account.totp_secret).verify(code, valid_window=1)):
            return "The verification code is not valid. Check your authenticator app and try again."
        account.last_totp = code
        session.stage = "in"
    return None


async def logout(request: Request) -> Response:
    world(request).end_session(request.cookies.get(COOKIE))
    return _to_login("signed_out")


# --- signed-in pages -------------------------------------------------------


def dashboard(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return _to_login(_why_not_signed_in(request))
    return _render(request, "dashboard.html", {"user": session.username, "payers": SERVED_PAYERS.values(),
                                               "today": world(request).today()})


def claim_status(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return _to_login(_why_not_signed_in(request))
    return _render(request, "claim_status.html", {
        "user": session.username, "payers": SERVED_PAYERS.values(),
        "columns": RESULT_COLUMNS[layout(request, PORTAL)],
    })


def claim_detail(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return _to_login(_why_not_signed_in(request))
    w = world(request)
    claim = _claim_by_payer_number(request, request.path_params["payer_claim_number"])
    status = claim.status_on(w.today()) if claim else None
    if claim is None or status is None:
        return _render(request, "not_found.html", {"user": session.username}, status_code=404)
    version = layout(request, PORTAL)
    return _render(request, "claim_detail.html", {
        "user": session.username, "claim": claim, "status": status, "payer": SERVED_PAYERS[claim.payer_id],
        "category_name": CATEGORY_NAMES.get(status.category, ""),
        "adjustment_columns": ADJUSTMENT_COLUMNS[version], "adjustment_labels": ADJUSTMENT_LABELS,
        "adjustments": _adjustment_rows(claim, status),
    })


def _claim_by_payer_number(request: Request, payer_claim_number: str) -> Claim | None:
    for claim in world(request).dataset.claims_for(set(SERVED_PAYERS)):
        if claim.payer_claim_number == payer_claim_number:
            return claim
    return None


def _adjustment_rows(claim: Claim, status: Status) -> list[dict[str, str]]:
    procedures = {line.line_no: line.procedure for line in claim.lines}
    return [
        {
            "line": str(adj.line_no) if adj.line_no is not None else "Claim",
            "procedure": procedures.get(adj.line_no, "—") if adj.line_no is not None else "—",
            "group": adj.group_code,
            "carc": adj.carc,
            "amount": f"${adj.amount:,.2f}",
            "rarcs": ", ".join(adj.rarcs) or "—",
        }
        for adj in status.adjustments
    ]


# --- the JSON API the search page's JavaScript calls ------------------------


def api_search(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return JSONResponse({"error": "session_expired", "message": "Your session has expired."}, status_code=401)
    params = request.query_params
    try:
        payer_id = params["payerId"]
        member_id = params["memberId"].strip().upper()
        npi = params["providerNpi"].strip()
        dos_from = date.fromisoformat(params["serviceFrom"])
        dos_to = date.fromisoformat(params["serviceTo"])
    except (KeyError, ValueError):
        return JSONResponse({"error": "invalid_request",
                             "message": "Payer, member ID, service dates and NPI are required."}, status_code=400)
    if payer_id not in SERVED_PAYERS or not member_id or dos_to < dos_from:
        return JSONResponse({"error": "invalid_request", "message": "Check the payer and service dates."},
                            status_code=400)
    pcn = params.get("patientControlNumber", "").strip()
    today = world(request).today()
    rows = []
    for claim in world(request).dataset.claims_for({payer_id}):
        status = claim.status_on(today)
        if (status is None or claim.member_id.upper() != member_id or claim.rendering_npi != npi
                or claim.dos_to < dos_from or claim.dos_from > dos_to or (pcn and claim.claim_id != pcn)):
            continue
        rows.append(_search_row(claim, status))
    return JSONResponse({"count": len(rows), "claims": rows})


def _search_row(claim: Claim, status: Status) -> dict[str, str]:
    return {
        "patientControlNumber": claim.claim_id,
        "payerClaimNumber": claim.payer_claim_number,
        "patientName": claim.patient_name,
        "serviceFrom": claim.dos_from.isoformat(),
        "serviceTo": claim.dos_to.isoformat(),
        "billed": f"{claim.billed:.2f}",
        "statusCategory": status.category,
        "statusText": status.text,
        "detailUrl": f"{BASE}/claims/{claim.payer_claim_number}",
    }


# --- faults ------------------------------------------------------------------


def fault_page(request: Request, kind: str) -> Response:
    status_code, retry_after, heading, message = FAULTS[kind]
    headers = {"Retry-After": retry_after} if retry_after else {}
    if request.url.path.startswith(f"{BASE}/api/"):
        return JSONResponse({"error": kind, "message": message}, status_code=status_code, headers=headers)
    response = _render(request, "fault.html", {
        "heading": heading, "message": message, "reference": secrets.token_hex(4).upper(),
    }, status_code=status_code)
    response.headers.update(headers)
    return response


routes: list = [
    Route("/", root),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/mfa", mfa, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["GET", "POST"]),
    Route("/dashboard", dashboard),
    Route("/claim-status", claim_status),
    Route("/claims/{payer_claim_number}", claim_detail),
    Route("/api/claim-status/search", api_search),
]
