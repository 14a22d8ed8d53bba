"""Lakeshore State Medicaid's recipient eligibility verification, in the legacy MMIS style: a posted form
(recipient id, date of birth as MM/DD/YYYY, date of service, NPI, up to four procedure codes) answered by
an upper-case detail table and a service grid. Layout 2 (the vendor's next release) renames the field
names and ids and moves the grid's columns."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fake_portal.eligibility import MAX_CODES, Inquiry, inquire, parse_codes, valid_npi
from fake_portal.medicaid import PAYER_IDS, PORTAL, _form_value, _page, _us_date, signed_in
from fake_portal.web import layout, world
from fake_portal.world import Session

FIELD_NAMES = {  # field -> (layout 1 name, layout 2 name)
    "recipient": ("eligRecipientId", "txtEligRecipID"),
    "dob": ("eligDob", "txtRecipDOB"),
    "dos": ("eligDos", "txtEligDOS"),
    "npi": ("eligNpi", "txtEligProvNPI"),
    **{f"proc{n}": (f"eligProc{n}", f"txtProcCd{n}") for n in range(1, MAX_CODES + 1)},
}
ELEMENT_IDS = {
    "form": ("eligInquiryForm", "frmEligInq"),
    "search": ("btnEligSearch", "btnEligSubmit"),
    "errors": ("eligErrors", "valEligSummary"),
    "response": ("eligResponse", "tblEligRsp"),
    "not_found": ("eligNotFound", "lblRecipNotFound"),
    "recipient": ("eligRecipientId", "lblCurRecipID"),
    "status": ("eligStatus", "lblEligStat"),
    "program": ("eligProgram", "lblPgmDesc"),
    "from": ("eligFromDate", "lblEligEffDt"),
    "thru": ("eligThruDate", "lblEligEndDt"),
    "new_payer": ("eligOtherPayer", "lblXferPlan"),
    "tpl": ("eligTpl", "lblTPL"),
    "network": ("eligParticipation", "lblProvPart"),
    "deductible": ("eligDeductible", "lblDedAmt"),
    "deductible_met": ("eligDeductibleMet", "lblDedMet"),
    "coinsurance": ("eligCoinsurance", "lblCoinsPct"),
    "copay": ("eligCopay", "lblCopayAmt"),
    "services": ("eligServices", "eligServices"),
}
SERVICE_COLUMNS = {1: ("PROC", "PA REQUIRED"), 2: ("PA REQUIRED", "PROC")}
NOT_FOUND = {
    True: "RECIPIENT NOT FOUND - DATE OF BIRTH DOES NOT MATCH RECIPIENT FILE.",
    False: "RECIPIENT NOT FOUND - RECIPIENT ID IS NOT ON FILE.",
}


def _names(request: Request) -> dict[str, str]:
    return {k: v[layout(request, PORTAL) - 1] for k, v in FIELD_NAMES.items()}


def _show(request: Request, template: str, context: dict[str, object]) -> Response:
    version = layout(request, PORTAL)
    ids = {k: v[version - 1] for k, v in ELEMENT_IDS.items()}
    return _page(request, template, {"eids": ids, "enames": _names(request), "codes": MAX_CODES, **context})


@signed_in
async def eligibility_inquiry(request: Request, session: Session) -> Response:
    if request.method == "GET":
        return _show(request, "eligibility_inquiry.html", {"values": {}, "errors": []})
    form = {k: str(v) for k, v in (await request.form()).items()}
    values = {field: _form_value(form, field, FIELD_NAMES) for field in FIELD_NAMES}
    dob, dos = _us_date(values["dob"]), _us_date(values["dos"])
    codes = parse_codes(" ".join(values[f"proc{n}"] for n in range(1, MAX_CODES + 1)))
    errors = [
        message
        for message, bad in (
            ("RECIPIENT ID IS REQUIRED.", not values["recipient"].isalnum()),
            ("DATE OF BIRTH MUST BE MM/DD/CCYY.", dob is None),
            ("DATE OF SERVICE MUST BE MM/DD/CCYY.", dos is None),
            ("PROVIDER NPI MUST BE 10 DIGITS.", not valid_npi(values["npi"])),
            ("PROCEDURE CODE IS INVALID.", codes is None),
        )
        if bad
    ]
    if errors or dob is None or dos is None:
        return _show(request, "eligibility_inquiry.html", {"values": values, "errors": errors})
    inquiry = Inquiry(next(iter(PAYER_IDS)), values["recipient"].upper(), dob, values["npi"], dos, codes or ())
    answer = inquire(world(request), inquiry)
    columns = SERVICE_COLUMNS[layout(request, PORTAL)]
    services = [{"PROC": code, "PA REQUIRED": "Y" if needed else "N"} for code, needed in answer.codes]
    return _show(
        request,
        "eligibility_response.html",
        {
            "answer": answer,
            "coverage": answer.coverage,
            "service_date": dos,
            "not_found": None if answer.found else NOT_FOUND[answer.dob_mismatch],
            "columns": columns,
            "services": [[row[c] for c in columns] for row in services],
        },
    )


routes: list[BaseRoute] = [Route("/eligibility/inquiry", eligibility_inquiry, methods=["GET", "POST"])]
