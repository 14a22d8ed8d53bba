"""Unity Health Plans' online reconsiderations and appeals: reached from a claim, its appeals list, the form
with its PDF upload, the confirmation, and each appeal's status page by confirmation number. Layout 2
renames the page ids and the field attribute and moves the list's columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fake_portal import commercial
from fake_portal.appeals import AppealWords, after_filing, claim_on_file, file_appeal, form_problems, read_form
from fake_portal.web import layout, world
from fake_portal.world import Session

PORTAL = commercial.PORTAL
PAYER_IDS = {"UHP"}
LEVEL_WORDS = {1: "Reconsideration", 2: "Appeal"}
STATUS_WORDS = {
    "received": "Received",
    "in_review": "In review",
    "overturned": "Decision made: overturned",
    "upheld": "Decision made: upheld",
}


@dataclass(frozen=True)
class AppealUi:
    form: str
    errors: str
    submit: str
    confirmation: str
    list_table: str
    no_appeals: str
    status: str
    field_attr: str


UI = {
    1: AppealUi(
        "appeal-form",
        "appeal-errors",
        "submit-appeal",
        "appeal-confirmation",
        "claim-appeals",
        "no-claim-appeals",
        "appeal-status",
        "data-field",
    ),
    2: AppealUi("apForm", "apErrors", "btnSubmitAppeal", "apConfirm", "apGrid", "noAps", "apStatus", "data-key"),
}
LIST_COLUMNS = {
    1: (
        ("confirmation", "Confirmation #"),
        ("reference", "Your reference #"),
        ("level", "Request type"),
        ("submitted", "Submitted"),
        ("status", "Status"),
    ),
    2: (
        ("status", "Status"),
        ("confirmation", "Confirmation #"),
        ("submitted", "Submitted"),
        ("level", "Request type"),
        ("reference", "Your reference #"),
    ),
}
WORDS = AppealWords(
    no_claim="Enter the claim number.",
    unknown_claim="We couldn't find this claim. Check the claim number.",
    not_final="This claim hasn't been processed yet. You can ask us to reconsider it once it has been.",
    no_level="Select whether this is a reconsideration or an appeal.",
    no_reason="Tell us why you are asking us to review this claim.",
    bad_amount="Enter the disputed amount in dollars and cents.",
    over_billed="The disputed amount can't be more than the billed amount ({billed}).",
    no_attachment="Attach your supporting documents as a PDF file.",
    not_pdf="Attachments must be PDF files.",
)


def _render(
    request: Request, name: str, session: Session, context: dict[str, object], status_code: int = 200
) -> Response:
    context = {
        "ap_ui": UI[layout(request, PORTAL)],
        "level_words": LEVEL_WORDS,
        "status_words": STATUS_WORDS,
        **context,
    }
    return commercial.render(request, name, context, session=session, status_code=status_code)


def _not_found(request: Request, session: Session) -> Response:
    return commercial.render(request, "not_found.html", session=session, status_code=404)


async def claim_appeals(request: Request) -> Response:
    """A claim's reconsiderations and appeals filed online, newest first."""
    session = commercial.signed_in(request)
    if not isinstance(session, Session):
        return session
    w = world(request)
    claim = claim_on_file(w, PAYER_IDS, request.path_params["claim_number"])
    if claim is None:
        return _not_found(request, session)
    with w.lock:
        today = w.today()
        rows = [(a, w.appeals.standing(a, today)) for a in w.appeals.for_claim(PORTAL, claim.payer_claim_number)]
    columns = LIST_COLUMNS[layout(request, PORTAL)]
    return _render(request, "appeal_list.html", session, {"claim": claim, "rows": rows, "columns": columns})


async def appeal_form(request: Request) -> Response:
    session = commercial.signed_in(request)
    if not isinstance(session, Session):
        return session
    claim = claim_on_file(world(request), PAYER_IDS, request.path_params["claim_number"])
    if claim is None:
        return _not_found(request, session)
    values = {"payer_claim_number": claim.payer_claim_number}
    return _render(request, "appeal_form.html", session, {"claim": claim, "values": values, "errors": []})


async def appeal_submit(request: Request) -> Response:
    session = commercial.signed_in(request)
    if not isinstance(session, Session):
        return session
    w = world(request)
    claim = claim_on_file(w, PAYER_IDS, request.path_params["claim_number"])
    if claim is None:
        return _not_found(request, session)
    posted = await request.form()
    form = await read_form(posted)
    errors = form_problems(w, PAYER_IDS, form, WORDS)
    typed = claim_on_file(w, PAYER_IDS, form.payer_claim_number)
    if errors or typed is None:
        values = {k: str(v) for k, v in posted.items() if isinstance(v, str)}
        return _render(request, "appeal_form.html", session, {"claim": claim, "values": values, "errors": errors})
    filed = file_appeal(w, PORTAL, typed, form)
    confirmation = _render(request, "appeal_confirmation.html", session, {"filed": filed})
    return await after_filing(request, PORTAL, confirmation, commercial.fault_page(request, "error"))


async def appeal_status(request: Request) -> Response:
    session = commercial.signed_in(request)
    if not isinstance(session, Session):
        return session
    w = world(request)
    with w.lock:
        appeal = w.appeals.find(request.path_params["confirmation_number"])
        if appeal is None or appeal.portal != PORTAL:
            return _render(request, "appeal_not_found.html", session, {}, status_code=404)
        standing = w.appeals.standing(appeal, w.today())
    return _render(request, "appeal_status.html", session, {"appeal": appeal, "standing": standing})


routes: list[BaseRoute] = [
    Route("/claims/{claim_number}/appeals", claim_appeals, methods=["GET"]),
    Route("/claims/{claim_number}/appeals/new", appeal_form, methods=["GET"]),
    Route("/claims/{claim_number}/appeals/new", appeal_submit, methods=["POST"]),
    Route("/appeals/{confirmation_number}", appeal_status, methods=["GET"]),
]
