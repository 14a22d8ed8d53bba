"""Unity Health Plans' online reconsiderations and appeals: a claim's appeals, the form, each appeal's status.

`UnityAppeals` is mixed into the Unity adapter. The form is submitted with exactly one click, as the
prior-authorization form is (see portals/unity_auth_requests.py): anything after the click other than
the confirmation or the portal's refusal is raised as it is, and the caller looks before it tries
again. After a filing the browser stays on the confirmation page, for the caller's evidence.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar
from urllib.parse import quote

from portals.appeal_reading import CLAIM_NUMBER, CONFIRMATION, DECIDED, READ_FIELDS_JS, require_packet
from portals.base import BLANK, PortalAdapter
from portals.capabilities import AppealSubmission
from portals.errors import ClaimNotFound, RequestRefused
from portals.identifiers import same_id
from portals.pages import PageObject
from portals.types import AppealFiling, AppealReceipt

LEVEL_BY_WORDS: dict[str, int] = {"reconsideration": 1, "appeal": 2}
STATUS_BY_WORDS: dict[str, str] = {
    "received": "received",
    "in review": "in_review",
    "decision made: overturned": "overturned",
    "decision made: upheld": "upheld",
}


class UnityAppeals(AppealSubmission):
    """The Unity adapter's `AppealSubmission`."""

    def find_appeals(self, payer_id: str, payer_claim_number: str) -> list[AppealReceipt]:
        adapter = _adapter(self)
        return adapter.with_one_relogin(lambda: AppealListPage.open(adapter, payer_claim_number).receipts())

    def submit_appeal(self, filing: AppealFiling) -> AppealReceipt:
        adapter = _adapter(self)
        if filing.level not in LEVEL_BY_WORDS.values():
            raise RequestRefused(
                adapter.portal,
                f"Unity takes reconsiderations (level 1) and appeals (level 2) online, not level {filing.level}",
            )
        require_packet(filing)
        form = adapter.with_one_relogin(lambda: AppealFormPage.open(adapter, filing.payer_claim_number))
        return form.fill(filing).submit_once(filing)

    def appeal_status(self, payer_id: str, confirmation_number: str) -> AppealReceipt:
        adapter = _adapter(self)
        return adapter.with_one_relogin(lambda: AppealStatusPage.open(adapter, confirmation_number).read())


def _adapter(mixin: object) -> PortalAdapter:
    assert isinstance(mixin, PortalAdapter)  # mixed into UnityHealthAdapter only
    return mixin


def _claim_path(adapter: PortalAdapter, payer_claim_number: str, page: str) -> str:
    if not CLAIM_NUMBER.fullmatch(payer_claim_number):
        raise ClaimNotFound(adapter.portal, payer_claim_number)
    return f"claims/{quote(payer_claim_number)}/{page}"


CLAIM_NOT_FOUND = "#claim-not-found"


class AppealListPage(PageObject[PortalAdapter]):
    """'Reconsiderations and appeals' for one claim, reached by its claim number."""

    NAME = "claim appeals"
    TABLE = "table#claim-appeals"
    NONE = "#no-claim-appeals"
    HEADERS: ClassVar[list[str]] = ["Confirmation #", "Your reference #", "Request type", "Submitted", "Status"]

    def __init__(self, adapter: PortalAdapter, payer_claim_number: str) -> None:
        super().__init__(adapter)
        self.payer_claim_number = payer_claim_number

    @classmethod
    def open(cls, adapter: PortalAdapter, payer_claim_number: str) -> AppealListPage:
        page = cls(adapter, payer_claim_number)
        adapter.goto(_claim_path(adapter, payer_claim_number, "appeals"))
        not_found = page.find(CLAIM_NOT_FOUND)
        adapter.expect_page(cls.NAME, page.find(cls.TABLE).or_(page.find(cls.NONE)).or_(not_found))
        if page.shows(CLAIM_NOT_FOUND):
            raise ClaimNotFound(adapter.portal, payer_claim_number)
        return page

    def receipts(self) -> list[AppealReceipt]:
        if self.shows(self.NONE):
            return []
        found = []
        for row in self.table_rows(self.required(self.TABLE, "appeals table"), self.HEADERS):
            cells = row.cells
            found.append(
                AppealReceipt(
                    confirmation_number=_confirmation(self, cells["Confirmation #"]),
                    status=self.word(STATUS_BY_WORDS, cells["Status"], "appeal status"),
                    payer_claim_number=self.payer_claim_number,
                    provider_reference=None if cells["Your reference #"] in BLANK else cells["Your reference #"],
                    level=self.word(LEVEL_BY_WORDS, cells["Request type"], "request type"),
                    submitted_on=self.day(cells["Submitted"], "submitted date"),
                )
            )
        return found


class AppealFormPage(PageObject[PortalAdapter]):
    NAME = "reconsideration or appeal form"
    LANDMARK = "form#appeal-form"
    ERRORS = "#appeal-errors li"
    SUBMIT = "#submit-appeal"
    CLAIM_NUMBER = "#appeal-claim-number"
    REFERENCE = "#appeal-reference"
    LEVEL = "select#appeal-level"
    AMOUNT = "#appeal-amount"
    REASON = "#appeal-reason"
    ATTACHMENTS = "#appeal-attachments"

    @classmethod
    def open(cls, adapter: PortalAdapter, payer_claim_number: str) -> AppealFormPage:
        page = cls(adapter)
        adapter.goto(_claim_path(adapter, payer_claim_number, "appeals/new"))
        adapter.expect_page(cls.NAME, page.landmark().or_(page.find(CLAIM_NOT_FOUND)))
        if page.shows(CLAIM_NOT_FOUND):
            raise ClaimNotFound(adapter.portal, payer_claim_number)
        return page

    def fill(self, filing: AppealFiling) -> AppealFormPage:
        self.required(self.CLAIM_NUMBER, "claim number field").fill(filing.payer_claim_number)
        self.required(self.REFERENCE, "provider reference field").fill(filing.appeal_id)
        self.required(self.LEVEL, "request type field").select_option(value=str(filing.level))
        self.required(self.AMOUNT, "disputed amount field").fill(f"{filing.disputed_amount:.2f}")
        self.required(self.REASON, "reason field").fill(filing.reason)
        self.required(self.ATTACHMENTS, "attachments field").set_input_files([filing.packet_pdf])
        return self

    def submit_once(self, filing: AppealFiling) -> AppealReceipt:
        self.adapter.follow(self.NAME, self.required(self.SUBMIT, "'Submit request' button"))
        confirmation, errors = ConfirmationPage(self.adapter), self.find(self.ERRORS)
        self.adapter.expect_page(confirmation.NAME, confirmation.landmark().or_(errors))
        if errors.first.is_visible():
            words = " ".join(t.strip() for t in errors.all_inner_texts() if t.strip())
            raise RequestRefused(self.adapter.portal, words)
        return confirmation.read(filing)


def _fields(page: PageObject[PortalAdapter], box: str, names: tuple[str, ...]) -> dict[str, str]:
    fields: dict[str, str] = page.required(box, page.NAME).evaluate(READ_FIELDS_JS, "data-field")
    missing = [f for f in names if f not in fields]
    if missing:
        raise page.changed(f"fields {missing} are missing")
    return fields


def _confirmation(page: PageObject[PortalAdapter], text: str) -> str:
    if not CONFIRMATION.fullmatch(text):
        raise page.changed("a confirmation number is not one")
    return text


class ConfirmationPage(PageObject[PortalAdapter]):
    NAME = "reconsideration or appeal confirmation"
    LANDMARK = "#appeal-confirmation"
    FIELDS = ("confirmation-number", "provider-reference", "claim-number", "level", "submitted", "status")

    def read(self, filing: AppealFiling) -> AppealReceipt:
        fields = _fields(self, self.LANDMARK, self.FIELDS)
        if not same_id(fields["provider-reference"], filing.appeal_id):
            raise self.changed("the confirmation shows another appeal's tracking number")
        if not same_id(fields["claim-number"], filing.payer_claim_number):
            raise self.changed("the confirmation shows another claim")
        return AppealReceipt(
            confirmation_number=_confirmation(self, fields["confirmation-number"]),
            status=self.word(STATUS_BY_WORDS, fields["status"], "appeal status"),
            payer_claim_number=fields["claim-number"],
            provider_reference=fields["provider-reference"],
            level=self.word(LEVEL_BY_WORDS, fields["level"], "request type"),
            submitted_on=self.day(fields["submitted"], "submitted date"),
        )


class AppealStatusPage(PageObject[PortalAdapter]):
    NAME = "reconsideration or appeal status"
    LANDMARK = "#appeal-status"
    NOT_FOUND = "#appeal-not-found"
    FIELDS = (
        "confirmation-number",
        "provider-reference",
        "claim-number",
        "level",
        "submitted",
        "status",
        "decided",
        "amount",
        "decision",
    )

    def __init__(self, adapter: PortalAdapter, confirmation_number: str) -> None:
        super().__init__(adapter)
        self.confirmation_number = confirmation_number

    @classmethod
    def open(cls, adapter: PortalAdapter, confirmation_number: str) -> AppealStatusPage:
        if not CONFIRMATION.fullmatch(confirmation_number):
            raise ClaimNotFound(adapter.portal, confirmation_number)
        page = cls(adapter, confirmation_number)
        adapter.goto(f"appeals/{quote(confirmation_number)}")
        adapter.expect_page(cls.NAME, page.landmark().or_(page.find(cls.NOT_FOUND)))
        if page.shows(cls.NOT_FOUND):
            raise ClaimNotFound(adapter.portal, confirmation_number)
        return page

    def read(self) -> AppealReceipt:
        fields = _fields(self, self.LANDMARK, self.FIELDS)
        if not same_id(fields["confirmation-number"], self.confirmation_number):
            raise self.changed("the page shows another appeal")
        status = self.word(STATUS_BY_WORDS, fields["status"], "appeal status")
        decided_on = self.day(fields["decided"], "decision date")
        amount: Decimal | None = self.money(fields["amount"], "amount to be paid")
        if (status in DECIDED) != (decided_on is not None) or (status == "overturned") != (amount is not None):
            raise self.changed("the decision, its date and its amount do not agree")
        return AppealReceipt(
            confirmation_number=fields["confirmation-number"],
            status=status,
            payer_claim_number=fields["claim-number"],
            provider_reference=None if fields["provider-reference"] in BLANK else fields["provider-reference"],
            level=self.word(LEVEL_BY_WORDS, fields["level"], "request type"),
            submitted_on=self.day(fields["submitted"], "submitted date"),
            decided_on=decided_on,
            amount_overturned=amount,
            decision_words=None if fields["decision"] in BLANK else fields["decision"],
        )
