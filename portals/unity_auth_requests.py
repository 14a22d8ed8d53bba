"""Unity Health Plans' online prior-authorization request: the form, its confirmation, a member's requests.

`UnityAuthRequests` is mixed into the Unity adapter. The form is submitted with exactly one
click: a re-login may reopen the empty form, never resend a filled one. Whatever happens after
the click other than the confirmation or the portal's refusal is raised as it is (a timeout or a
5xx as PortalUnavailable, a strange page as LayoutChanged): the caller looks before it tries again.
"""

from __future__ import annotations

import re
from typing import ClassVar

from portals.base import BLANK, PortalAdapter
from portals.capabilities import AuthRequestSubmission
from portals.errors import RequestRefused
from portals.identifiers import same_id
from portals.pages import PageObject
from portals.types import AuthRequest, AuthRequestReceipt

US_DATE = "%m/%d/%Y"
REFERENCE = re.compile(r"[A-Z0-9-]{4,24}")
PROCEDURE_CODE = re.compile(r"[A-Z0-9]{5}")
# Unity's words for a submitted request -> the normalised status.
REQUEST_STATUS_BY_WORDS: dict[str, str] = {
    "pending review": "pending",
    "approved": "approved",
    "denied": "denied",
    "cancelled": "cancelled",
    "expired": "approved",  # an approved request whose dates have passed: it was approved
}
READ_FIELDS_JS = """(box, attr) => Object.fromEntries(
  Array.from(box.querySelectorAll('[' + attr + ']'), el => [el.getAttribute(attr), el.innerText.trim()]))"""


class UnityAuthRequests(AuthRequestSubmission):
    """The Unity adapter's `AuthRequestSubmission`."""

    def find_auth_requests(self, member_id: str) -> list[AuthRequestReceipt]:
        adapter = _adapter(self)
        return adapter.with_one_relogin(lambda: RequestListPage.open(adapter).search(member_id).receipts(member_id))

    def submit_auth_request(self, request: AuthRequest) -> AuthRequestReceipt:
        adapter = _adapter(self)
        form = adapter.with_one_relogin(lambda: RequestFormPage.open(adapter))  # nothing typed yet: safe to repeat
        return form.fill(request).submit_once(request)


def _adapter(mixin: object) -> PortalAdapter:
    assert isinstance(mixin, PortalAdapter)  # mixed into UnityHealthAdapter only
    return mixin


class RequestFormPage(PageObject[PortalAdapter]):
    NAME = "prior authorization request form"
    PATH = "authorizations/request"
    LANDMARK = "form#auth-request-form"
    ERRORS = "#request-errors li"
    SUBMIT = "#submit-request"
    FIELDS: ClassVar[dict[str, str]] = {
        "member_id": "#request-member-id",
        "date_of_birth": "#request-dob",
        "servicing_npi": "#request-npi",
        "procedure_codes": "#request-codes",
        "units": "#request-units",
        "start": "#request-start",
        "end": "#request-end",
        "diagnosis_codes": "#request-diagnoses",
        "provider_reference": "#request-reference",
    }
    ATTACHMENTS = "#request-attachments"

    @classmethod
    def open(cls, adapter: PortalAdapter) -> RequestFormPage:
        return cls(adapter).visit()

    def fill(self, request: AuthRequest) -> RequestFormPage:
        typed = {
            "member_id": request.member_id,
            "date_of_birth": request.date_of_birth.strftime(US_DATE),
            "servicing_npi": request.servicing_npi,
            "procedure_codes": ", ".join(request.procedure_codes),
            "units": str(request.units),
            "start": request.start.strftime(US_DATE),
            "end": request.end.strftime(US_DATE),
            "diagnosis_codes": ", ".join(request.diagnosis_codes),
            "provider_reference": request.request_id,
        }
        for name, selector in self.FIELDS.items():
            self.required(selector, f"{name.replace('_', ' ')} field").fill(typed[name])
        if request.attachments:
            self.required(self.ATTACHMENTS, "attachments field").set_input_files(list(request.attachments))
        return self

    def submit_once(self, request: AuthRequest) -> AuthRequestReceipt:
        self.adapter.follow(self.NAME, self.required(self.SUBMIT, "'Submit request' button"))
        confirmation, errors = ConfirmationPage(self.adapter), self.find(self.ERRORS)
        self.adapter.expect_page(confirmation.NAME, confirmation.landmark().or_(errors))
        if errors.first.is_visible():
            words = " ".join(t.strip() for t in errors.all_inner_texts() if t.strip())
            raise RequestRefused(self.adapter.portal, words)
        return confirmation.read(request)


class ConfirmationPage(PageObject[PortalAdapter]):
    NAME = "prior authorization request confirmation"
    LANDMARK = "#request-confirmation"
    FIELD_ATTRIBUTE = "data-field"
    FIELDS = ("reference-number", "provider-reference", "status", "procedure-codes", "start", "end", "submitted")

    def read(self, request: AuthRequest) -> AuthRequestReceipt:
        fields = self.required(self.LANDMARK, "confirmation").evaluate(READ_FIELDS_JS, self.FIELD_ATTRIBUTE)
        missing = [f for f in self.FIELDS if f not in fields]
        if missing:
            raise self.changed(f"confirmation fields {missing} are missing")
        reference = fields["reference-number"]
        if not REFERENCE.fullmatch(reference):
            raise self.changed("the reference number is not one")
        if not same_id(fields["provider-reference"], request.request_id):
            raise self.changed("the confirmation shows another request's tracking number")
        return AuthRequestReceipt(
            reference_number=reference,
            status=self.word(REQUEST_STATUS_BY_WORDS, fields["status"], "request status"),
            procedure_codes=_codes(self, fields["procedure-codes"]),
            start=self.day(fields["start"], "start date"),
            end=self.day(fields["end"], "end date"),
            provider_reference=fields["provider-reference"],
            member_id=request.member_id,
            submitted_on=self.day(fields["submitted"], "submitted date"),
        )


class RequestListPage(PageObject[PortalAdapter]):
    """'Submitted requests': a member's requests submitted online, found by member id (posted)."""

    NAME = "submitted requests"
    PATH = "authorizations/requests"
    LANDMARK = "form#request-list-search"
    MEMBER_ID = "#requests-member-id"
    SEARCH = "#find-requests"
    TABLE = "table#submitted-requests"
    NONE = "#no-submitted-requests"
    MEMBER_ERROR = "#request-list-error"
    HEADERS: ClassVar[list[str]] = [
        "Reference #",
        "Your tracking #",
        "Procedure codes",
        "Start date",
        "End date",
        "Status",
        "Submitted",
    ]

    @classmethod
    def open(cls, adapter: PortalAdapter) -> RequestListPage:
        return cls(adapter).visit()

    def search(self, member_id: str) -> RequestListPage:
        self.required(self.MEMBER_ID, "member ID field").fill(member_id)
        self.adapter.follow(self.NAME, self.required(self.SEARCH, "'Show requests' button"))
        answered = self.find(self.TABLE).or_(self.find(self.NONE)).or_(self.find(self.MEMBER_ERROR))
        self.adapter.expect_page(self.NAME, answered)
        if self.shows(self.MEMBER_ERROR):
            raise self.changed("the portal refused the member ID form as filled in")
        return self

    def receipts(self, member_id: str) -> list[AuthRequestReceipt]:
        if self.shows(self.NONE):
            return []
        rows = self.table_rows(self.required(self.TABLE, "submitted requests table"), self.HEADERS)
        found = []
        for row in rows:
            cells = row.cells
            reference = cells["Reference #"]
            if not REFERENCE.fullmatch(reference):
                raise self.changed("a reference number is not one")
            found.append(
                AuthRequestReceipt(
                    reference_number=reference,
                    status=self.word(REQUEST_STATUS_BY_WORDS, cells["Status"], "request status"),
                    procedure_codes=_codes(self, cells["Procedure codes"]),
                    start=self.day(cells["Start date"], "start date"),
                    end=self.day(cells["End date"], "end date"),
                    provider_reference=None if cells["Your tracking #"] in BLANK else cells["Your tracking #"],
                    member_id=member_id,
                    submitted_on=self.day(cells["Submitted"], "submitted date"),
                )
            )
        return found


def _codes(page: PageObject[PortalAdapter], text: str) -> tuple[str, ...]:
    codes = tuple(c.strip() for c in re.split(r"[,\s]+", text) if c.strip())
    if not codes or not all(PROCEDURE_CODE.fullmatch(c) for c in codes):
        raise page.changed("a procedure code is not a CPT/HCPCS code")
    return codes
