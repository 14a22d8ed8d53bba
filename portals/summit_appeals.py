"""Summit Exchange's online appeals for the payers behind it: a claim's appeal history, the appeal form,
the receipt, appeal tracking.

`SummitAppeals` is mixed into the Summit adapter. The same rules as Unity's form
(portals/unity_appeals.py): one click, the portal's refusal raised with its words, anything else after
the click raised as it is for the caller to look before it tries again, and the browser left on the
receipt for the caller's evidence.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import quote

from playwright.sync_api import Locator

from portals.appeal_reading import CLAIM_NUMBER, CONFIRMATION, DECIDED, READ_FIELDS_JS, require_packet
from portals.base import BLANK, PortalAdapter
from portals.capabilities import AppealSubmission
from portals.errors import ClaimNotFound, RequestRefused
from portals.identifiers import same_id
from portals.pages import PageObject
from portals.types import AppealFiling, AppealReceipt

LEVEL_BY_WORDS: dict[str, int] = {"level 1 - reconsideration": 1, "level 2 - appeal": 2}
STATUS_BY_WORDS: dict[str, str] = {
    "received": "received",
    "under review": "in_review",
    "decided - overturned": "overturned",
    "decided - upheld": "upheld",
}
FIELD_ATTRIBUTE = "data-sx"
CLAIM_NOT_FOUND = 'h1:text-is("Claim not found")'


class SummitAppeals(AppealSubmission):
    """The Summit adapter's `AppealSubmission`."""

    def find_appeals(self, payer_id: str, payer_claim_number: str) -> list[AppealReceipt]:
        adapter = _adapter(self)
        return adapter.with_one_relogin(lambda: AppealHistoryPage.open(adapter, payer_claim_number).receipts())

    def submit_appeal(self, filing: AppealFiling) -> AppealReceipt:
        adapter = _adapter(self)
        if filing.level not in LEVEL_BY_WORDS.values():
            raise RequestRefused(
                adapter.portal,
                f"Summit Exchange files level 1 and level 2 appeals online, not level {filing.level}",
            )
        require_packet(filing)
        form = adapter.with_one_relogin(lambda: AppealFormPage.open(adapter, filing.payer_claim_number))
        return form.fill(filing).submit_once(filing)

    def appeal_status(self, payer_id: str, confirmation_number: str) -> AppealReceipt:
        adapter = _adapter(self)
        return adapter.with_one_relogin(lambda: AppealTrackingPage.open(adapter, confirmation_number).read(payer_id))


def _adapter(mixin: object) -> PortalAdapter:
    assert isinstance(mixin, PortalAdapter)  # mixed into SummitExchangeAdapter only
    return mixin


def _open_for_claim(page: PageObject[PortalAdapter], payer_claim_number: str, path: str, fingerprint: Locator) -> None:
    """Go to one claim's appeal page; the portal's 'Claim not found' is ClaimNotFound."""
    if not CLAIM_NUMBER.fullmatch(payer_claim_number):
        raise ClaimNotFound(page.adapter.portal, payer_claim_number)
    page.adapter.goto(f"claims/{quote(payer_claim_number)}/{path}")
    page.adapter.expect_page(page.NAME, fingerprint.or_(page.find(CLAIM_NOT_FOUND)))
    if page.shows(CLAIM_NOT_FOUND):
        raise ClaimNotFound(page.adapter.portal, payer_claim_number)


def _fields(page: PageObject[PortalAdapter], box: str, names: tuple[str, ...]) -> dict[str, str]:
    fields: dict[str, str] = page.required(box, page.NAME).evaluate(READ_FIELDS_JS, FIELD_ATTRIBUTE)
    missing = [f for f in names if f not in fields]
    if missing:
        raise page.changed(f"fields {missing} are missing")
    return fields


def _confirmation(page: PageObject[PortalAdapter], text: str) -> str:
    if not CONFIRMATION.fullmatch(text):
        raise page.changed("a confirmation number is not one")
    return text


class AppealHistoryPage(PageObject[PortalAdapter]):
    """'Appeals' for one claim, reached by its payer claim number."""

    NAME = "claim appeal history"
    TABLE = "table#appeal-history"
    NONE = "#appeal-history-empty"
    HEADERS: ClassVar[list[str]] = ["Confirmation", "Provider Ref", "Level", "Date Submitted", "Status"]

    def __init__(self, adapter: PortalAdapter, payer_claim_number: str) -> None:
        super().__init__(adapter)
        self.payer_claim_number = payer_claim_number

    @classmethod
    def open(cls, adapter: PortalAdapter, payer_claim_number: str) -> AppealHistoryPage:
        page = cls(adapter, payer_claim_number)
        _open_for_claim(page, payer_claim_number, "appeals", page.find(cls.TABLE).or_(page.find(cls.NONE)))
        return page

    def receipts(self) -> list[AppealReceipt]:
        if self.shows(self.NONE):
            return []
        found = []
        for row in self.table_rows(self.required(self.TABLE, "appeal history table"), self.HEADERS):
            cells = row.cells
            found.append(
                AppealReceipt(
                    confirmation_number=_confirmation(self, cells["Confirmation"]),
                    status=self.word(STATUS_BY_WORDS, cells["Status"], "appeal status"),
                    payer_claim_number=self.payer_claim_number,
                    provider_reference=None if cells["Provider Ref"] in BLANK else cells["Provider Ref"],
                    level=self.word(LEVEL_BY_WORDS, cells["Level"], "appeal level"),
                    submitted_on=self.day(cells["Date Submitted"], "submitted date"),
                )
            )
        return found


class AppealFormPage(PageObject[PortalAdapter]):
    NAME = "appeal form"
    LANDMARK = "form#appeal-request-form"
    ERRORS = "#appeal-request-errors li"
    SUBMIT = "#submit-appeal-request"
    CLAIM_NUMBER = "#appeal-payer-claim"
    REFERENCE = "#appeal-provider-ref"
    LEVEL = "select#appeal-level"
    AMOUNT = "#appeal-disputed"
    REASON = "#appeal-reason-text"
    ATTACHMENT = "#appeal-upload"

    @classmethod
    def open(cls, adapter: PortalAdapter, payer_claim_number: str) -> AppealFormPage:
        page = cls(adapter)
        _open_for_claim(page, payer_claim_number, "appeals/new", page.landmark())
        return page

    def fill(self, filing: AppealFiling) -> AppealFormPage:
        self.required(self.CLAIM_NUMBER, "payer claim number field").fill(filing.payer_claim_number)
        self.required(self.REFERENCE, "provider reference field").fill(filing.appeal_id)
        self.required(self.LEVEL, "appeal level field").select_option(value=str(filing.level))
        self.required(self.AMOUNT, "disputed amount field").fill(f"{filing.disputed_amount:.2f}")
        self.required(self.REASON, "reason field").fill(filing.reason)
        self.required(self.ATTACHMENT, "attachment field").set_input_files([filing.packet_pdf])
        return self

    def submit_once(self, filing: AppealFiling) -> AppealReceipt:
        self.adapter.follow(self.NAME, self.required(self.SUBMIT, "'Submit appeal' button"))
        receipt, errors = ReceiptPage(self.adapter), self.find(self.ERRORS)
        self.adapter.expect_page(receipt.NAME, receipt.landmark().or_(errors))
        if errors.first.is_visible():
            words = " ".join(t.strip() for t in errors.all_inner_texts() if t.strip())
            raise RequestRefused(self.adapter.portal, words)
        return receipt.read(filing)


class ReceiptPage(PageObject[PortalAdapter]):
    NAME = "appeal receipt"
    LANDMARK = "#appeal-receipt"
    FIELDS = ("confirmation", "provider-ref", "payer-claim-number", "payer", "level", "submitted", "status")

    def read(self, filing: AppealFiling) -> AppealReceipt:
        fields = _fields(self, self.LANDMARK, self.FIELDS)
        if not same_id(fields["provider-ref"], filing.appeal_id):
            raise self.changed("the receipt shows another appeal's provider reference")
        if not same_id(fields["payer-claim-number"], filing.payer_claim_number) or fields["payer"] != filing.payer_id:
            raise self.changed("the receipt shows another claim")
        return AppealReceipt(
            confirmation_number=_confirmation(self, fields["confirmation"]),
            status=self.word(STATUS_BY_WORDS, fields["status"], "appeal status"),
            payer_claim_number=fields["payer-claim-number"],
            provider_reference=fields["provider-ref"],
            level=self.word(LEVEL_BY_WORDS, fields["level"], "appeal level"),
            submitted_on=self.day(fields["submitted"], "submitted date"),
        )


class AppealTrackingPage(PageObject[PortalAdapter]):
    NAME = "appeal tracking"
    LANDMARK = "#appeal-tracking"
    NOT_FOUND = "#appeal-tracking-not-found"
    FIELDS = (
        "confirmation",
        "provider-ref",
        "payer-claim-number",
        "payer",
        "level",
        "submitted",
        "status",
        "decision-date",
        "approved-amount",
        "decision-notes",
    )

    def __init__(self, adapter: PortalAdapter, confirmation_number: str) -> None:
        super().__init__(adapter)
        self.confirmation_number = confirmation_number

    @classmethod
    def open(cls, adapter: PortalAdapter, confirmation_number: str) -> AppealTrackingPage:
        if not CONFIRMATION.fullmatch(confirmation_number):
            raise ClaimNotFound(adapter.portal, confirmation_number)
        page = cls(adapter, confirmation_number)
        adapter.goto(f"appeals/{quote(confirmation_number)}")
        adapter.expect_page(cls.NAME, page.landmark().or_(page.find(cls.NOT_FOUND)))
        if page.shows(cls.NOT_FOUND):
            raise ClaimNotFound(adapter.portal, confirmation_number)
        return page

    def read(self, payer_id: str) -> AppealReceipt:
        fields = _fields(self, self.LANDMARK, self.FIELDS)
        if not same_id(fields["confirmation"], self.confirmation_number):
            raise self.changed("the page shows another appeal")
        if fields["payer"] != payer_id:
            raise ClaimNotFound(self.adapter.portal, self.confirmation_number)  # another payer's appeal
        status = self.word(STATUS_BY_WORDS, fields["status"], "appeal status")
        decided_on = self.day(fields["decision-date"], "decision date")
        amount = self.money(fields["approved-amount"], "amount approved")
        if (status in DECIDED) != (decided_on is not None) or (status == "overturned") != (amount is not None):
            raise self.changed("the decision, its date and its amount do not agree")
        return AppealReceipt(
            confirmation_number=fields["confirmation"],
            status=status,
            payer_claim_number=fields["payer-claim-number"],
            provider_reference=None if fields["provider-ref"] in BLANK else fields["provider-ref"],
            level=self.word(LEVEL_BY_WORDS, fields["level"], "appeal level"),
            submitted_on=self.day(fields["submitted"], "submitted date"),
            decided_on=decided_on,
            amount_overturned=amount,
            decision_words=None if fields["decision-notes"] in BLANK else fields["decision-notes"],
        )
