"""Unity Health Plans' member eligibility and benefits lookup: a posted form (member id, date of birth,
date of service, NPI, CPT codes) and a server-rendered answer in Unity's words. Layout 2 renames the ids,
the fields' data attribute and moves the planned services' columns."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fake_portal.commercial import PAYER_IDS, PORTAL, _parse_us_date, render, signed_in
from fake_portal.eligibility import Inquiry, inquire, parse_codes, valid_npi
from fake_portal.web import layout, world
from fake_portal.world import Session

IDS = {
    1: {
        "form": "eligibility-lookup",
        "member": "elig-member-id",
        "dob": "elig-dob",
        "dos": "elig-dos",
        "npi": "elig-npi",
        "cpt": "elig-cpt",
        "submit": "check-eligibility",
        "errors": "eligibility-errors",
        "answer": "member-eligibility",
        "not_found": "member-not-found",
        "services": "planned-services",
        "benefits": "member-benefits",
    },
    2: {
        "form": "eligLookup",
        "member": "mbrId",
        "dob": "mbrDob",
        "dos": "svcDate",
        "npi": "provNpi",
        "cpt": "cptCodes",
        "submit": "checkElig",
        "errors": "eligErrors",
        "answer": "mbrElig",
        "not_found": "mbrNotFound",
        "services": "svcAuthGrid",
        "benefits": "mbrBenefits",
    },
}
SERVICE_COLUMNS = {
    1: (("code", "CPT code"), ("auth", "Prior authorization")),
    2: (("auth", "Prior authorization"), ("code", "CPT code")),
}
NETWORK_PLAN = "Unity Commercial PPO"
NOT_FOUND = {
    True: "We couldn't find this member: the date of birth doesn't match our records for this member ID.",
    False: "We couldn't find a member with this member ID. Check the ID on the member's card.",
}


def _context(request: Request, extra: dict[str, object]) -> dict[str, object]:
    return {"ids": IDS[layout(request, PORTAL)], "today": world(request).today(), "values": {}, "errors": [], **extra}


def lookup_page(request: Request) -> Response:
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    return render(request, "eligibility_lookup.html", _context(request, {}), session=session)


async def lookup_results(request: Request) -> Response:
    """Posted, so the member id and date of birth stay out of URLs and server logs."""
    session = signed_in(request)
    if not isinstance(session, Session):
        return session
    form = await request.form()
    values = {key: str(form.get(key, "")).strip() for key in ("member_id", "dob", "dos", "npi", "cpt")}
    dob, dos, codes = _parse_us_date(values["dob"]), _parse_us_date(values["dos"]), parse_codes(values["cpt"])
    errors = [
        message
        for message, bad in (
            ("Enter the member ID from the member's card.", not values["member_id"]),
            ("Enter the date of birth as MM/DD/YYYY.", dob is None),
            ("Enter the date of service as MM/DD/YYYY.", dos is None),
            ("Enter the provider's 10-digit NPI.", not valid_npi(values["npi"])),
            ("Enter up to four CPT or HCPCS codes, separated by commas.", codes is None),
        )
        if bad
    ]
    if errors or dob is None or dos is None:
        return render(
            request, "eligibility_lookup.html", _context(request, {"values": values, "errors": errors}), session=session
        )
    inquiry = Inquiry(next(iter(PAYER_IDS)), values["member_id"].upper(), dob, values["npi"], dos, codes or ())
    answer = inquire(world(request), inquiry)
    return render(
        request,
        "eligibility_result.html",
        _context(
            request,
            {
                "answer": answer,
                "coverage": answer.coverage,
                "service_date": dos,
                "not_found": None if answer.found else NOT_FOUND[answer.dob_mismatch],
                "network_plan": NETWORK_PLAN,
                "columns": SERVICE_COLUMNS[layout(request, PORTAL)],
            },
        ),
        session=session,
    )


routes: list[BaseRoute] = [
    Route("/eligibility", lookup_page, methods=["GET"]),
    Route("/eligibility/results", lookup_results, methods=["POST"]),
]
