"""Unity Health Plans' provider portal: sign in, terms notice, claim search, claim detail, CSV export,
prior authorizations (by number and per member) and provider enrollment.

The portal shows statuses only in words; `CATEGORY_BY_STATUS`, `AUTH_STATUS_BY_WORDS`
and `ENROLLMENT_STATUS_BY_WORDS` turn them into normalised values. Every page object
checks its landmark and its table columns before it reads, so a redesigned page is
`LayoutChanged`, never a wrong value.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import ClassVar

from playwright.sync_api import APIResponse, Locator
from playwright.sync_api import Error as PlaywrightError

from portals.base import FaultPage, PortalAdapter
from portals.errors import (
    ClaimNotFound,
    LayoutChanged,
    LoginRejected,
    PasswordChangeRequired,
    PortalUnavailable,
    RateLimited,
    RecordNotFound,
    SessionExpired,
)
from portals.types import (
    Adjustment,
    AuthorizationResult,
    ClaimQuery,
    ClaimStatusResult,
    Credentials,
    EnrollmentResult,
)

# The words Unity shows for a claim -> 277 claim status category (STC01-1).
CATEGORY_BY_STATUS: dict[str, str] = {
    "paid": "F1",
    "partially paid": "F1",
    "denied": "F2",
    "in process": "P1",
    "received": "A2",
    "accepted": "A2",
    "pending - information requested": "P3",
    "rejected": "A7",
}

# Unity's words for a prior authorization -> the normalised status.
AUTH_STATUS_BY_WORDS: dict[str, str] = {
    "approved": "approved",
    "pending review": "pending",
    "denied": "denied",
    "expired": "expired",
    "cancelled": "cancelled",
}

# Unity's words for a provider's enrollment -> the normalised status.
ENROLLMENT_STATUS_BY_WORDS: dict[str, str] = {
    "in process": "in_process",
    "active": "active",
    "denied": "denied",
    "terminated": "terminated",
}
UNITY_PAYER_ID = "UHP"

# Rows of every table as cell texts plus the link in each cell (one browser round trip per table).
READ_TABLE_JS = """(table, emptyClass) => Array.from(table.tBodies.length ? table.tBodies[0].rows : [])
  .filter(row => !row.classList.contains(emptyClass))
  .map(row => Array.from(row.cells, cell => {
    const link = cell.querySelector('a[href]');
    return {text: cell.innerText.trim(), href: link ? link.href : ''};
  }))"""
READ_FIELDS_JS = """(box, attr) => Object.fromEntries(
  Array.from(box.querySelectorAll('[' + attr + ']'), el => [el.getAttribute(attr), el.innerText.trim()]))"""
EMPTY_ROW_CLASS = "uhp-table__empty"
US_DATE = "%m/%d/%Y"
BLANK = {"", "-", "—", "N/A"}
PROCEDURE_CODE = re.compile(r"[A-Z0-9]{5}")
NPI_PATTERN = re.compile(r"\d{10}")


@dataclass(frozen=True)
class TableRow:
    cells: dict[str, str]  # header -> text
    links: dict[str, str]  # header -> absolute href ('' when the cell has no link)


class UnityHealthAdapter(PortalAdapter):
    kind = "unity_health"
    fault_pages = (
        FaultPage("[data-fault=maintenance]", PortalUnavailable, "portal is down for scheduled maintenance"),
        FaultPage("[data-fault=rate_limited]", RateLimited, "portal says too many requests"),
        FaultPage("[data-fault=error]", PortalUnavailable, "portal shows its 'something went wrong' page"),
        FaultPage("#session-notice", SessionExpired, "portal sent the browser back to its sign-in page"),
    )

    def is_logged_in(self) -> bool:
        self.goto(HomePage.PATH)
        return HomePage.reached(self)

    def login(self) -> None:
        LoginPage.open(self).sign_in(self.credentials).acknowledge()

    def fetch_claim_status(self, query: ClaimQuery) -> ClaimStatusResult:
        results = ClaimSearchPage.open(self).search(query.dos_from, query.dos_to, account=query.claim_id)
        detail_path = results.find_detail(query.claim_id, query.payer_claim_number)
        if detail_path is None:
            raise ClaimNotFound(self.portal, query.claim_id)
        return ClaimDetailPage.open(self, detail_path).read(query.claim_id)

    def list_claims(self, dos_from: date, dos_to: date) -> list[ClaimStatusResult]:
        """Every claim with service dates in the range, page by page (status-level fields only)."""
        return self.with_one_relogin(lambda: ClaimSearchPage.open(self).search(dos_from, dos_to).all_rows())

    def export_claims(self, dos_from: date, dos_to: date) -> list[ClaimStatusResult]:
        """The bulk path: the portal's CSV of the search (status-level fields, no adjustments)."""
        return self.with_one_relogin(lambda: ClaimSearchPage.open(self).search(dos_from, dos_to).download_csv())

    def authorization(self, auth_number: str) -> AuthorizationResult:
        """One prior authorization by its number; RecordNotFound when Unity has none."""
        return self.with_one_relogin(lambda: AuthLookupPage.open(self).look_up(auth_number).read(auth_number))

    def member_authorizations(self, member_id: str) -> list[AuthorizationResult]:
        """Every authorization Unity has on file for one member, each read from its detail page."""
        def fetch() -> list[AuthorizationResult]:
            listed = AuthLookupPage.open(self).member_list(member_id).detail_paths()
            return [AuthDetailPage.open(self, path).read(number) for number, path in listed]
        return self.with_one_relogin(fetch)

    def enrollment(self, npi: str) -> EnrollmentResult:
        """The provider's enrollment with Unity; RecordNotFound when Unity has none for the NPI."""
        return self.with_one_relogin(lambda: EnrollmentLookupPage.open(self).check(npi).read(npi))

    # --- helpers the page objects share ---------------------------------

    def read_table(self, page_name: str, table: Locator, headers: list[str]) -> list[TableRow]:
        self.require_headers(page_name, table.locator("thead th"), headers)
        rows = []
        for raw in table.evaluate(READ_TABLE_JS, EMPTY_ROW_CLASS):
            if len(raw) < len(headers):
                raise LayoutChanged(self.portal, page_name, "a table row has fewer cells than columns")
            rows.append(TableRow({h: c["text"] for h, c in zip(headers, raw)},
                                 {h: c["href"] for h, c in zip(headers, raw)}))
        return rows

    def category(self, page_name: str, words: str, claim_id: str) -> str:
        normalised = _normalise(words)
        if normalised not in CATEGORY_BY_STATUS:
            raise LayoutChanged(self.portal, page_name, f"claim {claim_id}: status wording not recognised")
        return CATEGORY_BY_STATUS[normalised]

    def status_from(self, page_name: str, words: str, statuses: dict[str, str], what: str) -> str:
        normalised = _normalise(words)
        if normalised not in statuses:
            raise LayoutChanged(self.portal, page_name, f"{what} wording not recognised")
        return statuses[normalised]

    def count(self, page_name: str, text: str, what: str) -> int | None:
        """A whole number read off a page; blank is None, anything else is a changed page."""
        cleaned = text.strip()
        if cleaned in BLANK:
            return None
        if not cleaned.isdigit():
            raise LayoutChanged(self.portal, page_name, f"{what} is not a number")
        return int(cleaned)


class UnityPage:
    """A page object: the adapter it belongs to and the browser page it reads."""

    NAME: ClassVar[str]

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        self.adapter = adapter
        self.page = adapter.page

    def find(self, selector: str) -> Locator:
        return self.page.locator(selector)

    def required(self, selector: str, what: str) -> Locator:
        return self.adapter.require(self.NAME, self.find(selector), what)


class LoginPage(UnityPage):
    NAME = "sign in"
    PATH = "login"
    FORM = "form#login-form"
    USERNAME = "#username"
    PASSWORD = "#password"
    SIGN_IN = "#sign-in"
    WRONG_PASSWORD = "#login-error"
    LOCKED = "#login-locked"

    @classmethod
    def open(cls, adapter: UnityHealthAdapter) -> LoginPage:
        adapter.goto(cls.PATH)
        return cls(adapter)

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        adapter.expect_page(self.NAME, self.find(self.FORM))

    def sign_in(self, credentials: Credentials) -> NoticePage:
        self.adapter.fill_secret(self.required(self.USERNAME, "username field"), credentials.username)
        self.adapter.fill_secret(self.required(self.PASSWORD, "password field"), credentials.password)
        self.required(self.SIGN_IN, "sign-in button").click()
        wrong, locked = self.find(self.WRONG_PASSWORD), self.find(self.LOCKED)
        expired = self.find(PasswordExpiredPage.LANDMARK)
        self.adapter.expect_page("sign-in result",
                                 self.find(NoticePage.LANDMARK).or_(wrong).or_(locked).or_(expired))
        if expired.first.is_visible():
            raise PasswordChangeRequired(self.adapter.portal, "sign-in page")
        if locked.first.is_visible():
            raise LoginRejected(self.adapter.portal, "the account is locked; a person must unlock it on the "
                                                     "portal before the worker signs in again")
        if wrong.first.is_visible():
            raise LoginRejected(self.adapter.portal, "the portal refused the stored username or password; "
                                                     "not retried; update the password in the keyring")
        return NoticePage(self.adapter)


class PasswordExpiredPage(UnityPage):
    """'Create a new password' (the stored one expired): shown instead of the terms notice; never filled in."""

    NAME = "password expired"
    LANDMARK = "#password-expired"


class NoticePage(UnityPage):
    """'Important notice / terms of use': acknowledged once per session before any other page."""

    NAME = "terms notice"
    LANDMARK = "#terms-notice"
    ACKNOWLEDGE = "#acknowledge"

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        adapter.expect_page(self.NAME, self.find(self.LANDMARK))

    def acknowledge(self) -> HomePage:
        self.required(self.ACKNOWLEDGE, "'I acknowledge' button").click()
        return HomePage(self.adapter)


class HomePage(UnityPage):
    NAME = "home"
    PATH = "home"
    LANDMARK = "#provider-home"

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        adapter.expect_page(self.NAME, self.find(self.LANDMARK))

    @classmethod
    def reached(cls, adapter: UnityHealthAdapter) -> bool:
        """After asking for home: True if it showed, False if the portal wants a sign-in or its notice."""
        home = adapter.page.locator(cls.LANDMARK)
        try:
            adapter.expect_page(cls.NAME, home.or_(adapter.page.locator(NoticePage.LANDMARK)))
        except SessionExpired:
            return False
        return home.first.is_visible()


class ClaimSearchPage(UnityPage):
    NAME = "claim search"
    PATH = "claims"
    FORM = "form#claim-search"
    DOS_FROM = "#dos-from"
    DOS_TO = "#dos-to"
    ACCOUNT = "#account-number"
    SEARCH = "#search-claims"

    @classmethod
    def open(cls, adapter: UnityHealthAdapter) -> ClaimSearchPage:
        adapter.goto(cls.PATH)
        return cls(adapter)

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        adapter.expect_page(self.NAME, self.find(self.FORM))

    def search(self, dos_from: date, dos_to: date, *, account: str = "") -> ClaimResultsPage:
        self.required(self.DOS_FROM, "date of service from").fill(dos_from.strftime(US_DATE))
        self.required(self.DOS_TO, "date of service to").fill(dos_to.strftime(US_DATE))
        self.required(self.ACCOUNT, "claim/patient account number").fill(account)
        self.required(self.SEARCH, "search button").click()
        return ClaimResultsPage(self.adapter)


class ClaimResultsPage(UnityPage):
    NAME = "claim search results"
    TABLE = "table#claim-results"
    NO_RESULTS = "#no-claims"
    SEARCH_ERROR = "#search-error"
    HEADERS = ["Claim #", "Patient account #", "Member", "Date of service", "Billed", "Paid", "Status"]
    NEXT = "a.uhp-pager__next"
    CSV_LINK = "a#download-csv"

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        table = self.find(self.TABLE)
        adapter.expect_page(self.NAME, table.or_(self.find(self.NO_RESULTS)).or_(self.find(self.SEARCH_ERROR)))
        if self.find(self.SEARCH_ERROR).first.is_visible():
            raise LayoutChanged(adapter.portal, self.NAME, "the portal refused the search form as filled in")
        self.rows = adapter.read_table(self.NAME, table.first, self.HEADERS) if table.count() else []

    def find_detail(self, claim_id: str, payer_claim_number: str | None) -> str | None:
        """The detail page path of the claim, looking through every result page."""
        page: ClaimResultsPage | None = self
        while page is not None:
            for row in page.rows:
                if row.cells["Patient account #"] != claim_id:
                    continue
                if payer_claim_number and row.cells["Claim #"] != payer_claim_number:
                    continue
                return self.adapter.portal_path(self.NAME, row.links["Claim #"])
            page = page.next_page()
        return None

    def all_rows(self) -> list[ClaimStatusResult]:
        found: list[ClaimStatusResult] = []
        page: ClaimResultsPage | None = self
        while page is not None:
            found.extend(page.status_of(row) for row in page.rows)
            page = page.next_page()
        return found

    def status_of(self, row: TableRow) -> ClaimStatusResult:
        a, cells = self.adapter, row.cells
        claim_id = cells["Patient account #"]
        return ClaimStatusResult(
            claim_id=claim_id,
            category_code=a.category(self.NAME, cells["Status"], claim_id),
            status_code=None,
            status_text=cells["Status"],
            payer_claim_number=cells["Claim #"],
            billed_amount=a.money(self.NAME, cells["Billed"], "billed amount"),
            paid_amount=a.money(self.NAME, cells["Paid"], "paid amount"),
        )

    def next_page(self) -> ClaimResultsPage | None:
        link = self.find(self.NEXT)
        if link.count() == 0:
            return None
        self.adapter.goto(self.adapter.portal_path(self.NAME, link.first.evaluate("a => a.href")))
        return ClaimResultsPage(self.adapter)

    def download_csv(self) -> list[ClaimStatusResult]:
        """Download CSV: fetched with the browser's own cookies, so the session is the same one."""
        link = self.required(self.CSV_LINK, "'Download CSV' link")
        url = self.adapter.url(self.adapter.portal_path(self.NAME, link.evaluate("a => a.href")))
        try:
            response = self.adapter.fetch(url, timeout=self.adapter.timeouts.navigation_ms)
        except PlaywrightError as exc:
            raise PortalUnavailable(self.adapter.portal, "could not download the claims CSV") from exc
        try:
            return ClaimsCsv(self.adapter).parse(response)
        finally:
            response.dispose()


class ClaimsCsv:
    """The 'Download CSV' file: one row per claim in the search, statuses in words."""

    NAME = "claims CSV export"
    COLUMNS = ["Claim Number", "Patient Account Number", "Billed Amount", "Allowed Amount", "Paid Amount",
               "Claim Status", "Status Date", "Payment Number", "Payment Date"]

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        self.adapter = adapter

    def parse(self, response: APIResponse) -> list[ClaimStatusResult]:
        portal = self.adapter.portal
        if response.status == 429:
            raise RateLimited(portal, "portal is rate limiting (HTTP 429)", _retry_after(response))
        if response.status >= 500:
            raise PortalUnavailable(portal, f"portal answered HTTP {response.status}", _retry_after(response))
        if response.url.split("?")[0].endswith("/login"):
            raise SessionExpired(portal, "portal sent the CSV download to its sign-in page")
        if "text/csv" not in response.headers.get("content-type", ""):
            raise LayoutChanged(portal, self.NAME, "the download is not a CSV file")
        reader = csv.DictReader(io.StringIO(response.text()))
        missing = [c for c in self.COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise LayoutChanged(portal, self.NAME, f"columns {missing} are missing")
        return [self._result(row) for row in reader]

    def _result(self, row: dict[str, str]) -> ClaimStatusResult:
        a, name = self.adapter, self.NAME
        claim_id = row["Patient Account Number"].strip()
        return ClaimStatusResult(
            claim_id=claim_id,
            category_code=a.category(name, row["Claim Status"], claim_id),
            status_code=None,
            status_text=row["Claim Status"].strip(),
            status_date=a.day(name, row["Status Date"], "status date"),
            payer_claim_number=row["Claim Number"].strip(),
            billed_amount=a.money(name, row["Billed Amount"], "billed amount"),
            allowed_amount=a.money(name, row["Allowed Amount"], "allowed amount"),
            paid_amount=a.money(name, row["Paid Amount"], "paid amount"),
            check_number=_blank_to_none(row["Payment Number"]),
            payment_date=a.day(name, row["Payment Date"], "payment date"),
        )


class ClaimDetailPage(UnityPage):
    NAME = "claim detail"
    SUMMARY = "#claim-summary"
    FIELD_ATTRIBUTE = "data-field"
    FIELDS = ("claim-number", "patient-account", "status", "status-date", "billed", "allowed", "paid",
              "payment-number", "payment-date")
    LINES = "table#service-lines"
    LINE_HEADERS = ["Line", "Date of service", "Procedure", "Units", "Billed", "Allowed", "Paid"]
    ADJUSTMENTS = "table#line-adjustments"
    ADJUSTMENT_HEADERS = ["Line", "Group code", "Reason code", "Amount", "Remark codes"]
    CLAIM_LEVEL = "Claim"  # what the Line column says for a claim-level adjustment

    @classmethod
    def open(cls, adapter: UnityHealthAdapter, path: str) -> ClaimDetailPage:
        adapter.goto(path)
        return cls(adapter)

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        adapter.expect_page(self.NAME, self.find(self.SUMMARY))

    def read(self, claim_id: str) -> ClaimStatusResult:
        a, name = self.adapter, self.NAME
        fields = self.required(self.SUMMARY, "claim summary").evaluate(READ_FIELDS_JS, self.FIELD_ATTRIBUTE)
        missing = [f for f in self.FIELDS if f not in fields]
        if missing:
            raise LayoutChanged(a.portal, name, f"claim {claim_id}: summary fields {missing} are missing")
        if fields["patient-account"] != claim_id:
            raise LayoutChanged(a.portal, name, f"the page shows another claim than {claim_id}")
        return ClaimStatusResult(
            claim_id=claim_id,
            category_code=a.category(name, fields["status"], claim_id),
            status_code=None,
            status_text=fields["status"],
            status_date=a.day(name, fields["status-date"], "status date"),
            payer_claim_number=fields["claim-number"],
            billed_amount=a.money(name, fields["billed"], "billed amount"),
            allowed_amount=a.money(name, fields["allowed"], "allowed amount"),
            paid_amount=a.money(name, fields["paid"], "paid amount"),
            check_number=_blank_to_none(fields["payment-number"]),
            payment_date=a.day(name, fields["payment-date"], "payment date"),
            adjustments=self.adjustments(claim_id),
        )

    def adjustments(self, claim_id: str) -> tuple[Adjustment, ...]:
        a, name = self.adapter, self.NAME
        lines = a.read_table(name, self.required(self.LINES, "service lines table"), self.LINE_HEADERS)
        procedure_by_line = {row.cells["Line"]: row.cells["Procedure"] for row in lines}
        table = self.required(self.ADJUSTMENTS, "adjustments table")
        found = []
        for row in a.read_table(name, table, self.ADJUSTMENT_HEADERS):
            line = row.cells["Line"]
            if line != self.CLAIM_LEVEL and line not in procedure_by_line:
                raise LayoutChanged(a.portal, name, f"claim {claim_id}: an adjustment names an unknown line")
            amount = a.money(name, row.cells["Amount"], "adjustment amount")
            if amount is None:
                raise LayoutChanged(a.portal, name, f"claim {claim_id}: an adjustment has no amount")
            found.append(Adjustment(
                group_code=row.cells["Group code"],
                carc=row.cells["Reason code"],
                amount=amount,
                rarcs=tuple(r.strip() for r in row.cells["Remark codes"].split(",") if r.strip() not in BLANK),
                line_procedure=procedure_by_line.get(line),
            ))
        return tuple(found)


class AuthLookupPage(UnityPage):
    """'Prior authorizations': look one up by number, or list a member's."""

    NAME = "authorization lookup"
    PATH = "authorizations"
    FORM = "form#auth-lookup"
    NUMBER = "#auth-number"
    LOOK_UP = "#find-auth"
    NOT_FOUND = "#auth-not-found"
    MEMBER_ID = "#auth-member-id"
    SHOW_MEMBER = "#find-member-auths"
    MEMBER_ERROR = "#member-auth-error"

    @classmethod
    def open(cls, adapter: UnityHealthAdapter) -> AuthLookupPage:
        adapter.goto(cls.PATH)
        return cls(adapter)

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        adapter.expect_page(self.NAME, self.find(self.FORM))

    def look_up(self, auth_number: str) -> AuthDetailPage:
        self.required(self.NUMBER, "authorization number field").fill(auth_number)
        self.required(self.LOOK_UP, "look-up button").click()
        not_found = self.find(self.NOT_FOUND)
        self.adapter.expect_page(AuthDetailPage.NAME, self.find(AuthDetailPage.SUMMARY).or_(not_found))
        if not_found.first.is_visible():
            raise RecordNotFound(self.adapter.portal, "authorization", auth_number)
        return AuthDetailPage(self.adapter)

    def member_list(self, member_id: str) -> MemberAuthsPage:
        self.required(self.MEMBER_ID, "member ID field").fill(member_id)
        self.required(self.SHOW_MEMBER, "'Show authorizations' button").click()
        return MemberAuthsPage(self.adapter)


class AuthDetailPage(UnityPage):
    NAME = "authorization detail"
    SUMMARY = "#auth-summary"
    FIELD_ATTRIBUTE = "data-field"
    FIELDS = ("auth-number", "member-id", "servicing-npi", "status", "start", "end", "units-approved",
              "units-used")
    SERVICES = "table#auth-services"
    SERVICE_HEADERS = ["Procedure code", "Description"]

    @classmethod
    def open(cls, adapter: UnityHealthAdapter, path: str) -> AuthDetailPage:
        adapter.goto(path)
        return cls(adapter)

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        adapter.expect_page(self.NAME, self.find(self.SUMMARY))

    def read(self, auth_number: str) -> AuthorizationResult:
        a, name = self.adapter, self.NAME
        fields = self.required(self.SUMMARY, "authorization summary").evaluate(READ_FIELDS_JS, self.FIELD_ATTRIBUTE)
        missing = [f for f in self.FIELDS if f not in fields]
        if missing:
            raise LayoutChanged(a.portal, name, f"summary fields {missing} are missing")
        if fields["auth-number"].upper() != auth_number.strip().upper():
            raise LayoutChanged(a.portal, name, "the page shows another authorization than the one asked for")
        npi = fields["servicing-npi"]
        if npi not in BLANK and not NPI_PATTERN.fullmatch(npi):
            raise LayoutChanged(a.portal, name, "servicing provider NPI is not an NPI")
        return AuthorizationResult(
            auth_number=fields["auth-number"],
            status=a.status_from(name, fields["status"], AUTH_STATUS_BY_WORDS, "authorization status"),
            procedure_codes=self.procedure_codes(),
            units_approved=a.count(name, fields["units-approved"], "units approved"),
            units_used=a.count(name, fields["units-used"], "units used"),
            servicing_npi=_blank_to_none(npi),
            start=a.day(name, fields["start"], "start date"),
            end=a.day(name, fields["end"], "end date"),
            denial_reason=_blank_to_none(fields.get("denial-reason", "")),
            member_id=_blank_to_none(fields["member-id"]),
        )

    def procedure_codes(self) -> tuple[str, ...]:
        a, name = self.adapter, self.NAME
        rows = a.read_table(name, self.required(self.SERVICES, "services table"), self.SERVICE_HEADERS)
        codes = tuple(row.cells["Procedure code"] for row in rows)
        if not all(PROCEDURE_CODE.fullmatch(code) for code in codes):
            raise LayoutChanged(a.portal, name, "a procedure code is not a CPT/HCPCS code")
        return codes


class MemberAuthsPage(UnityPage):
    """The authorizations Unity has on file for one member."""

    NAME = "member authorizations"
    TABLE = "table#member-auth-list"
    NO_AUTHS = "#no-member-auths"
    HEADERS = ["Authorization #", "Status", "Procedure codes", "Start date", "End date", "Servicing provider NPI"]

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        table = self.find(self.TABLE)
        error = self.find(AuthLookupPage.MEMBER_ERROR)
        adapter.expect_page(self.NAME, table.or_(self.find(self.NO_AUTHS)).or_(error))
        if error.first.is_visible():
            raise LayoutChanged(adapter.portal, self.NAME, "the portal refused the member ID form as filled in")
        self.rows = adapter.read_table(self.NAME, table.first, self.HEADERS) if table.count() else []

    def detail_paths(self) -> list[tuple[str, str]]:
        """(authorization number, path of its detail page) for every row."""
        found = []
        for row in self.rows:
            href = row.links["Authorization #"]
            if not href:
                raise LayoutChanged(self.adapter.portal, self.NAME, "an authorization number has no link")
            found.append((row.cells["Authorization #"], self.adapter.portal_path(self.NAME, href)))
        return found


class EnrollmentLookupPage(UnityPage):
    NAME = "provider enrollment lookup"
    PATH = "enrollment"
    FORM = "form#enrollment-lookup"
    NPI = "#provider-npi"
    CHECK = "#check-enrollment"
    NOT_FOUND = "#enrollment-not-found"

    @classmethod
    def open(cls, adapter: UnityHealthAdapter) -> EnrollmentLookupPage:
        adapter.goto(cls.PATH)
        return cls(adapter)

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        adapter.expect_page(self.NAME, self.find(self.FORM))

    def check(self, npi: str) -> EnrollmentPage:
        self.required(self.NPI, "NPI field").fill(npi)
        self.required(self.CHECK, "'Check status' button").click()
        not_found = self.find(self.NOT_FOUND)
        self.adapter.expect_page(EnrollmentPage.NAME, self.find(EnrollmentPage.PROVIDER).or_(not_found))
        if not_found.first.is_visible():
            raise RecordNotFound(self.adapter.portal, "enrollment for NPI", npi)
        return EnrollmentPage(self.adapter)


class EnrollmentPage(UnityPage):
    NAME = "provider enrollment"
    PROVIDER = "#enrollment-provider"
    FIELD_ATTRIBUTE = "data-field"
    TABLE = "table#enrollment-status"
    HEADERS = ["Network", "Status", "Effective date", "Termination date", "Revalidation due", "Unity provider ID"]

    def __init__(self, adapter: UnityHealthAdapter) -> None:
        super().__init__(adapter)
        adapter.expect_page(self.NAME, self.find(self.PROVIDER))

    def read(self, npi: str) -> EnrollmentResult:
        a, name = self.adapter, self.NAME
        fields = self.required(self.PROVIDER, "provider summary").evaluate(READ_FIELDS_JS, self.FIELD_ATTRIBUTE)
        if fields.get("npi") != npi.strip():
            raise LayoutChanged(a.portal, name, "the page does not show the NPI asked for")
        rows = a.read_table(name, self.required(self.TABLE, "enrollment table"), self.HEADERS)
        if len(rows) != 1:  # Unity lists its one commercial network; more rows would need a rule to pick one
            raise LayoutChanged(a.portal, name, f"expected one enrollment row, found {len(rows)}")
        cells = rows[0].cells
        return EnrollmentResult(
            npi=fields["npi"],
            payer_id=UNITY_PAYER_ID,
            status=a.status_from(name, cells["Status"], ENROLLMENT_STATUS_BY_WORDS, "enrollment status"),
            effective=a.day(name, cells["Effective date"], "effective date"),
            termination=a.day(name, cells["Termination date"], "termination date"),
            revalidation_due=a.day(name, cells["Revalidation due"], "revalidation due date"),
            payer_provider_id=_blank_to_none(cells["Unity provider ID"]),
        )


def _normalise(words: str) -> str:
    return re.sub(r"\s+", " ", words.replace("–", "-").replace("—", "-")).strip().lower()


def _blank_to_none(text: str) -> str | None:
    return None if text.strip() in BLANK else text.strip()


def _retry_after(response: APIResponse) -> datetime | None:
    value = response.headers.get("retry-after", "")
    return datetime.now(timezone.utc) + timedelta(seconds=int(value)) if value.isdigit() else None
