"""Summit Exchange's Eligibility & Benefits: a form with a payer picker whose answer (a 271, as JSON) the
browser's JavaScript renders, like the claim status search. Layout 2 renames every id and moves the
benefit and procedure columns."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from fake_portal.clearinghouse import PORTAL, SERVED_PAYERS, _render, _signed_in, _to_login, _why_not_signed_in
from fake_portal.eligibility import Answer, Inquiry, inquire, parse_codes, valid_npi
from fake_portal.web import layout, world

# The response's element ids in layout 1; layout 2 prefixes each (the JavaScript reads the prefix).
ID_PREFIX = {1: "", 2: "sx-"}
BENEFIT_COLUMNS = {1: ("benefit", "amount"), 2: ("amount", "benefit")}
PROCEDURE_COLUMNS = {1: ("code", "auth"), 2: ("auth", "code")}
SERVICE_TYPES = (
    ("30", "30 - Health Benefit Plan Coverage"),
    ("98", "98 - Professional (Physician) Visit - Office"),
    ("PT", "PT - Physical Therapy"),
)
NOT_FOUND = {
    "dob": "Subscriber not found (AAA 71): the patient's birth date does not match that for the patient on the "
    "payer's database.",
    "member": "Subscriber not found (AAA 75): no subscriber with this member ID.",
}


def eligibility_page(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return _to_login(_why_not_signed_in(request))
    version = layout(request, PORTAL)
    return _render(
        request,
        "eligibility.html",
        {
            "user": session.username,
            "payers": SERVED_PAYERS.values(),
            "service_types": SERVICE_TYPES,
            "today": world(request).today(),
            "id_prefix": ID_PREFIX[version],
            "benefit_columns": BENEFIT_COLUMNS[version],
            "procedure_columns": PROCEDURE_COLUMNS[version],
        },
    )


async def api_inquiry(request: Request) -> Response:
    """Posted as JSON, so member ids and birth dates stay out of URLs and server logs."""
    if _signed_in(request) is None:
        return JSONResponse({"error": "session_expired", "message": "Your session has expired."}, status_code=401)
    try:
        body = await request.json()
        inquiry = Inquiry(
            payer_id=str(body["payerId"]),
            member_id=str(body["memberId"]).strip().upper(),
            date_of_birth=date.fromisoformat(str(body["dateOfBirth"])),
            npi=str(body["providerNpi"]).strip(),
            service_date=date.fromisoformat(str(body["serviceDate"])),
            codes=parse_codes(str(body.get("procedureCodes", ""))) or (),
        )
    except (KeyError, ValueError, TypeError):
        return _invalid("Payer, member ID, date of birth, date of service and NPI are required.")
    if inquiry.payer_id not in SERVED_PAYERS or not inquiry.member_id or not valid_npi(inquiry.npi):
        return _invalid("Check the payer, the member ID and the 10-digit NPI.")
    if parse_codes(str(body.get("procedureCodes", ""))) is None:
        return _invalid("Enter up to four 5-character procedure codes.")
    return JSONResponse(_as_271(inquire(world(request), inquiry)))


def _invalid(message: str) -> Response:
    return JSONResponse({"error": "invalid_request", "message": message}, status_code=400)


def _as_271(answer: Answer) -> dict[str, object]:
    payer = {"id": answer.payer.id, "name": answer.payer.name}
    coverage = answer.coverage
    if coverage is None or answer.dob_mismatch:
        return {"found": False, "payer": payer, "message": NOT_FOUND["dob" if answer.dob_mismatch else "member"]}
    benefits = None
    if answer.active:
        benefits = {
            "deductible": f"{coverage.deductible:.2f}",
            "deductibleMet": f"{coverage.deductible_met:.2f}",
            "coinsurance": f"{coverage.coinsurance_percent}",
            "copay": f"{coverage.copay:.2f}",
        }
    moved = coverage.moved_to
    return {
        "found": True,
        "payer": payer,
        "status": "Active Coverage" if answer.active else "Inactive",
        "plan": coverage.plan_name,
        "memberId": coverage.member_id,
        "memberIdChanged": answer.member_id_changed,
        "coverageBegin": coverage.start.isoformat(),
        "coverageEnd": answer.end.isoformat() if answer.end else None,
        "movedTo": {"id": moved.id, "name": moved.name} if moved else None,
        "otherPrimary": coverage.other_primary.name if coverage.other_primary else None,
        "inNetwork": answer.in_network,
        "procedures": [{"code": code, "authRequired": needed} for code, needed in answer.codes],
        "benefits": benefits,
    }


routes: list[BaseRoute] = [
    Route("/eligibility", eligibility_page),
    Route("/api/eligibility/inquiry", api_inquiry, methods=["POST"]),
]
