"""Unity Health Plans' provider portal (UnitedHealthcare-like), served at /commercial.

Sign in (an expired password gets the "create a new password" page and no session),
acknowledge the terms notice once per session, search claims (filters, 10 per
page, CSV export of the whole result) and open a claim's detail; look up
a prior authorization by number or list a member's authorizations; check a
provider's enrollment by NPI. Statuses are shown in words, never as codes.
Layout 2 renames the ids and attributes the adapter relies on and moves the
columns of every table and of the CSV.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fake_portal.data import PAYERS, Claim, Status
from fake_portal.id_drift import drifted as with_id_drift
from fake_portal.page_drift import drifted, drifted_status
from fake_portal.programs import Authorization, Enrollment
from fake_portal.web import layout, templates, world
from fake_portal.world import Session

PORTAL = "commercial"
BASE = "/commercial"
COOKIE = "unity_session"
PAGE_SIZE = 10
MAX_RANGE_DAYS = 366  # a search (and its CSV) covers at most 12 months of service dates
PAYER_IDS = frozenset(p.id for p in PAYERS if p.portal == PORTAL)

WORDS_BY_CATEGORY = {
    "A2": "Received",
    "A7": "Rejected",
    "P1": "In process",
    "P3": "Pending - information requested",
    "F2": "Denied",
}
STATUS_CHOICES = (
    "Paid",
    "Partially paid",
    "Denied",
    "In process",
    "Pending - information requested",
    "Received",
    "Rejected",
)
DESCRIPTIONS = {
    "Paid": "This claim has been processed and payment has been issued.",
    "Partially paid": "This claim has been processed; some service lines were reduced or denied.",
    "Denied": "This claim has been processed and denied. See the adjustment codes below.",
    "In process": "This claim is being reviewed. No action is needed at this time.",
    "Pending - information requested": "We have asked the provider for more information. "
    "Respond to the request letter to continue processing.",
    "Received": "We have received this claim and it is waiting to be processed.",
    "Rejected": "This claim could not be entered into our system because of invalid information. "
    "Correct and resubmit it.",
}
RESULT_COLUMNS = {
    1: (
        ("claim_number", "Claim #"),
        ("patient_account", "Patient account #"),
        ("member", "Member"),
        ("dos", "Date of service"),
        ("billed", "Billed"),
        ("paid", "Paid"),
        ("status", "Status"),
    ),
    2: (
        ("status", "Status"),
        ("claim_number", "Claim #"),
        ("dos", "Date of service"),
        ("member", "Member"),
        ("patient_account", "Patient account #"),
        ("paid", "Paid"),
        ("billed", "Billed"),
    ),
}
LINE_COLUMNS = {
    1: (
        ("line", "Line"),
        ("dos", "Date of service"),
        ("procedure", "Procedure"),
        ("units", "Units"),
        ("billed", "Billed"),
        ("allowed", "Allowed"),
        ("paid", "Paid"),
    ),
    2: (
        ("line", "Line"),
        ("procedure", "Procedure"),
        ("dos", "Date of service"),
        ("units", "Units"),
        ("allowed", "Allowed"),
        ("billed", "Billed"),
        ("paid", "Paid"),
    ),
}
ADJUSTMENT_COLUMNS = {
    1: (
        ("line", "Line"),
        ("group", "Group code"),
        ("carc", "Reason code"),
        ("amount", "Amount"),
        ("rarcs", "Remark codes"),
    ),
    2: (
        ("line", "Line"),
        ("carc", "Reason code"),
        ("group", "Group code"),
        ("rarcs", "Remark codes"),
        ("amount", "Amount"),
    ),
}
CSV_COLUMNS = {
    1: (
        ("claim_number", "Claim Number"),
        ("patient_account", "Patient Account Number"),
        ("member_id", "Member ID"),
        ("patient", "Patient Name"),
        ("dos_from", "Service Date From"),
        ("dos_to", "Service Date To"),
        ("billed", "Billed Amount"),
        ("allowed", "Allowed Amount"),
        ("paid", "Paid Amount"),
        ("patient_resp", "Patient Responsibility"),
        ("status", "Claim Status"),
        ("status_date", "Status Date"),
        ("payment_number", "Payment Number"),
        ("payment_date", "Payment Date"),
    ),
    2: (
        ("status", "Status"),
        ("claim_number", "Claim No"),
        ("patient_account", "Patient Acct No"),
        ("member_id", "Member ID"),
        ("patient", "Patient Name"),
        ("dos_from", "DOS From"),
        ("dos_to", "DOS To"),
        ("billed", "Charged"),
        ("allowed", "Allowed"),
        ("paid", "Paid"),
        ("patient_resp", "Member Owes"),
        ("status_date", "Last Updated"),
        ("payment_number", "Check/EFT #"),
        ("payment_date", "Paid Date"),
    ),
}


@dataclass(frozen=True)
class Ui:
    """The ids and attributes a layout uses; layout 2 renames every one."""

    results_table: str
    no_results: str
    next_link: str
    csv_link: str
    summary: str
    field_attr: str
    lines_table: str
    adjustments_table: str
    auth_summary: str
    auth_services: str
    member_auths: str
    enrollment_provider: str
    enrollment_table: str


UI = {
    1: Ui(
        "claim-results",
        "no-claims",
        "uhp-pager__next",
        "download-csv",
        "claim-summary",
        "data-field",
        "service-lines",
        "line-adjustments",
        "auth-summary",
        "auth-services",
        "member-auth-list",
        "enrollment-provider",
        "enrollment-status",
    ),
    2: Ui(
        "claimsGrid",
        "emptyResults",
        "pagerNext",
        "exportCsv",
        "claimHeader",
        "data-key",
        "svcLineGrid",
        "adjGrid",
        "authHeader",
        "authSvcGrid",
        "memberAuthGrid",
        "provHeader",
        "enrollGrid",
    ),
}


# --- the claims this portal knows -------------------------------------------


@dataclass(frozen=True)
class ClaimView:
    claim: Claim
    status: Status
    words: str


@dataclass(frozen=True)
class LineView:
    line: str
    dos: date
    procedure: str
    units: int
    billed: Decimal
    allowed: Decimal | None
    paid: Decimal | None


@dataclass(frozen=True)
class AdjustmentView:
    line: str
    group: str
    carc: str
    amount: Decimal
    rarcs: str


def status_words(claim: Claim, status: Status) -> str:
    if status.category == "F1":
        return "Partially paid" if claim.outcome == "partial" else "Paid"
    return WORDS_BY_CATEGORY[status.category]


def claims_on_file(request: Request) -> list[ClaimView]:
    """Unity's claims the payer has received by today, newest service date first."""
    w = world(request)
    today = w.today()
    views = []
    for claim in with_id_drift(w.faults[PORTAL].id_drift, w.dataset.claims_for(set(PAYER_IDS))):
        status = claim.status_on(today)
        if status is not None:
            views.append(ClaimView(claim, status, status_words(claim, status)))
    return sorted(views, key=lambda v: (-v.claim.dos_from.toordinal(), v.claim.payer_claim_number))


def line_views(view: ClaimView) -> list[LineView]:
    category = view.status.category
    rows = []
    for line in view.claim.lines:
        adjustments = [a for a in view.status.adjustments if a.line_no == line.line_no]
        allowed = paid = None
        if category == "F1":
            allowed = line.charge - sum((a.amount for a in adjustments if a.group_code != "PR"), Decimal("0"))
            paid = allowed - sum((a.amount for a in adjustments if a.group_code == "PR"), Decimal("0"))
        elif category == "F2":
            allowed = paid = Decimal("0.00")
        rows.append(
            LineView(str(line.line_no), view.claim.dos_from, line.procedure, line.units, line.charge, allowed, paid)
        )
    return rows


def adjustment_views(view: ClaimView) -> list[AdjustmentView]:
    return [
        AdjustmentView(
            "Claim" if a.line_no is None else str(a.line_no), a.group_code, a.carc, a.amount, ", ".join(a.rarcs) or "—"
        )
        for a in view.status.adjustments
    ]


# --- search filters ----------------------------------------------------------


@dataclass(frozen=True)
class ClaimFilter:
    dos_from: date | None = None
    dos_to: date | None = None
    status: str = ""
    account: str = ""  # payer claim number or patient account number
    member_id: str = ""

    def matches(self, view: ClaimView) -> bool:
        claim = view.claim
        account = self.account.upper()
        return (
            (self.dos_from is None or claim.dos_to >= self.dos_from)
            and (self.dos_to is None or claim.dos_from <= self.dos_to)
            and (not self.status or view.words == self.status)
            and (not account or account in {claim.claim_id.upper(), claim.payer_claim_number.upper()})
            and (not self.member_id or claim.member_id.upper() == self.member_id.upper())
        )

    def query(self, **extra: object) -> str:
        values = {
            "dos_from": self.dos_from.strftime("%m/%d/%Y") if self.dos_from else "",
            "dos_to": self.dos_to.strftime("%m/%d/%Y") if self.dos_to else "",
            "status": self.status,
            "account": self.account,
            "member_id": self.member_id,
            **extra,
        }
        return urlencode(values)


def parse_filter(request: Request) -> tuple[ClaimFilter, list[str]]:
    params = request.query_params
    errors: list[str] = []
    dates: dict[str, date | None] = {}
    for key, label in (("dos_from", "Date of service from"), ("dos_to", "Date of service to")):
        dates[key] = _parse_us_date(params.get(key, ""))
        if dates[key] is None and params.get(key, "").strip():
            errors.append(f"{label}: enter a date as MM/DD/YYYY.")
    status = params.get("status", "")
    if status and status not in STATUS_CHOICES:
        errors.append("Choose a claim status from the list.")
    found = ClaimFilter(
        dates["dos_from"],
        dates["dos_to"],
        status,
        params.get("account", "").strip(),
        params.get("member_id", "").strip(),
    )
    if found.dos_from and found.dos_to and found.dos_from > found.dos_to:
        errors.append("Date of service from must be on or before date of service to.")
    elif found.dos_from and found.dos_to and (found.dos_to - found.dos_from).days >= MAX_RANGE_DAYS:
        errors.append("The date of service range may not exceed 12 months.")
    return found, errors


def _parse_us_date(text: str) -> date | None:
    for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


# --- pages -------------------------------------------------------------------


def render(
    request: Request,
    name: str,
    context: dict[str, object] | None = None,
    *,
    session: Session | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    version = layout(request, PORTAL)
    return templates.TemplateResponse(
        request,
        f"commercial/{name}",
        {"base": BASE, "ui": UI[version], "layout": version, "session": session, **(context or {})},
        status_code=status_code,
        headers=headers,
    )


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(f"{BASE}{path}", status_code=303)


def signed_in(request: Request, *, notice_ok: bool = False) -> Session | Response:
    """The session behind the cookie, or where the browser must go instead."""
    sid = request.cookies.get(COOKIE)
    session = world(request).session(PORTAL, sid)
    if session is None:
        response = redirect(f"/login?reason={'timeout' if sid else 'signin'}")
        if sid:
            response.delete_cookie(COOKIE, path=BASE)
        return response
    if session.stage != "in" and not notice_ok:
        return redirect("/notice")
    return session


LOGIN_NOTICES = {
    "timeout": "Your session has timed out. Please sign in again.",
    "signin": "Please sign in to continue.",
}
PASSWORD_FIELDS = ("current_password", "new_password", "confirm_password")  # current, new, confirmation
PASSWORD_CHANGE_ERRORS = {
    "mismatch": "The new password and its confirmation do not match.",
    "weak": "Your new password must be at least 8 characters and different from your current password.",
    "wrong": "The current password you entered is incorrect.",
    "locked": "Your account has been locked for your protection. Call Provider Services to unlock it.",
}


def root(request: Request) -> Response:
    return redirect("/home")


def login_page(request: Request) -> Response:
    reason = request.query_params.get("reason", "")
    return render(
        request,
        "login.html",
        {
            "notice": LOGIN_NOTICES.get(reason),
            "signed_out": reason == "signedout",
            "password_changed": reason == "passwordchanged",
        },
    )


async def login_submit(request: Request) -> Response:
    form = await request.form()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    w = world(request)
    outcome = w.check_password(PORTAL, username, password)
    if outcome == "expired":  # no session until a new password is chosen
        return render(request, "password_expired.html", {"username": username, "error": None})
    if outcome != "ok":
        return render(request, "login.html", {"error": outcome})
    w.end_session(request.cookies.get(COOKIE))
    sid = w.start_session(PORTAL, username, "terms")
    response = redirect("/notice")
    response.set_cookie(COOKIE, sid, path=BASE, httponly=True, samesite="lax")
    return response


async def change_password(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username", "")).strip()
    current, new, confirm = (str(form.get(field, "")) for field in PASSWORD_FIELDS)
    outcome = world(request).change_password(PORTAL, username, current, new, confirm)
    if outcome == "changed":
        return redirect("/login?reason=passwordchanged")
    return render(request, "password_expired.html", {"username": username, "error": PASSWORD_CHANGE_ERRORS[outcome]})


def logout(request: Request) -> Response:
    world(request).end_session(request.cookies.get(COOKIE))
    response = redirect("/login?reason=signedout")
    response.delete_cookie(COOKIE, path=BASE)
    return response


def notice_page(request: Request) -> Response:
    session = signed_in(request, notice_ok=True)
    if not isinstance(session, Session):
        return session
    if session.stage == "in":
        return redirect("/home")
    return render(request, "notice.html", session=session)


def notice_accept(request: Request) -> Response:
    session = signed_in(request, notice_ok=True)
    if not isinstance(session, Session):
        return session
    with world(request).lock:
        session.stage = "in"
    return redirect("/home")


def home(request: Request) -> Response:
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    return render(request, "home.html", {"today": world(request).today()}, session=session)


def claim_search(request: Request) -> Response:
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    return render(
        request,
        "claim_search.html",
        {"filter": ClaimFilter(), "errors": [], "choices": STATUS_CHOICES},
        session=session,
    )


def claim_results(request: Request) -> Response:
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    found, errors = parse_filter(request)
    if errors:
        return render(
            request,
            "claim_search.html",
            {"filter": found, "errors": errors, "choices": STATUS_CHOICES},
            session=session,
        )
    matches = [v for v in claims_on_file(request) if found.matches(v)]
    pages = max(1, math.ceil(len(matches) / PAGE_SIZE))
    page = min(max(_int(request.query_params.get("page"), 1), 1), pages)
    shown = matches[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    version = layout(request, PORTAL)
    return render(
        request,
        "claim_results.html",
        {
            "rows": shown,
            "total": len(matches),
            "page": page,
            "pages": pages,
            "first": (page - 1) * PAGE_SIZE + 1,
            "last": (page - 1) * PAGE_SIZE + len(shown),
            "columns": RESULT_COLUMNS[version],
            "filter": found,
            "page_url": lambda n: f"{BASE}/claims/results?{found.query(page=n)}",
            "csv_url": f"{BASE}/claims/export.csv?{found.query()}",
        },
        session=session,
    )


def claims_export(request: Request) -> Response:
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    found, errors = parse_filter(request)
    if errors:
        return render(
            request,
            "claim_search.html",
            {"filter": found, "errors": errors, "choices": STATUS_CHOICES},
            session=session,
        )
    columns = CSV_COLUMNS[layout(request, PORTAL)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in columns])
    for view in claims_on_file(request):
        if found.matches(view):
            values = _csv_values(view)
            writer.writerow([values[key] for key, _ in columns])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"content-disposition": 'attachment; filename="unity-claims.csv"'},
    )


def _csv_values(view: ClaimView) -> dict[str, str]:
    claim, status = view.claim, view.status

    def amount(value: Decimal | None) -> str:
        return "" if value is None else f"{value:.2f}"

    def day(value: date | None) -> str:
        return "" if value is None else value.strftime("%m/%d/%Y")

    return {
        "claim_number": claim.payer_claim_number,
        "patient_account": claim.claim_id,
        "member_id": claim.member_id,
        "patient": claim.patient_name,
        "dos_from": day(claim.dos_from),
        "dos_to": day(claim.dos_to),
        "billed": amount(claim.billed),
        "allowed": amount(status.allowed),
        "paid": amount(status.paid),
        "patient_resp": amount(status.patient_responsibility),
        "status": view.words,
        "status_date": day(status.effective),
        "payment_number": status.check_number or "",
        "payment_date": day(status.payment_date),
    }


def claim_detail(request: Request) -> Response:
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    number = request.path_params["claim_number"]
    view = next((v for v in claims_on_file(request) if v.claim.payer_claim_number == number), None)
    if view is None:
        return render(request, "not_found.html", session=session, status_code=404)
    version = layout(request, PORTAL)
    drift = world(request).faults[PORTAL].page_drift
    lines = line_views(view)
    adjustments = adjustment_views(replace(view, status=drifted_status(drift, view.status)))
    return render(
        request,
        "claim_detail.html",
        {
            "view": view,
            "description": DESCRIPTIONS[view.words],
            "lines": lines,
            "line_table": drifted(drift, lines, request, pageable=False),
            "line_columns": LINE_COLUMNS[version],
            "adjustments": adjustments,
            "adjustment_table": drifted(drift, adjustments, request),
            "adjustment_columns": ADJUSTMENT_COLUMNS[version],
        },
        session=session,
    )


# --- prior authorizations ----------------------------------------------------

AUTH_WORDS = {
    "approved": "Approved",
    "pending": "Pending review",
    "denied": "Denied",
    "expired": "Expired",
    "cancelled": "Cancelled",
}
AUTH_NOTES = {
    "approved": "The services below are approved for the dates shown. Each visit uses one unit.",
    "pending": "A clinical reviewer is looking at this request. We will send a decision letter.",
    "denied": "This request was denied. You may request a peer-to-peer review or file an appeal.",
    "expired": "This authorization has ended. Submit a new request to continue care.",
    "cancelled": "This request was cancelled and cannot be used for claims.",
}
CODE_DESCRIPTIONS = {
    "97110": "Therapeutic exercise, each 15 minutes",
    "97112": "Neuromuscular reeducation, each 15 minutes",
    "97140": "Manual therapy techniques, each 15 minutes",
    "97530": "Therapeutic activities, each 15 minutes",
}
SERVICE_COLUMNS = {
    1: (("code", "Procedure code"), ("description", "Description")),
    2: (("description", "Description"), ("code", "Procedure code")),
}
MEMBER_AUTH_COLUMNS = {
    1: (
        ("number", "Authorization #"),
        ("status", "Status"),
        ("codes", "Procedure codes"),
        ("start", "Start date"),
        ("end", "End date"),
        ("npi", "Servicing provider NPI"),
    ),
    2: (
        ("status", "Status"),
        ("number", "Authorization #"),
        ("start", "Start date"),
        ("end", "End date"),
        ("npi", "Servicing provider NPI"),
        ("codes", "Procedure codes"),
    ),
}


@dataclass(frozen=True)
class AuthView:
    auth: Authorization
    status: str  # pending, approved, denied, cancelled or expired
    units_used: int

    @property
    def words(self) -> str:
        return AUTH_WORDS[self.status]

    @property
    def units_approved(self) -> int | None:
        return None if self.status == "pending" else self.auth.units_approved


def auths_on_file(request: Request) -> list[AuthView]:
    """Unity's authorizations requested by today, by number."""
    w = world(request)
    today = w.today()
    views = []
    for auth in w.programs.authorizations.values():
        status = auth.status_on(today)
        if auth.payer_id in PAYER_IDS and status is not None:
            views.append(AuthView(auth, status, auth.units_used_on(today)))
    return sorted(views, key=lambda v: v.auth.auth_number)


def auth_lookup(request: Request) -> Response:
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    number = request.query_params.get("auth_number", "").strip().upper()
    if not number:
        return render(request, "auth_lookup.html", session=session)
    if any(v.auth.auth_number == number for v in auths_on_file(request)):
        return redirect(f"/authorizations/{number}")
    return render(request, "auth_lookup.html", {"missing_number": number}, session=session)


def auth_detail(request: Request) -> Response:
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    number = request.path_params["auth_number"]
    view = next((v for v in auths_on_file(request) if v.auth.auth_number == number), None)
    if view is None:
        return render(request, "auth_lookup.html", {"missing_number": number}, session=session, status_code=404)
    version = layout(request, PORTAL)
    services = [(code, CODE_DESCRIPTIONS.get(code, "")) for code in view.auth.procedure_codes]
    return render(
        request,
        "auth_detail.html",
        {
            "view": view,
            "note": AUTH_NOTES[view.status],
            "services": services,
            "service_columns": SERVICE_COLUMNS[version],
        },
        session=session,
    )


async def member_auths(request: Request) -> Response:
    """Posted, so the member id stays out of URLs and server logs."""
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    member_id = str((await request.form()).get("member_id", "")).strip().upper()
    if not member_id:
        return render(request, "auth_lookup.html", {"member_error": True}, session=session)
    rows = [v for v in auths_on_file(request) if v.auth.member_id.upper() == member_id]
    return render(
        request,
        "auth_member.html",
        {
            "rows": rows,
            "member_id": member_id,
            "columns": MEMBER_AUTH_COLUMNS[layout(request, PORTAL)],
        },
        session=session,
    )


# --- provider enrollment -----------------------------------------------------

ENROLLMENT_WORDS = {"in_process": "In process", "active": "Active", "denied": "Denied", "terminated": "Terminated"}
NETWORK = "Unity Commercial PPO"
ENROLLMENT_COLUMNS = {
    1: (
        ("network", "Network"),
        ("status", "Status"),
        ("effective", "Effective date"),
        ("termination", "Termination date"),
        ("revalidation", "Revalidation due"),
        ("provider_id", "Unity provider ID"),
    ),
    2: (
        ("network", "Network"),
        ("provider_id", "Unity provider ID"),
        ("status", "Status"),
        ("revalidation", "Revalidation due"),
        ("effective", "Effective date"),
        ("termination", "Termination date"),
    ),
}


@dataclass(frozen=True)
class EnrollmentView:
    enrollment: Enrollment
    provider_name: str
    status: str

    @property
    def words(self) -> str:
        return ENROLLMENT_WORDS[self.status]

    @property
    def effective(self) -> date | None:
        return self.enrollment.effective if self.status in {"active", "terminated"} else None

    @property
    def termination(self) -> date | None:
        return self.enrollment.termination if self.status == "terminated" else None

    @property
    def revalidation_due(self) -> date | None:
        return self.enrollment.revalidation_due if self.status == "active" else None


def enrollment_for(request: Request, npi: str) -> EnrollmentView | None:
    w = world(request)
    names = {p.npi: p.name for p in w.dataset.providers}
    for payer_id in sorted(PAYER_IDS):
        enrollment = w.programs.enrollments.get((npi, payer_id))
        if enrollment is not None:
            return EnrollmentView(enrollment, names.get(npi, ""), enrollment.status_on(w.today()))
    return None


def enrollment_lookup(request: Request) -> Response:
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    return render(request, "enrollment_lookup.html", session=session)


def enrollment_status(request: Request) -> Response:
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    npi = request.query_params.get("npi", "").strip()
    view = enrollment_for(request, npi) if npi else None
    if view is None:
        return render(request, "enrollment_lookup.html", {"missing_npi": npi or None, "npi": npi}, session=session)
    return render(
        request,
        "enrollment.html",
        {
            "view": view,
            "network": NETWORK,
            "columns": ENROLLMENT_COLUMNS[layout(request, PORTAL)],
        },
        session=session,
    )


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or "")
    except ValueError:
        return default


FAULTS = {
    "maintenance": (
        503,
        "Scheduled maintenance",
        "The provider portal is down for scheduled maintenance. Please try again later.",
    ),
    "rate_limited": (
        429,
        "Too many requests",
        "We received too many requests from your organization. Please wait a few minutes and try again.",
    ),
    "error": (500, "Something went wrong", "Something went wrong on our side. Please try again."),
}


def fault_page(request: Request, kind: str) -> Response:
    status_code, title, message = FAULTS[kind]
    headers = {"retry-after": "120"} if kind in {"maintenance", "rate_limited"} else None
    return render(
        request,
        "fault.html",
        {"kind": kind, "title": title, "message": message},
        status_code=status_code,
        headers=headers,
    )


routes: list[BaseRoute] = [
    Route("/", root),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/password", change_password, methods=["POST"]),
    Route("/logout", logout),
    Route("/notice", notice_page, methods=["GET"]),
    Route("/notice", notice_accept, methods=["POST"]),
    Route("/home", home),
    Route("/claims", claim_search),
    Route("/claims/results", claim_results),
    Route("/claims/export.csv", claims_export),
    Route("/claims/detail/{claim_number}", claim_detail),
    Route("/authorizations", auth_lookup),
    Route("/authorizations/member", member_auths, methods=["POST"]),
    Route("/authorizations/{auth_number}", auth_detail),
    Route("/enrollment", enrollment_lookup),
    Route("/enrollment/status", enrollment_status),
]
