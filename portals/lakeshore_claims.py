"""Lakeshore State Medicaid's claim pages: CLAIM INQUIRY (276) and its results, CLAIM STATUS DETAIL (277),
and CLAIMS BY DATE OF SERVICE (the claim list, at most 31 days of service dates and 25 rows a page).

Each page is read in one browser round trip (`PageObject.read_in_one_trip`: its labelled values, its table's
headers, cells and links, its pager link and any "show more" control), then checked in Python: the title bar,
the table's columns, every value parsed strictly, the claim's money balanced. Anything that does not fit is
LayoutChanged naming the page, never a value read from the wrong place.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import ClassVar
from urllib.parse import urlencode

from playwright.sync_api import Locator

from portals.balance import Entry, Line, Sheet
from portals.base import BLANK, PortalAdapter
from portals.errors import ClaimNotFound
from portals.identifiers import same_id
from portals.pages import PageObject, PageReading, TableRow
from portals.types import Adjustment, ClaimQuery, ClaimStatusResult, ListedClaim

NO_RECORDS = "#noRecords"
US_DATE = "%m/%d/%Y"
LIST_MAX_DAYS = 31  # "THE DATE OF SERVICE RANGE MAY NOT EXCEED 31 DAYS."
LIST_MAX_PAGES = 400  # 25 rows a page: 10,000 claims in 31 days is more than any practice bills there
# ePACES style "F2 / 1 - Denied: see remittance advice": 277 category / status code - text
STATUS_PATTERN = re.compile(r"^([A-Z]\d{1,2})\s*/\s*([A-Z0-9]{1,3})\s+-\s+(.+)$", re.DOTALL)
GROUP_CODES = frozenset({"CO", "PR", "OA", "PI", "CR"})
CARC_PATTERN = re.compile(r"[A-Z]?\d{1,3}")
RARC_PATTERN = re.compile(r"[MN]A?\d{1,3}")
DATES_OF_SERVICE = re.compile(r"^(\S+)\s+-\s+(\S+)$")


class TitledPage(PageObject[PortalAdapter]):
    """A Lakeshore page known by its title bar, whatever a release calls its elements."""

    TITLE_BAR = "table.pagetitle td"
    TITLE: ClassVar[str]

    def landmark(self) -> Locator:
        return self.find(self.TITLE_BAR).filter(has_text=re.compile(rf"^\s*{re.escape(self.TITLE)}\s*$"))

    def landmark_at_once(self) -> tuple[str, str | None]:
        return self.TITLE_BAR, self.TITLE

    def no_records(self) -> bool:
        return self.shows(NO_RECORDS)

    def status(self, text: str, what: str) -> tuple[str, str, str]:
        """'F2 / 1 - Denied: ...' -> (category, status code, words), as the detail page and the list show it."""
        found = STATUS_PATTERN.match(text)
        if found is None:
            raise self.changed(f"{what} is not 'category / code - text'")
        return found.group(1), found.group(2), found.group(3).strip()


class ClaimInquiryPage(TitledPage):
    NAME = "claim inquiry"
    PATH = "claims/inquiry"
    TITLE = "CLAIM INQUIRY (276)"
    FORM = "form#claimInquiryForm"
    PROVIDER_NPI = "#providerNpi"
    RECIPIENT_ID = "#recipientId"
    DOS_FROM = "#dosFrom"
    DOS_TO = "#dosTo"
    PATIENT_CONTROL_NO = "#patientControlNo"
    SEARCH = "#btnSearch"

    def open(self) -> ClaimInquiryPage:
        self.visit().required(self.FORM, "claim inquiry form")
        return self

    def search(self, query: ClaimQuery) -> ClaimResultsPage:
        self.required(self.PROVIDER_NPI, "provider NPI field").fill(query.rendering_npi)
        self.required(self.RECIPIENT_ID, "recipient id field").fill(query.member_id)
        self.required(self.DOS_FROM, "DOS from field").fill(query.dos_from.strftime(US_DATE))
        self.required(self.DOS_TO, "DOS to field").fill(query.dos_to.strftime(US_DATE))
        # the practice's claim id narrows the search to one claim (CLM01 = patient control #)
        self.required(self.PATIENT_CONTROL_NO, "patient control # field").fill(query.claim_id)
        self.adapter.follow(self.NAME, self.required(self.SEARCH, "search button"))
        results = ClaimResultsPage(self.adapter)
        # the inquiry page again means the portal refused the criteria (its error list says why)
        results.expect_answer(self, f"claim {query.claim_id}")
        return results


class ClaimResultsPage(TitledPage):
    NAME = "claim inquiry results"
    TITLE = "CLAIM INQUIRY RESULTS"
    TABLE = "table#claimResults"
    COLUMNS: ClassVar[list[str]] = ["TCN", "PATIENT CONTROL #", "DOS FROM", "DOS TO", "BILLED", "PAID", "STATUS"]

    def open_claim(self, query: ClaimQuery) -> ClaimDetailPage:
        """Open the claim's detail page by the address its TCN links to (the page is read in one go first)."""
        read = self.read_in_one_trip(fields={"no_records": NO_RECORDS}, tables={"results": self.TABLE})
        if read.fields["no_records"] is not None:
            raise ClaimNotFound(self.adapter.portal, query.claim_id)
        row = self._row_for(self.rows_in(read, "results", self.COLUMNS, "results table"), query)
        href = row.links["TCN"]
        if not href:
            raise self.changed("TCN link is missing")
        self.adapter.goto(self.adapter.portal_path(self.NAME, href))
        return ClaimDetailPage(self.adapter).expect()

    def _row_for(self, rows: list[TableRow], query: ClaimQuery) -> TableRow:
        """The row of this claim; the known TCN wins when the payer lists a resubmission too."""
        matching = [row for row in rows if same_id(row.cells["PATIENT CONTROL #"], query.claim_id)]
        if not matching:
            raise ClaimNotFound(self.adapter.portal, query.claim_id)
        for row in matching:
            if query.payer_claim_number and same_id(row.cells["TCN"], query.payer_claim_number):
                return row
        return matching[0]


class ClaimDetailPage(TitledPage):
    NAME = "claim detail"
    TITLE = "CLAIM STATUS DETAIL (277)"
    LINES = "table#serviceLines"
    LINE_COLUMNS: ClassVar[list[str]] = ["LINE", "PROC", "CHARGE", "GROUP", "CARC", "ADJ AMT", "RARC"]
    NEXT_PAGE = "a#linesNextPage"  # a long claim's service lines, a page at a time
    HEADER = "table#claimHeader"
    FIELDS: ClassVar[dict[str, tuple[str, str]]] = {  # key -> (selector, what it is)
        "tcn": ("#claimTcn", "TCN"),
        "pcn": ("#claimPcn", "patient control #"),
        "status": ("#claimStatus", "claim status"),
        "status_date": ("#statusDate", "status effective date"),
        "total_charge": ("#totalCharge", "total charge"),
        "allowed": ("#allowedAmount", "allowed amount"),
        "paid": ("#paidAmount", "paid amount"),
        "remit_trace": ("#remitTrace", "remittance trace #"),
        "remit_date": ("#remitDate", "remittance date"),
    }

    def read(self, claim_id: str) -> ClaimStatusResult:
        """The page `open_claim` or `open_in_place` opened (and expected)."""
        selectors = {key: selector for key, (selector, _) in self.FIELDS.items()}
        read = self.read_in_one_trip(
            fields={**selectors, "no_records": NO_RECORDS, "header": self.HEADER},
            links={"next": self.NEXT_PAGE},
            tables={"lines": self.LINES},
        )
        if read.fields["no_records"] is not None:
            raise ClaimNotFound(self.adapter.portal, claim_id)
        if read.fields["header"] is None:
            raise self.changed("claim header table is missing")
        fields = {}
        for key, (_, what) in self.FIELDS.items():
            text = read.fields[key]
            if text is None:
                raise self.changed(f"{what} is missing")
            fields[key] = text
        if not same_id(fields["pcn"], claim_id):
            raise self.changed(f"it shows another claim than {claim_id}")
        category, code, words = self.status(fields["status"], "claim status")
        billed = self.money(fields["total_charge"], "total charge")
        paid = self.money(fields["paid"], "paid amount")
        rows = [
            row
            for page in self.every_page_read(read, self._lines_page, "lines", "next", "service line table")
            for row in self.rows_in(page, "lines", self.LINE_COLUMNS, "service line table")
        ]
        adjustments = self._adjustments(rows)
        self.require_balance(self._sheet(rows, billed, paid), claim_id)
        return ClaimStatusResult(
            claim_id=claim_id,
            category_code=category,
            status_code=code,
            status_text=words,
            status_date=self.day(fields["status_date"], "status effective date"),
            payer_claim_number=fields["tcn"] or None,
            billed_amount=billed,
            allowed_amount=self.money(fields["allowed"], "allowed amount"),
            paid_amount=paid,
            check_number=fields["remit_trace"] or None,
            payment_date=self.day(fields["remit_date"], "remittance date"),
            adjustments=adjustments,
        )

    def _lines_page(self) -> PageReading:
        return self.read_in_one_trip(links={"next": self.NEXT_PAGE}, tables={"lines": self.LINES})

    def _sheet(self, rows: list[TableRow], billed: Decimal | None, paid: Decimal | None) -> Sheet:
        """One row per line and adjustment (a line shows again for each of its adjustments)."""
        charges: dict[str, Decimal] = {}
        entries = []
        for row in rows:
            cells = row.cells
            line = cells["LINE"] or None
            if line is not None:
                charge = self.money(cells["CHARGE"], "line charge")
                if charge is None or charges.setdefault(line, charge) != charge:
                    raise self.changed(f"service line {line} shows no charge, or two different ones")
            if cells["CARC"]:
                amount = self.money(cells["ADJ AMT"], "adjustment amount")
                entries.append(Entry(cells["GROUP"], amount or Decimal("0"), line))  # None refused below
        lines = tuple(Line(key, charge) for key, charge in charges.items())
        return Sheet(billed, paid, tuple(entries), lines)

    def _adjustments(self, rows: list[TableRow]) -> tuple[Adjustment, ...]:
        adjustments = []
        for row in rows:
            cells = row.cells
            if not cells["CARC"]:
                continue  # a line the payer did not adjust (yet)
            amount = self.money(cells["ADJ AMT"], "adjustment amount")
            if amount is None or not cells["GROUP"]:
                raise self.changed("an adjustment has no group code or amount")
            if cells["GROUP"] not in GROUP_CODES or not CARC_PATTERN.fullmatch(cells["CARC"]):
                raise self.changed("an adjustment's group or reason code is not an X12 code")
            rarcs = tuple(r.strip() for r in cells["RARC"].split(",") if r.strip())
            if not all(RARC_PATTERN.fullmatch(r) for r in rarcs):
                raise self.changed("an adjustment's remark code is not an X12 RARC")
            adjustments.append(Adjustment(cells["GROUP"], cells["CARC"], amount, rarcs, cells["PROC"] or None))
        return tuple(adjustments)


class ClaimListPage(TitledPage):
    """CLAIMS BY DATE OF SERVICE: every claim whose service dates overlap a range of at most 31 days."""

    NAME = "claim list"
    PATH = "claims/list"
    TITLE = "CLAIMS BY DATE OF SERVICE"
    TABLE = "table#claimList"
    ERRORS = "#listErrors"
    NEXT_PAGE = "a#listNextPage"
    COLUMNS: ClassVar[list[str]] = [
        "TCN",
        "PATIENT CONTROL NO.",
        "RECIPIENT ID",
        "DATES OF SERVICE",
        "BILLED",
        "PAID",
        "CLAIM STATUS",
        "STATUS DATE",
        "REMITTANCE/CHECK NO.",
    ]
    # What a row shows of a claim: no allowed amount and no remittance date (its detail page has them).
    SHOWS = frozenset(
        {
            "status_text",
            "category_code",
            "status_code",
            "status_date",
            "payer_claim_number",
            "billed_amount",
            "paid_amount",
            "check_number",
        }
    )

    @classmethod
    def open(cls, adapter: PortalAdapter, dos_from: date, dos_to: date) -> ClaimListPage:
        """The list by its address (the page's form is a GET form)."""
        query = urlencode({"dosFrom": dos_from.strftime(US_DATE), "dosTo": dos_to.strftime(US_DATE)})
        return cls(adapter).open_in_place(f"{cls.PATH}?{query}")

    def listed(self, dos_from: date, dos_to: date) -> list[ListedClaim]:
        """Every row on every page of the list, in the portal's order."""
        read = self._page()
        if read.fields["errors"] is not None:
            raise self.changed("the portal refused the service-date range asked for (has its limit changed?)")
        if read.fields["no_records"] is not None and read.tables["list"] is None:
            return []
        pages = self.every_page_read(read, self._page, "list", "next", "claim list", LIST_MAX_PAGES)
        rows = [row for page in pages for row in self.rows_in(page, "list", self.COLUMNS, "claim list")]
        return [self._listed(row, dos_from, dos_to) for row in rows]

    def _page(self) -> PageReading:
        return self.read_in_one_trip(
            fields={"errors": self.ERRORS, "no_records": NO_RECORDS},
            links={"next": self.NEXT_PAGE},
            tables={"list": self.TABLE},
        )

    def _listed(self, row: TableRow, dos_from: date, dos_to: date) -> ListedClaim:
        cells = row.cells
        tcn, claim_id = cells["TCN"], cells["PATIENT CONTROL NO."]
        if tcn in BLANK or claim_id in BLANK:
            raise self.changed("a row has no TCN or patient control no.")
        if not row.links["TCN"]:
            raise self.changed("a row's TCN has no link to the claim's detail")
        first, last = self._dates(cells["DATES OF SERVICE"])
        if first > last or first > dos_to or last < dos_from:
            raise self.changed("a row's dates of service are outside the range asked for")
        billed = self.money(cells["BILLED"], "billed amount")
        if billed is None:
            raise self.changed("a row shows no billed amount")
        category, code, words = self.status(cells["CLAIM STATUS"], "claim status")
        result = ClaimStatusResult(
            claim_id=claim_id,
            category_code=category,
            status_code=code,
            status_text=words,
            status_date=self.day(cells["STATUS DATE"], "status date"),
            payer_claim_number=tcn,
            billed_amount=billed,
            paid_amount=self.money(cells["PAID"], "paid amount"),
            check_number=None if cells["REMITTANCE/CHECK NO."] in BLANK else cells["REMITTANCE/CHECK NO."],
        )
        return ListedClaim(result, self.SHOWS, self.adapter.portal_path(self.NAME, row.links["TCN"]))

    def _dates(self, text: str) -> tuple[date, date]:
        found = DATES_OF_SERVICE.match(text)
        first = self.day(found.group(1), "dates of service") if found else None
        last = self.day(found.group(2), "dates of service") if found else None
        if first is None or last is None:
            raise self.changed("dates of service are not 'MM/DD/YYYY - MM/DD/YYYY'")
        return first, last
