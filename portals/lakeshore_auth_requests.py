"""Lakeshore State Medicaid's PA REQUEST transaction, its receipt, and the PA REQUEST STATUS list.

`LakeshoreAuthRequests` is mixed into the Lakeshore adapter. The portal's short idle timeout
makes a re-login likely: it may reopen the empty form, never resend a filled one. After the one
click, anything but the receipt or the portal's edit messages is raised as it is, for the
caller to look before it ever submits again.
"""

from __future__ import annotations

import re
from typing import ClassVar

from portals.base import BLANK, PortalAdapter
from portals.capabilities import AuthRequestSubmission
from portals.errors import RequestRefused
from portals.identifiers import same_id
from portals.lakeshore_claims import TitledPage
from portals.types import AuthRequest, AuthRequestReceipt
from portals.unity_auth_requests import REFERENCE

US_DATE = "%m/%d/%Y"
PROCEDURE_CODE = re.compile(r"[A-Z0-9]{5}")
REQUEST_STATUSES = {  # the portal's capitals -> the normalised status
    "pended": "pending",
    "approved": "approved",
    "denied": "denied",
    "cancelled": "cancelled",
    "expired": "approved",  # approved, and its dates have passed
}


class LakeshoreAuthRequests(AuthRequestSubmission):
    """The Lakeshore adapter's `AuthRequestSubmission`."""

    def find_auth_requests(self, member_id: str) -> list[AuthRequestReceipt]:
        adapter = _adapter(self)
        return adapter.with_one_relogin(lambda: RequestStatusPage(adapter).open().search(member_id).receipts(member_id))

    def submit_auth_request(self, request: AuthRequest) -> AuthRequestReceipt:
        adapter = _adapter(self)
        form = adapter.with_one_relogin(lambda: RequestFormPage(adapter).open())  # nothing typed yet: safe to repeat
        return form.fill(request).submit_once(request)


def _adapter(mixin: object) -> PortalAdapter:
    assert isinstance(mixin, PortalAdapter)  # mixed into LakeshoreMedicaidAdapter only
    return mixin


class RequestFormPage(TitledPage):
    NAME = "prior authorization request"
    PATH = "pa/request"
    TITLE = "PRIOR AUTHORIZATION REQUEST (LSM-PA-01 ONLINE)"
    FORM = "form#paRequestForm"
    ERRORS = "#paRequestErrors li"
    SUBMIT = "#btnPARequestSubmit"
    FIELDS: ClassVar[dict[str, str]] = {
        "recipient id": "#reqRecipientId",
        "date of birth": "#reqDateOfBirth",
        "servicing NPI": "#reqServicingNpi",
        "procedure codes": "#reqProcCodes",
        "units": "#reqUnits",
        "from date": "#reqFromDate",
        "to date": "#reqToDate",
        "diagnosis codes": "#reqDiagCodes",
        "provider reference": "#reqProviderRef",
    }
    ATTACHMENTS = "#reqAttachments"

    def open(self) -> RequestFormPage:
        self.visit().required(self.FORM, "PA request form")
        return self

    def fill(self, request: AuthRequest) -> RequestFormPage:
        typed = {
            "recipient id": request.member_id,
            "date of birth": request.date_of_birth.strftime(US_DATE),
            "servicing NPI": request.servicing_npi,
            "procedure codes": " ".join(request.procedure_codes),
            "units": str(request.units),
            "from date": request.start.strftime(US_DATE),
            "to date": request.end.strftime(US_DATE),
            "diagnosis codes": " ".join(request.diagnosis_codes),
            "provider reference": request.request_id,
        }
        for what, selector in self.FIELDS.items():
            self.required(selector, f"{what} field").fill(typed[what])
        if request.attachments:
            self.required(self.ATTACHMENTS, "supporting documents field").set_input_files(list(request.attachments))
        return self

    def submit_once(self, request: AuthRequest) -> AuthRequestReceipt:
        self.adapter.follow(self.NAME, self.required(self.SUBMIT, "SUBMIT REQUEST button"))
        receipt, errors = ReceiptPage(self.adapter), self.find(self.ERRORS)
        self.adapter.expect_page(receipt.NAME, receipt.landmark().or_(errors))
        if errors.first.is_visible():
            words = " ".join(t.strip() for t in errors.all_inner_texts() if t.strip())
            raise RequestRefused(self.adapter.portal, words)
        return receipt.read(request)


class ReceiptPage(TitledPage):
    NAME = "prior authorization request receipt"
    TITLE = "PRIOR AUTHORIZATION REQUEST RECEIVED"
    RECEIPT = "table#paRequestReceipt"
    PA_NUMBER = "#paRequestNumber"
    PROVIDER_REF = "#paRequestProviderRef"

    def read(self, request: AuthRequest) -> AuthRequestReceipt:
        self.required(self.RECEIPT, "request receipt")
        reference = self.text(self.PA_NUMBER, "PA number")
        if not REFERENCE.fullmatch(reference):
            raise self.changed("the PA number is not one")
        if not same_id(self.text(self.PROVIDER_REF, "provider reference"), request.request_id):
            raise self.changed("the receipt shows another request's provider reference")
        return AuthRequestReceipt(
            reference_number=reference,
            status="pending",
            procedure_codes=request.procedure_codes,
            start=request.start,
            end=request.end,
            provider_reference=request.request_id,
            member_id=request.member_id,
        )


class RequestStatusPage(TitledPage):
    NAME = "PA request status"
    PATH = "pa/requests"
    TITLE = "PA REQUEST STATUS"
    FORM = "form#paRequestListForm"
    RECIPIENT_ID = "#reqListRecipientId"
    SEARCH = "#btnPARequestList"
    TABLE = "table#paRequestList"
    NONE = "#noPARequests"
    COLUMNS: ClassVar[list[str]] = [
        "PA NUMBER",
        "PROVIDER REF #",
        "PROC CODES",
        "FROM DATE",
        "TO DATE",
        "STATUS",
        "SUBMIT DATE",
    ]

    def open(self) -> RequestStatusPage:
        self.visit().required(self.FORM, "PA request status form")
        return self

    def search(self, member_id: str) -> RequestStatusPage:
        self.required(self.RECIPIENT_ID, "recipient id field").fill(member_id)
        self.adapter.follow(self.NAME, self.required(self.SEARCH, "search button"))
        self.adapter.expect_page(self.NAME, self.find(self.TABLE).or_(self.find(self.NONE)))
        return self

    def receipts(self, member_id: str) -> list[AuthRequestReceipt]:
        if self.shows(self.NONE):
            return []
        found = []
        for row in self.table_rows(self.required(self.TABLE, "PA request table"), self.COLUMNS):
            cells = row.cells
            reference = cells["PA NUMBER"]
            if not REFERENCE.fullmatch(reference):
                raise self.changed("a PA number is not one")
            codes = tuple(cells["PROC CODES"].split())
            if not codes or not all(PROCEDURE_CODE.fullmatch(c) for c in codes):
                raise self.changed("a procedure code is not a CPT/HCPCS code")
            found.append(
                AuthRequestReceipt(
                    reference_number=reference,
                    status=self.word(REQUEST_STATUSES, cells["STATUS"], "request status"),
                    procedure_codes=codes,
                    start=self.day(cells["FROM DATE"], "from date"),
                    end=self.day(cells["TO DATE"], "to date"),
                    provider_reference=None if cells["PROVIDER REF #"] in BLANK else cells["PROVIDER REF #"],
                    member_id=member_id,
                    submitted_on=self.day(cells["SUBMIT DATE"], "submit date"),
                )
            )
        return found
