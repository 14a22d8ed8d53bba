"""Lakeshore State Medicaid's PA REQUEST transaction (the legacy eMMIS form) and its PA REQUEST STATUS list.

Upper-case words, MM/DD/YYYY dates, the field names and ids of the vendor's two releases
(layout 2 renames them and moves the list's columns), and the portal's short idle timeout.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fake_portal import medicaid
from fake_portal.auth_requests import (
    RefusalWords,
    after_filing,
    file_request,
    filed_for,
    form_problems,
    read_attachments,
    split_codes,
)
from fake_portal.filed_requests import FiledRequest, RequestForm
from fake_portal.web import layout, world
from fake_portal.world import Session

PORTAL = medicaid.PORTAL
PAYER_ID = "LSM"
FIELD_NAMES = {  # form field -> (layout 1 name, layout 2 name)
    "recipient": ("reqRecipientId", "txtReqRecipID"),
    "dob": ("reqDateOfBirth", "txtReqDOB"),
    "npi": ("reqServicingNpi", "txtReqSvcNPI"),
    "codes": ("reqProcCodes", "txtReqProc"),
    "units": ("reqUnits", "txtReqUnits"),
    "from": ("reqFromDate", "txtReqFromDt"),
    "to": ("reqToDate", "txtReqThruDt"),
    "diagnoses": ("reqDiagCodes", "txtReqDiag"),
    "reference": ("reqProviderRef", "txtReqProvRef"),
    "attachments": ("reqAttachments", "fileReqAttach"),
    "list_recipient": ("reqListRecipientId", "txtReqListRecip"),
}
ELEMENT_IDS = {
    "form": ("paRequestForm", "frmPAReq"),
    "errors": ("paRequestErrors", "valReqSummary"),
    "submit": ("btnPARequestSubmit", "btnReqSubmit"),
    "confirmation": ("paRequestReceipt", "tblReqRcpt"),
    "pa_number": ("paRequestNumber", "lblReqPANo"),
    "provider_ref": ("paRequestProviderRef", "lblReqProvRef"),
    "list_form": ("paRequestListForm", "frmReqList"),
    "list_search": ("btnPARequestList", "btnReqList"),
    "list": ("paRequestList", "paRequestList"),
    "no_requests": ("noPARequests", "lblNoReqs"),
}
LIST_COLUMNS = {
    1: ("PA NUMBER", "PROVIDER REF #", "PROC CODES", "FROM DATE", "TO DATE", "STATUS", "SUBMIT DATE"),
    2: ("STATUS", "PA NUMBER", "SUBMIT DATE", "PROC CODES", "FROM DATE", "TO DATE", "PROVIDER REF #"),
}


def _page(request: Request, template: str, context: dict[str, object], status_code: int = 200) -> Response:
    version = layout(request, PORTAL)
    names = {k: v[version - 1] for k, v in FIELD_NAMES.items()}
    ids = {k: v[version - 1] for k, v in ELEMENT_IDS.items()}
    return medicaid._page(request, template, {"req_names": names, "req_ids": ids, **context}, status_code)


@medicaid.signed_in
async def request_form(request: Request, session: Session) -> Response:
    if request.method == "GET":
        return _page(request, "pa_request.html", {"values": {}, "errors": []})
    posted = await request.form()
    texts = {k: str(v) for k, v in posted.items() if not isinstance(v, UploadFile)}
    values = {f: medicaid._form_value(texts, f, FIELD_NAMES) for f in FIELD_NAMES if f != "attachments"}
    uploads = [v for name in FIELD_NAMES["attachments"] for v in posted.getlist(name)]
    form = RequestForm(
        member_id=values["recipient"].upper(),
        date_of_birth=medicaid._us_date(values["dob"]),
        servicing_npi=values["npi"],
        procedure_codes=split_codes(values["codes"]),
        units=int(values["units"]) if values["units"].isdigit() else None,
        start=medicaid._us_date(values["from"]),
        end=medicaid._us_date(values["to"]),
        diagnosis_codes=split_codes(values["diagnoses"]),
        provider_reference=values["reference"],
        attachments=await read_attachments(uploads),
    )
    errors = form_problems(world(request), PAYER_ID, form, WORDS)
    if errors:
        return _page(request, "pa_request.html", {"values": values, "errors": errors})
    filed = file_request(world(request), PORTAL, PAYER_ID, form)
    receipt = _page(request, "pa_request_receipt.html", {"filed": filed})
    return await after_filing(request, PORTAL, receipt, medicaid.fault_page(request, "error"))


WORDS = RefusalWords(
    no_member="RECIPIENT ID IS REQUIRED.",
    no_birth_date="DATE OF BIRTH MUST BE ENTERED AS MM/DD/YYYY.",
    unknown_member="RECIPIENT NOT FOUND. VERIFY THE RECIPIENT ID AND DATE OF BIRTH.",
    bad_npi="SERVICING PROVIDER NPI MUST BE 10 DIGITS.",
    no_codes="AT LEAST ONE PROCEDURE CODE IS REQUIRED.",
    bad_code="PROCEDURE CODE {code} IS NOT A VALID CPT/HCPCS CODE.",
    bad_units="UNITS REQUESTED MUST BE A NUMBER FROM 1 TO {max_units}.",
    no_start="FROM AND TO DATES MUST BE ENTERED AS MM/DD/YYYY.",
    no_end="FROM AND TO DATES MUST BE ENTERED AS MM/DD/YYYY.",
    end_before_start="TO DATE CANNOT BE BEFORE FROM DATE.",
    no_diagnoses="AT LEAST ONE DIAGNOSIS CODE IS REQUIRED.",
    bad_diagnosis="DIAGNOSIS CODE {code} IS NOT A VALID ICD-10-CM CODE.",
    not_pdf="ATTACHMENTS MUST BE PDF DOCUMENTS.",
)


@medicaid.signed_in
async def request_list(request: Request, session: Session) -> Response:
    if request.method == "GET":
        return _page(request, "pa_request_list.html", {"recipient": None, "errors": []})
    texts = {k: str(v) for k, v in (await request.form()).items()}
    recipient = medicaid._form_value(texts, "list_recipient", FIELD_NAMES).upper()
    if not recipient.isalnum():
        return _page(request, "pa_request_list.html", {"recipient": None, "errors": ["RECIPIENT ID IS REQUIRED."]})
    columns = LIST_COLUMNS[layout(request, PORTAL)]
    rows = [_row(filed, status, columns) for filed, status in filed_for(world(request), PORTAL, recipient)]
    return _page(
        request, "pa_request_list.html", {"recipient": recipient, "errors": [], "columns": columns, "rows": rows}
    )


def _row(filed: FiledRequest, status: str, columns: tuple[str, ...]) -> list[str]:
    form = filed.form
    cells = {
        "PA NUMBER": filed.reference,
        "PROVIDER REF #": form.provider_reference,
        "PROC CODES": " ".join(form.procedure_codes),
        "FROM DATE": form.start.strftime("%m/%d/%Y") if form.start else "",
        "TO DATE": form.end.strftime("%m/%d/%Y") if form.end else "",
        "STATUS": medicaid.PA_STATUS_WORDS[status],
        "SUBMIT DATE": filed.submitted_on.strftime("%m/%d/%Y"),
    }
    return [cells[c] for c in columns]


routes = [
    Route("/pa/request", request_form, methods=["GET", "POST"]),
    Route("/pa/requests", request_list, methods=["GET", "POST"]),
]
