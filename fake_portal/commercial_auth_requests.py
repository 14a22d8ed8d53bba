"""Unity Health Plans' online prior-authorization request: the form, its confirmation, and a member's
submitted requests. Layout 2 renames the page ids and the summary attribute and moves the list's columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fake_portal import commercial
from fake_portal.auth_requests import (
    RefusalWords,
    after_filing,
    file_request,
    filed_for,
    form_problems,
    read_attachments,
    split_codes,
)
from fake_portal.filed_requests import RequestForm
from fake_portal.web import layout, world
from fake_portal.world import Session

PORTAL = commercial.PORTAL
PAYER_ID = "UHP"


@dataclass(frozen=True)
class RequestUi:
    form: str
    errors: str
    submit: str
    confirmation: str
    list_search: str
    list_table: str
    no_requests: str
    field_attr: str


UI = {
    1: RequestUi(
        "auth-request-form",
        "request-errors",
        "submit-request",
        "request-confirmation",
        "request-list-search",
        "submitted-requests",
        "no-submitted-requests",
        "data-field",
    ),
    2: RequestUi(
        "authReqForm",
        "reqErrors",
        "btnSubmitReq",
        "reqConfirm",
        "reqListSearch",
        "submittedReqGrid",
        "noReqs",
        "data-key",
    ),
}
LIST_COLUMNS = {
    1: (
        ("reference", "Reference #"),
        ("tracking", "Your tracking #"),
        ("codes", "Procedure codes"),
        ("start", "Start date"),
        ("end", "End date"),
        ("status", "Status"),
        ("submitted", "Submitted"),
    ),
    2: (
        ("status", "Status"),
        ("reference", "Reference #"),
        ("submitted", "Submitted"),
        ("codes", "Procedure codes"),
        ("start", "Start date"),
        ("end", "End date"),
        ("tracking", "Your tracking #"),
    ),
}


def _render(
    request: Request, name: str, session: Session, context: dict[str, object], status_code: int = 200
) -> Response:
    return commercial.render(
        request, name, {"req_ui": UI[layout(request, PORTAL)], **context}, session=session, status_code=status_code
    )


def _signed_in(request: Request) -> Session | Response:
    return commercial.signed_in(request)


async def request_form(request: Request) -> Response:
    session = _signed_in(request)
    if not isinstance(session, Session):
        return session
    return _render(request, "auth_request.html", session, {"values": {}, "errors": []})


async def request_submit(request: Request) -> Response:
    session = _signed_in(request)
    if not isinstance(session, Session):
        return session
    posted = await request.form()
    values = {k: str(v) for k, v in posted.items() if not isinstance(v, UploadFile)}
    form = RequestForm(
        member_id=values.get("member_id", "").strip().upper(),
        date_of_birth=commercial._parse_us_date(values.get("date_of_birth", "")),
        servicing_npi=values.get("servicing_npi", "").strip(),
        procedure_codes=split_codes(values.get("procedure_codes", "")),
        units=_units(values.get("units", "")),
        start=commercial._parse_us_date(values.get("start_date", "")),
        end=commercial._parse_us_date(values.get("end_date", "")),
        diagnosis_codes=split_codes(values.get("diagnosis_codes", "")),
        provider_reference=values.get("provider_reference", "").strip(),
        attachments=await read_attachments(posted.getlist("attachments")),
    )
    errors = form_problems(world(request), PAYER_ID, form, WORDS)
    if errors:
        return _render(request, "auth_request.html", session, {"values": values, "errors": errors})
    filed = file_request(world(request), PORTAL, PAYER_ID, form)
    confirmation = _render(request, "auth_request_confirmation.html", session, {"filed": filed})
    return await after_filing(request, PORTAL, confirmation, commercial.fault_page(request, "error"))


def _units(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


WORDS = RefusalWords(
    no_member="Enter the member ID.",
    no_birth_date="Enter the member's date of birth as MM/DD/YYYY.",
    unknown_member="We couldn't find this member. Check the member ID and date of birth.",
    bad_npi="Enter the servicing provider's 10-digit NPI.",
    no_codes="Enter at least one procedure code.",
    bad_code="Procedure code {code} is not a valid CPT or HCPCS code.",
    bad_units="Enter the number of units requested (1 to {max_units}).",
    no_start="Enter the start date as MM/DD/YYYY.",
    no_end="Enter the end date as MM/DD/YYYY.",
    end_before_start="The end date must be on or after the start date.",
    no_diagnoses="Enter at least one diagnosis code.",
    bad_diagnosis="Diagnosis code {code} is not a valid ICD-10-CM code.",
    not_pdf="Attachment {n} is not a PDF file. Attachments must be PDF files.",
)


async def submitted_requests(request: Request) -> Response:
    """GET: the member search; POST (the member id stays out of URLs): that member's submitted requests."""
    session = _signed_in(request)
    if not isinstance(session, Session):
        return session
    if request.method == "GET":
        return _render(request, "auth_request_list.html", session, {"member_id": None, "rows": []})
    member_id = str((await request.form()).get("member_id", "")).strip().upper()
    if not member_id:
        return _render(
            request, "auth_request_list.html", session, {"member_id": None, "rows": [], "member_error": True}
        )
    rows = filed_for(world(request), PORTAL, member_id)
    return _render(
        request,
        "auth_request_list.html",
        session,
        {"member_id": member_id, "rows": rows, "columns": LIST_COLUMNS[layout(request, PORTAL)]},
    )


routes = [
    Route("/authorizations/request", request_form, methods=["GET"]),
    Route("/authorizations/request", request_submit, methods=["POST"]),
    Route("/authorizations/requests", submitted_requests, methods=["GET", "POST"]),
]
