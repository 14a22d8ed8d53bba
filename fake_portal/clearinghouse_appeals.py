"""Summit Exchange's online appeals for the payers behind it (Northwind, Bluebird): a claim's appeal history,
the appeal form with its PDF upload, the receipt, and appeal tracking by confirmation number. Layout 2
prefixes every id, renames the field attribute and moves the history's columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fake_portal import clearinghouse
from fake_portal.appeals import AppealWords, after_filing, claim_on_file, file_appeal, form_problems, read_form
from fake_portal.clearinghouse import PORTAL, SERVED_PAYERS, _render, _signed_in, _to_login, _why_not_signed_in
from fake_portal.web import layout, world

PAYER_IDS = set(SERVED_PAYERS)
LEVEL_WORDS = {1: "Level 1 - Reconsideration", 2: "Level 2 - Appeal"}
STATUS_WORDS = {
    "received": "RECEIVED",
    "in_review": "UNDER REVIEW",
    "overturned": "DECIDED - OVERTURNED",
    "upheld": "DECIDED - UPHELD",
}


@dataclass(frozen=True)
class AppealIds:
    form: str
    errors: str
    submit: str
    receipt: str
    history: str
    no_history: str
    tracking: str
    not_found: str
    field_attr: str


UI = {
    1: AppealIds(
        "appeal-request-form",
        "appeal-request-errors",
        "submit-appeal-request",
        "appeal-receipt",
        "appeal-history",
        "appeal-history-empty",
        "appeal-tracking",
        "appeal-tracking-not-found",
        "data-sx",
    ),
    2: AppealIds(
        "sx2-appeal-form",
        "sx2-appeal-errors",
        "sx2-submit",
        "sx2-receipt",
        "sx2-history",
        "sx2-history-empty",
        "sx2-tracking",
        "sx2-not-found",
        "data-item",
    ),
}
HISTORY_COLUMNS = {
    1: (
        ("confirmation", "Confirmation"),
        ("reference", "Provider Ref"),
        ("level", "Level"),
        ("submitted", "Date Submitted"),
        ("status", "Status"),
    ),
    2: (
        ("submitted", "Date Submitted"),
        ("status", "Status"),
        ("confirmation", "Confirmation"),
        ("level", "Level"),
        ("reference", "Provider Ref"),
    ),
}
WORDS = AppealWords(
    no_claim="Payer claim number is required.",
    unknown_claim="Claim not found for this payer claim number.",
    not_final="Claim has not been finalized by the payer and cannot be appealed yet.",
    no_level="Appeal level is required.",
    no_reason="Reason for appeal is required.",
    bad_amount="Disputed amount must be a dollar amount greater than 0.00.",
    over_billed="Disputed amount exceeds the billed amount of {billed}.",
    no_attachment="A PDF attachment is required.",
    not_pdf="Only PDF attachments are accepted.",
)


def _page(request: Request, name: str, user: str, context: dict[str, object], status_code: int = 200) -> Response:
    context = {
        "user": user,
        "ap": UI[layout(request, PORTAL)],
        "level_words": LEVEL_WORDS,
        "status_words": STATUS_WORDS,
        "payers": SERVED_PAYERS,
        **context,
    }
    return _render(request, name, context, status_code=status_code)


def _claim_not_found(request: Request, user: str) -> Response:
    return _render(request, "not_found.html", {"user": user}, status_code=404)


def appeal_history(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return _to_login(_why_not_signed_in(request))
    w = world(request)
    claim = claim_on_file(w, PAYER_IDS, request.path_params["payer_claim_number"])
    if claim is None:
        return _claim_not_found(request, session.username)
    with w.lock:
        today = w.today()
        rows = [(a, w.appeals.standing(a, today)) for a in w.appeals.for_claim(PORTAL, claim.payer_claim_number)]
    columns = HISTORY_COLUMNS[layout(request, PORTAL)]
    return _page(request, "appeal_history.html", session.username, {"claim": claim, "rows": rows, "columns": columns})


def appeal_form(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return _to_login(_why_not_signed_in(request))
    claim = claim_on_file(world(request), PAYER_IDS, request.path_params["payer_claim_number"])
    if claim is None:
        return _claim_not_found(request, session.username)
    values = {"payer_claim_number": claim.payer_claim_number}
    return _page(request, "appeal_form.html", session.username, {"claim": claim, "values": values, "errors": []})


async def appeal_submit(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return _to_login(_why_not_signed_in(request))
    w = world(request)
    claim = claim_on_file(w, PAYER_IDS, request.path_params["payer_claim_number"])
    if claim is None:
        return _claim_not_found(request, session.username)
    posted = await request.form()
    form = await read_form(posted)
    errors = form_problems(w, PAYER_IDS, form, WORDS)
    typed = claim_on_file(w, PAYER_IDS, form.payer_claim_number)
    if errors or typed is None:
        values = {k: str(v) for k, v in posted.items() if isinstance(v, str)}
        context = {"claim": claim, "values": values, "errors": errors}
        return _page(request, "appeal_form.html", session.username, context)
    filed = file_appeal(w, PORTAL, typed, form)
    receipt = _page(request, "appeal_receipt.html", session.username, {"filed": filed, "claim": typed})
    return await after_filing(request, PORTAL, receipt, clearinghouse.fault_page(request, "error"))


def appeal_tracking(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return _to_login(_why_not_signed_in(request))
    w = world(request)
    with w.lock:
        appeal = w.appeals.find(request.path_params["confirmation_number"])
        if appeal is None or appeal.portal != PORTAL:
            return _page(request, "appeal_not_found.html", session.username, {}, status_code=404)
        standing = w.appeals.standing(appeal, w.today())
    return _page(request, "appeal_tracking.html", session.username, {"appeal": appeal, "standing": standing})


routes: list[BaseRoute] = [
    Route("/claims/{payer_claim_number}/appeals", appeal_history, methods=["GET"]),
    Route("/claims/{payer_claim_number}/appeals/new", appeal_form, methods=["GET"]),
    Route("/claims/{payer_claim_number}/appeals/new", appeal_submit, methods=["POST"]),
    Route("/appeals/{confirmation_number}", appeal_tracking, methods=["GET"]),
]
