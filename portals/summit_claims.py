"""Summit Exchange's claim pages: the claim status search (its results drawn by the page's JavaScript from a
JSON call), the claim status results list (a GET form: every claim of a service-date range with its latest
277 answer, 50 a page) and the claim detail page.

Each page is read in one browser round trip (one `evaluate` for its fields, one per table), then every value
is checked as strictly as before: a column that moved, a code, amount or date that is none, a pager that
goes round in circles, money that does not balance: LayoutChanged naming the page, never a wrong value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import ClassVar
from urllib.parse import urlencode

from playwright.sync_api import Locator

from portals.balance import Entry, Line, Sheet
from portals.base import BLANK, PortalAdapter
from portals.errors import ClaimNotFound
from portals.identifiers import normal_id, same_id
from portals.pages import PageObject, PageReading, normalise_words
from portals.summit_eligibility import CallJsonApi
from portals.types import Adjustment, ClaimQuery, ClaimStatusResult, ListedClaim

GROUP_CODES = {"CO", "PR", "OA", "PI", "CR"}
CARC = re.compile(r"[A-Z0-9]{1,4}")
RARC = re.compile(r"[A-Z]{1,2}\d{1,4}")
CATEGORY_CODE = re.compile(r"([A-Z]\d{1,2})\b")
CLAIM_NOT_FOUND = 'h1:text-is("Claim not found")'
LIST_MAX_DAYS = 93  # "The service date range may not exceed 93 days"
MAX_LIST_PAGES = 400  # 20,000 claims in 93 days: a pager going on longer is a loop

# A table's headers, and each body row's cell texts with the address of the row's `link`, in one round trip.
READ_TABLE_JS = """(table, link) => ({
  headers: Array.from(table.querySelectorAll('thead th'), th => th.innerText),
  rows: Array.from(table.tBodies).flatMap(body => Array.from(body.rows)).map(row => {
    const found = link ? row.querySelector(link) : null;
    return {cells: Array.from(row.cells, cell => cell.innerText.trim()), href: found ? found.href : ''};
  }),
})"""

# The whole claim list page in one round trip: the portal's refusal, the empty note, the table's headers, its
# rows (each cell's text and the address of its link) and the address of the next page.
READ_LIST_JS = """(box, s) => {
  const text = sel => { const el = box.querySelector(sel); return el ? el.innerText.trim() : null; };
  const table = box.querySelector(s.table);
  const next = box.querySelector(s.next);
  return {
    error: text(s.error),
    empty: box.querySelector(s.empty) !== null,
    table: table !== null,
    headers: table ? Array.from(table.querySelectorAll('thead th'), th => th.innerText) : [],
    rows: table ? Array.from(table.tBodies).flatMap(body => Array.from(body.rows)).map(row =>
      Array.from(row.cells, cell => {
        const link = cell.querySelector('a[href]');
        return {text: cell.innerText.trim(), href: link ? link.href : ''};
      })) : [],
    next: next ? next.href : '',
  };
}"""


class ClaimSearchPage(PageObject[PortalAdapter]):
    NAME = "claim status search"
    PATH = "claim-status"
    LANDMARK = "#claim-search-form"
    API_PATH = "api/claim-status/search"
    PAYER = "#payer-id"
    MEMBER = "#member-id"
    DOS_FROM = "#service-from"
    DOS_TO = "#service-to"
    NPI = "#provider-npi"
    SEARCH = "#search-claims"

    def open(self) -> ClaimSearchPage:
        return self.visit()

    def search(self, query: ClaimQuery, call_json_api: CallJsonApi) -> SearchResults:
        payer = self.required(self.PAYER, "payer list")
        if payer.locator(f'option[value="{query.payer_id}"]').count() == 0:
            raise self.changed(f"payer {query.payer_id} is not in its payer list")
        payer.select_option(query.payer_id)
        self.required(self.MEMBER, "member ID field").fill(query.member_id)
        self.required(self.DOS_FROM, "service date from field").fill(query.dos_from.isoformat())
        self.required(self.DOS_TO, "service date to field").fill(query.dos_to.isoformat())
        self.required(self.NPI, "NPI field").fill(query.rendering_npi)
        button = self.required(self.SEARCH, "search button")
        call_json_api(self.API_PATH, button.click, page_name=self.NAME)
        return SearchResults(self.adapter)


class SearchResults(PageObject[PortalAdapter]):
    """The results table the page's JavaScript draws from the JSON answer."""

    NAME = "claim status results"
    TABLE = "#search-results table.results-table"
    EMPTY = "#search-results .no-results"
    VIEW_LINK = "a.view-claim"
    COLUMNS: ClassVar[list[str]] = [
        "Patient Control #",
        "Payer Claim #",
        "Patient",
        "Service Dates",
        "Billed",
        "Status",
        "Action",
    ]
    PCN_COLUMN = 0

    def landmark(self) -> Locator:
        return self.find(self.TABLE).or_(self.find(self.EMPTY))

    def detail_path_for(self, claim_id: str) -> str:
        """The portal path of the claim's detail page, from its row's 'View claim' link."""
        self.expect()
        if self.shows(self.EMPTY):
            raise ClaimNotFound(self.adapter.portal, claim_id)
        for cells, href in read_table(self, self.find(self.TABLE).first, self.COLUMNS, "result", self.VIEW_LINK):
            if same_id(cells[self.PCN_COLUMN], claim_id):
                if not href:
                    raise self.changed("'View claim' link is missing or has no address")
                return self.adapter.portal_path(self.NAME, href)
        raise ClaimNotFound(self.adapter.portal, claim_id)


class ClaimListPage(PageObject[PortalAdapter]):
    """Claim status results: every claim whose service dates overlap a range of at most LIST_MAX_DAYS days,
    with its latest 277 answer, a page of 50 at a time behind a "Next page" link."""

    NAME = "claim list"
    PATH = "claim-status/results"
    LANDMARK = "#claim-list"
    TABLE = "#claim-list-table"
    EMPTY = "#claim-list-empty"
    ERROR = "#claim-list-error"
    NEXT_PAGE = "a.sx-pager-next"
    COLUMNS: ClassVar[list[str]] = [
        "Patient Control #",
        "Payer Claim #",
        "Payer",
        "Service Dates",
        "Billed",
        "Status",
        "Status Date",
        "Paid",
        "Check/EFT #",
        "Action",
    ]
    # What a row shows of a claim: its Status cell holds the category's words, not the 277 status text.
    SHOWS = frozenset(
        {"category_code", "payer_claim_number", "billed_amount", "status_date", "paid_amount", "check_number"}
    )
    STATUS = re.compile(r"([A-Z]\d{1,2})\b\s*(.*)", re.DOTALL)
    DATE_SEPARATOR = re.compile(r"\s+[-\u2013\u2014]\s+")

    def listed(self, dos_from: date, dos_to: date) -> list[ListedClaim]:
        """Every row of the list for one range the portal allows, page after page, read by its address."""
        query = urlencode({"serviceFrom": dos_from.isoformat(), "serviceTo": dos_to.isoformat(), "payerId": ""})
        path = f"{self.PATH}?{query}"
        seen: set[str] = set()
        rows: list[ListedClaim] = []
        while path:
            target = self.adapter.url(path)
            if target in seen or len(seen) >= MAX_LIST_PAGES:
                raise self.changed("its page links go round in circles")
            seen.add(target)
            self.open_in_place(path)
            page_rows, next_href = self._read_page(dos_from, dos_to)
            rows.extend(page_rows)
            path = self.adapter.portal_path(self.NAME, next_href) if next_href else ""
        return rows

    def _read_page(self, dos_from: date, dos_to: date) -> tuple[list[ListedClaim], str]:
        selectors = {"table": self.TABLE, "empty": self.EMPTY, "error": self.ERROR, "next": self.NEXT_PAGE}
        page = self.find(self.LANDMARK).first.evaluate(READ_LIST_JS, selectors)
        if page["error"] is not None:
            raise self.changed(f"the portal refused the service dates {dos_from}..{dos_to}")
        if not page["table"]:
            if page["empty"] and not page["next"]:
                return [], ""
            raise self.changed("its claims table is missing")
        found = [normalise_words(h) for h in page["headers"]]
        if found != [normalise_words(c) for c in self.COLUMNS]:
            raise self.changed(f"table columns are {page['headers']}, expected {self.COLUMNS}")
        return [self._row(cells, dos_from, dos_to) for cells in page["rows"]], page["next"]

    def _row(self, raw: Sequence[dict[str, str]], dos_from: date, dos_to: date) -> ListedClaim:
        if len(raw) != len(self.COLUMNS):
            raise self.changed("a claim row has an unexpected number of cells")
        cells = {column: cell["text"] for column, cell in zip(self.COLUMNS, raw, strict=True)}
        claim_id = cells["Patient Control #"]
        if not normal_id(claim_id) or cells["Payer Claim #"] in BLANK or cells["Payer"] in BLANK:
            raise self.changed("a claim row has no patient control #, payer claim # or payer")
        status = self.STATUS.fullmatch(cells["Status"])
        if status is None:
            raise self.changed(f"claim {claim_id}: its status has no 277 category code")
        first, last = self._service_dates(cells["Service Dates"], claim_id)
        if last < dos_from or first > dos_to:
            raise self.changed(f"claim {claim_id}: its service dates are outside the range asked for")
        billed = self.money(cells["Billed"], "billed amount")
        if billed is None:
            raise self.changed(f"claim {claim_id}: it has no billed amount")
        href = raw[self.COLUMNS.index("Action")]["href"]
        if not href:
            raise self.changed(f"claim {claim_id}: its 'View claim' link has no address")
        result = ClaimStatusResult(
            claim_id=claim_id,
            category_code=status.group(1),
            status_code=None,
            status_text=status.group(2).strip() or status.group(1),
            status_date=self.day(cells["Status Date"], "status date"),
            payer_claim_number=cells["Payer Claim #"],
            billed_amount=billed,
            paid_amount=self.money(cells["Paid"], "paid amount"),
            check_number=None if cells["Check/EFT #"] in BLANK else cells["Check/EFT #"],
        )
        return ListedClaim(result, self.SHOWS, self.adapter.portal_path(self.NAME, href))

    def _service_dates(self, text: str, claim_id: str) -> tuple[date, date]:
        days = [self.day(part, "service date") for part in self.DATE_SEPARATOR.split(text.strip())]
        if not 1 <= len(days) <= 2 or None in days:
            raise self.changed(f"claim {claim_id}: its service dates are not dates")
        first, last = days[0], days[-1]
        assert first is not None and last is not None
        if last < first:
            raise self.changed(f"claim {claim_id}: its service dates end before they begin")
        return first, last


class ClaimDetailPage(PageObject[PortalAdapter]):
    NAME = "claim detail"
    LANDMARK = "#claim-detail"
    FIELDS: ClassVar[dict[str, str]] = {  # selector -> what it is
        "#claim-pcn": "patient control number",
        "#claim-payer-number": "payer claim number",
        "#claim-category": "status category",
        "#claim-status-code": "status code",
        "#claim-status-text": "status text",
        "#claim-effective-date": "effective date",
        "#claim-billed": "billed amount",
        "#claim-allowed": "allowed amount",
        "#claim-paid": "paid amount",
        "#claim-check": "check/EFT number",
        "#claim-payment-date": "payment date",
        "#claim-patient-resp": "patient responsibility",
    }
    LINES = "#service-lines"
    LINE_COLUMNS: ClassVar[list[str]] = ["Line", "Procedure", "Units", "Charge"]
    ADJUSTMENTS = "#claim-adjustments"
    NEXT_PAGE = "a.sx-pager-next"  # the adjustments of a long claim, a page at a time
    ADJUSTMENT_COLUMNS: ClassVar[list[str]] = [
        "Line",
        "Procedure",
        "Group",
        "Reason (CARC)",
        "Amount",
        "Remarks (RARC)",
    ]
    CLAIM_LEVEL_LINE = "Claim"

    def open(self, path: str, claim_id: str, ahead: Sequence[str] = ()) -> ClaimDetailPage:
        """The detail page at a portal path; the portal's 'Claim not found' is ClaimNotFound."""
        if self.adapter.goto_in_place(path, ahead=ahead, landmark=self.LANDMARK):
            return self
        self.adapter.expect_page(self.NAME, self.landmark().or_(self.find(CLAIM_NOT_FOUND)))
        if not self.shows(self.LANDMARK):
            raise ClaimNotFound(self.adapter.portal, claim_id)
        return self

    def read(self, claim_id: str) -> ClaimStatusResult:
        read = self._read_page()
        missing = [what for selector, what in self.FIELDS.items() if read.fields.get(selector) is None]
        if missing:
            raise self.changed(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing")
        field = {what: read.fields[selector] or "" for selector, what in self.FIELDS.items()}
        if not same_id(field["patient control number"], claim_id):
            raise self.changed(f"it shows another claim than {claim_id}")
        category = CATEGORY_CODE.match(field["status category"])
        if category is None:
            raise self.changed("status category has no 277 category code")
        if not field["status text"]:
            raise self.changed("status text is empty")
        billed = self.money(field["billed amount"], "billed amount")
        paid = self.money(field["paid amount"], "paid amount")
        patient = self.money(field["patient responsibility"], "patient responsibility")
        lines = self._lines(read)
        pages = self.every_page_read(read, self._read_page, "adjustments", "next", "adjustments table")
        rows = [
            [row.cells[column] for column in self.ADJUSTMENT_COLUMNS]
            for page in pages
            for row in self.rows_in(page, "adjustments", self.ADJUSTMENT_COLUMNS, "adjustments table", exact=True)
        ]
        adjustments = tuple(self._adjustment(cells) for cells in rows)
        entries = tuple(
            Entry(a.group_code, a.amount, None if a.line_procedure is None else cells[0])
            for a, cells in zip(adjustments, rows, strict=True)
        )
        self.require_balance(Sheet(billed, paid, entries, lines, patient), claim_id)
        return ClaimStatusResult(
            claim_id=claim_id,
            category_code=category.group(1),
            status_code=_blank_to_none(field["status code"]),
            status_text=field["status text"],
            status_date=self.day(field["effective date"], "effective date"),
            payer_claim_number=_blank_to_none(field["payer claim number"]),
            billed_amount=billed,
            allowed_amount=self.money(field["allowed amount"], "allowed amount"),
            paid_amount=paid,
            check_number=_blank_to_none(field["check/EFT number"]),
            payment_date=self.day(field["payment date"], "payment date"),
            adjustments=adjustments,
        )

    def _read_page(self) -> PageReading:
        """The claim's fields, both tables and the adjustments' pager, in one round trip."""
        return self.read_in_one_trip(
            box=self.LANDMARK,
            fields={selector: selector for selector in self.FIELDS},
            links={"next": self.NEXT_PAGE},
            tables={"lines": self.LINES, "adjustments": self.ADJUSTMENTS},
        )

    def _lines(self, read: PageReading) -> tuple[Line, ...]:
        """Each service line's charge, for the balance check (every tbody of the table)."""
        lines = []
        for row in self.rows_in(read, "lines", self.LINE_COLUMNS, "service lines table"):
            charge = self.money(row.cells["Charge"], "line charge")
            if charge is None:
                raise self.changed("a service line has no charge")
            lines.append(Line(row.cells["Line"], charge))
        return tuple(lines)

    def _adjustment(self, cells: list[str]) -> Adjustment:
        line, procedure, group, carc, amount_text, rarc_text = cells
        rarcs = () if rarc_text in BLANK else tuple(re.split(r"[,\s]+", rarc_text))
        if group not in GROUP_CODES or not CARC.fullmatch(carc) or not all(RARC.fullmatch(r) for r in rarcs):
            raise self.changed("an adjustment row has no valid group/CARC/RARC codes")
        amount = self.money(amount_text, "adjustment amount")
        if amount is None:
            raise self.changed("an adjustment row has no amount")
        claim_level = line == self.CLAIM_LEVEL_LINE or procedure in BLANK
        return Adjustment(group, carc, amount, rarcs, None if claim_level else procedure)


def read_table(
    page: PageObject[PortalAdapter], table: Locator, columns: list[str], what: str, link: str = ""
) -> list[tuple[list[str], str]]:
    """Every body row of `table` as its cell texts and the address of its `link` ('' if none), in one round trip;
    columns that moved, or a row with more or fewer cells than columns, are a changed page."""
    read = table.evaluate(READ_TABLE_JS, link)
    found = [normalise_words(h) for h in read["headers"]]
    if found[: len(columns)] != [normalise_words(c) for c in columns]:
        raise page.changed(f"table columns are {read['headers']}, expected {columns}")
    if any(len(row["cells"]) != len(columns) for row in read["rows"]):
        raise page.changed(f"a {what} row has an unexpected number of cells")
    return [(row["cells"], row["href"]) for row in read["rows"]]


def _blank_to_none(text: str) -> str | None:
    return None if text in BLANK else text
