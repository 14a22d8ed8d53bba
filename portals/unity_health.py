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
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import ClassVar
from urllib.parse import quote, urlencode

from playwright.sync_api import APIResponse, Locator
from playwright.sync_api import Error as PlaywrightError

from portals.balance import Entry, Line, Sheet
from portals.base import BLANK, FaultPage, PortalAdapter, date_ranges
from portals.capabilities import (
    AuthorizationLookup,
    ClaimList,
    EligibilityInquiry,
    EnrollmentLookup,
    MemberAuthorizations,
)
from portals.errors import (
    ClaimNotFound,
    LoginRejected,
    PasswordChangeRequired,
    PortalUnavailable,
    RateLimited,
    RecordNotFound,
    SessionExpired,
)
from portals.identifiers import same_id
from portals.pages import PageObject, PageReading, TableRow
from portals.types import (
    LISTABLE_FIELDS,
    Adjustment,
    AuthorizationResult,
    ClaimQuery,
    ClaimStatusResult,
    Credentials,
    EligibilityQuery,
    EligibilityResult,
    EnrollmentResult,
    ListedClaim,
)
from portals.unity_appeals import UnityAppeals
from portals.unity_auth_requests import UnityAuthRequests
from portals.unity_eligibility import unity_eligibility

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
LIST_MAX_DAYS = 366  # "the date of service range may not exceed 12 months"

# Every [data-field] inside a box, as field name -> text (one browser round trip per box).
READ_FIELDS_JS = """(box, attr) => Object.fromEntries(
  Array.from(box.querySelectorAll('[' + attr + ']'), el => [el.getAttribute(attr), el.innerText.trim()]))"""
EMPTY_ROW_CLASS = "uhp-table__empty"
US_DATE = "%m/%d/%Y"
PROCEDURE_CODE = re.compile(r"[A-Z0-9]{5}")
NPI_PATTERN = re.compile(r"\d{10}")


class UnityHealthAdapter(
    PortalAdapter,
    ClaimList,
    AuthorizationLookup,
    MemberAuthorizations,
    EnrollmentLookup,
    EligibilityInquiry,
    UnityAuthRequests,
    UnityAppeals,
):
    kind = "unity_health"
    fault_pages = (
        FaultPage("[data-fault=maintenance]", PortalUnavailable, "portal is down for scheduled maintenance"),
        FaultPage("[data-fault=rate_limited]", RateLimited, "portal says too many requests"),
        FaultPage("[data-fault=error]", PortalUnavailable, "portal shows its 'something went wrong' page"),
        FaultPage("#session-notice", SessionExpired, "portal sent the browser back to its sign-in page"),
    )

    def is_logged_in(self) -> bool:
        return HomePage(self).probe()

    def login(self) -> None:
        LoginPage.open(self).sign_in(self.credentials).acknowledge()

    def fetch_claim_status(self, query: ClaimQuery) -> ClaimStatusResult:
        detail_path = query.detail_path
        if detail_path is None:  # no list linked it: search for it, as a person would
            results = ClaimSearchPage.open(self).search(query.dos_from, query.dos_to, account=query.claim_id)
            detail_path = results.find_detail(query.claim_id, query.payer_claim_number)
        if detail_path is None:
            raise ClaimNotFound(self.portal, query.claim_id)
        return ClaimDetailPage.open(self, detail_path, query.next_detail_paths).read(query.claim_id)

    def list_claims(self, dos_from: date, dos_to: date) -> list[ListedClaim]:
        """Every claim with service dates in the range, from the portal's CSV of the search (one download per
        range it allows), each with the detail page its claim number links to in the results."""

        def listed() -> list[ListedClaim]:
            rows: list[ListedClaim] = []
            for start, end in date_ranges(dos_from, dos_to, LIST_MAX_DAYS):
                rows.extend(ClaimsCsv(self).listed(start, end))
            return rows

        return self.with_one_relogin(listed)

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

    def eligibility(self, query: EligibilityQuery) -> EligibilityResult:
        """The member's coverage and benefits for the visit; the answer page stays on screen for the evidence."""
        return self.with_one_relogin(lambda: unity_eligibility(self, query))


class LoginPage(PageObject[UnityHealthAdapter]):
    NAME = "sign in"
    PATH = "login"
    LANDMARK = "form#login-form"
    USERNAME = "#username"
    PASSWORD = "#password"  # noqa: S105  (a CSS selector, not a password)
    SIGN_IN = "#sign-in"
    WRONG_PASSWORD = "#login-error"  # noqa: S105  (a CSS selector, not a password)
    LOCKED = "#login-locked"

    @classmethod
    def open(cls, adapter: UnityHealthAdapter) -> LoginPage:
        return cls(adapter).visit()

    def sign_in(self, credentials: Credentials) -> NoticePage:
        self.adapter.fill_secret(self.required(self.USERNAME, "username field"), credentials.username)
        self.adapter.fill_secret(self.required(self.PASSWORD, "password field"), credentials.password)
        self.required(self.SIGN_IN, "sign-in button").click()
        wrong, locked = self.find(self.WRONG_PASSWORD), self.find(self.LOCKED)
        notice, expired = NoticePage(self.adapter), PasswordExpiredPage(self.adapter).landmark()
        self.adapter.expect_page("sign-in result", notice.landmark().or_(wrong).or_(locked).or_(expired))
        if expired.first.is_visible():
            raise PasswordChangeRequired(self.adapter.portal, "sign-in page")
        if locked.first.is_visible():
            raise LoginRejected(
                self.adapter.portal,
                "the account is locked; a person must unlock it on the portal before the worker signs in again",
            )
        if wrong.first.is_visible():
            raise LoginRejected(
                self.adapter.portal,
                "the portal refused the stored username or password; not retried; update the password in the keyring",
            )
        return notice.expect()


class PasswordExpiredPage(PageObject[UnityHealthAdapter]):
    """'Create a new password' (the stored one expired): shown instead of the terms notice; never filled in."""

    NAME = "password expired"
    LANDMARK = "#password-expired"


class NoticePage(PageObject[UnityHealthAdapter]):
    """'Important notice / terms of use': acknowledged once per session before any other page."""

    NAME = "terms notice"
    LANDMARK = "#terms-notice"
    ACKNOWLEDGE = "#acknowledge"

    def acknowledge(self) -> HomePage:
        self.required(self.ACKNOWLEDGE, "'I acknowledge' button").click()
        return HomePage(self.adapter).expect()


class HomePage(PageObject[UnityHealthAdapter]):
    NAME = "home"
    PATH = "home"
    LANDMARK = "#provider-home"

    def probe(self) -> bool:
        """Ask for home: True if it shows, False if the portal wants a sign-in or its notice first."""
        self.adapter.goto(self.PATH)
        home = self.landmark()
        try:
            self.adapter.expect_page(self.NAME, home.or_(NoticePage(self.adapter).landmark()))
        except SessionExpired:
            return False
        return home.first.is_visible()


class ClaimSearchPage(PageObject[UnityHealthAdapter]):
    NAME = "claim search"
    PATH = "claims"
    LANDMARK = "form#claim-search"
    DOS_FROM = "#dos-from"
    DOS_TO = "#dos-to"
    ACCOUNT = "#account-number"
    SEARCH = "#search-claims"

    @classmethod
    def open(cls, adapter: UnityHealthAdapter) -> ClaimSearchPage:
        return cls(adapter).visit()

    def search(self, dos_from: date, dos_to: date, *, account: str = "") -> ClaimResultsPage:
        self.required(self.DOS_FROM, "date of service from").fill(dos_from.strftime(US_DATE))
        self.required(self.DOS_TO, "date of service to").fill(dos_to.strftime(US_DATE))
        self.required(self.ACCOUNT, "claim/patient account number").fill(account)
        self.required(self.SEARCH, "search button").click()
        return ClaimResultsPage(self.adapter).expect()


class ClaimResultsPage(PageObject[UnityHealthAdapter]):
    NAME = "claim search results"
    TABLE = "table#claim-results"
    NO_RESULTS = "#no-claims"
    SEARCH_ERROR = "#search-error"
    HEADERS: ClassVar[list[str]] = [
        "Claim #",
        "Patient account #",
        "Member",
        "Date of service",
        "Billed",
        "Paid",
        "Status",
    ]
    NEXT = "a.uhp-pager__next"

    rows: list[TableRow]

    def landmark(self) -> Locator:
        return self.find(self.TABLE).or_(self.find(self.NO_RESULTS)).or_(self.find(self.SEARCH_ERROR))

    def expect(self) -> ClaimResultsPage:
        """The results (or the portal's refusal of the form), read at once: the pager leaves this page."""
        super().expect()
        if self.shows(self.SEARCH_ERROR):
            raise self.changed("the portal refused the search form as filled in")
        table = self.find(self.TABLE)
        self.rows = self.table_rows(table.first, self.HEADERS, skip_class=EMPTY_ROW_CLASS) if table.count() else []
        return self

    def find_detail(self, claim_id: str, payer_claim_number: str | None) -> str | None:
        """The detail page path of the claim, looking through every result page."""
        page: ClaimResultsPage | None = self
        while page is not None:
            for row in page.rows:
                if not same_id(row.cells["Patient account #"], claim_id):
                    continue
                if payer_claim_number and not same_id(row.cells["Claim #"], payer_claim_number):
                    continue
                return self.adapter.portal_path(self.NAME, row.links["Claim #"])
            page = page.next_page()
        return None

    def next_page(self) -> ClaimResultsPage | None:
        link = self.find(self.NEXT)
        if link.count() == 0:
            return None
        self.adapter.goto(self.adapter.portal_path(self.NAME, link.first.evaluate("a => a.href")))
        return ClaimResultsPage(self.adapter).expect()


class ClaimsCsv(PageObject[UnityHealthAdapter]):
    """The results' 'Download CSV' file: one row per claim in the search, statuses in words.

    Not shown in the browser, so it has no landmark: its columns say whether it is the file expected.
    The portal lists at most LIST_MAX_DAYS of service dates at once."""

    NAME = "claims CSV export"
    COLUMNS: ClassVar[list[str]] = [
        "Claim Number",
        "Patient Account Number",
        "Billed Amount",
        "Allowed Amount",
        "Paid Amount",
        "Claim Status",
        "Status Date",
        "Payment Number",
        "Payment Date",
    ]

    PATH = "claims/export.csv"
    # What the file shows of a claim: all but the 277 status code, which Unity never shows (nor its detail page).
    SHOWS = LISTABLE_FIELDS - {"status_code"}

    def listed(self, dos_from: date, dos_to: date) -> list[ListedClaim]:
        """The file of one search by its address (the search form is a GET form), fetched with the page's cookies."""
        query = urlencode(
            {"dos_from": dos_from.strftime(US_DATE), "dos_to": dos_to.strftime(US_DATE), "status": "", "account": ""}
        )
        try:
            response = self.adapter.fetch(
                self.adapter.url(f"{self.PATH}?{query}"), timeout=self.adapter.timeouts.navigation_ms
            )
        except PlaywrightError as exc:
            raise PortalUnavailable(self.adapter.portal, "could not download the claims CSV") from exc
        try:
            return [
                ListedClaim(result, self.SHOWS, ClaimDetailPage.path_for(result.payer_claim_number))
                for result in self.parse(response)
            ]
        finally:
            response.dispose()

    def parse(self, response: APIResponse) -> list[ClaimStatusResult]:
        portal = self.adapter.portal
        self.adapter.raise_for_status(response.status, response.headers.get("retry-after"))
        if response.url.split("?")[0].endswith("/login"):
            raise SessionExpired(portal, "portal sent the CSV download to its sign-in page")
        if "text/csv" not in response.headers.get("content-type", ""):
            raise self.changed("the download is not a CSV file")
        reader = csv.DictReader(io.StringIO(response.text()))
        missing = [c for c in self.COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise self.changed(f"columns {missing} are missing")
        return [self._result(row) for row in reader]

    def _result(self, row: dict[str, str]) -> ClaimStatusResult:
        claim_id = row["Patient Account Number"].strip()
        return ClaimStatusResult(
            claim_id=claim_id,
            category_code=self.word(CATEGORY_BY_STATUS, row["Claim Status"], f"claim {claim_id}: status"),
            status_code=None,
            status_text=row["Claim Status"].strip(),
            status_date=self.day(row["Status Date"], "status date"),
            payer_claim_number=row["Claim Number"].strip(),
            billed_amount=self.money(row["Billed Amount"], "billed amount"),
            allowed_amount=self.money(row["Allowed Amount"], "allowed amount"),
            paid_amount=self.money(row["Paid Amount"], "paid amount"),
            check_number=_blank_to_none(row["Payment Number"]),
            payment_date=self.day(row["Payment Date"], "payment date"),
        )


class ClaimDetailPage(PageObject[UnityHealthAdapter]):
    NAME = "claim detail"
    LANDMARK = "#claim-summary"
    FIELD_ATTRIBUTE = "data-field"
    FIELDS = (
        "claim-number",
        "patient-account",
        "status",
        "status-date",
        "billed",
        "allowed",
        "paid",
        "patient-responsibility",
        "payment-number",
        "payment-date",
    )
    LINES = "table#service-lines"
    LINE_HEADERS: ClassVar[list[str]] = ["Line", "Date of service", "Procedure", "Units", "Billed", "Allowed", "Paid"]
    ADJUSTMENTS = "table#line-adjustments"
    ADJUSTMENT_HEADERS: ClassVar[list[str]] = ["Line", "Group code", "Reason code", "Amount", "Remark codes"]
    CLAIM_LEVEL = "Claim"  # what the Line column says for a claim-level adjustment
    NEXT_PAGE = "a.uhp-pager__next"  # the adjustments of a long claim, a page at a time

    PATH = "claims/detail/{claim_number}"  # where the results' claim number links

    @classmethod
    def open(cls, adapter: UnityHealthAdapter, path: str, ahead: Sequence[str] = ()) -> ClaimDetailPage:
        return cls(adapter).open_in_place(path, ahead=ahead)

    @classmethod
    def path_for(cls, claim_number: str | None) -> str | None:
        return cls.PATH.format(claim_number=quote(claim_number, safe="")) if claim_number else None

    def read(self, claim_id: str) -> ClaimStatusResult:
        read = self._read_page()
        missing = [f for f in self.FIELDS if read.fields[f] is None]
        if missing:
            raise self.changed(f"claim {claim_id}: summary fields {missing} are missing")
        fields = {f: read.fields[f] or "" for f in self.FIELDS}
        if not same_id(fields["patient-account"], claim_id):
            raise self.changed(f"the page shows another claim than {claim_id}")
        billed = self.money(fields["billed"], "billed amount")
        paid = self.money(fields["paid"], "paid amount")
        patient = self.money(fields["patient-responsibility"], "patient responsibility")
        adjustments, sheet = self.adjustments(read, claim_id, billed, paid, patient)
        self.require_balance(sheet, claim_id)
        return ClaimStatusResult(
            claim_id=claim_id,
            category_code=self.word(CATEGORY_BY_STATUS, fields["status"], f"claim {claim_id}: status"),
            status_code=None,
            status_text=fields["status"],
            status_date=self.day(fields["status-date"], "status date"),
            payer_claim_number=fields["claim-number"],
            billed_amount=billed,
            allowed_amount=self.money(fields["allowed"], "allowed amount"),
            paid_amount=paid,
            check_number=_blank_to_none(fields["payment-number"]),
            payment_date=self.day(fields["payment-date"], "payment date"),
            adjustments=adjustments,
        )

    def _read_page(self) -> PageReading:
        """The summary's fields, both tables and the adjustments' pager, in one round trip."""
        return self.read_in_one_trip(
            box=self.LANDMARK,
            fields={f: f'[{self.FIELD_ATTRIBUTE}="{f}"]' for f in self.FIELDS},
            links={"next": self.NEXT_PAGE},
            tables={"lines": self.LINES, "adjustments": self.ADJUSTMENTS},
        )

    def adjustments(
        self, read: PageReading, claim_id: str, billed: Decimal | None, paid: Decimal | None, patient: Decimal | None
    ) -> tuple[tuple[Adjustment, ...], Sheet]:
        """The adjustments on every page of the table, and the page's money to balance them against."""
        lines = self.rows_in(read, "lines", self.LINE_HEADERS, "service lines table", skip_class=EMPTY_ROW_CLASS)
        procedure_by_line = {row.cells["Line"]: row.cells["Procedure"] for row in lines}
        line_money = tuple(self._line_money(row) for row in lines)
        found: list[Adjustment] = []
        entries: list[Entry] = []
        pages = self.every_page_read(read, self._read_page, "adjustments", "next", "adjustments table")
        for row in (
            row
            for page in pages
            for row in self.rows_in(
                page, "adjustments", self.ADJUSTMENT_HEADERS, "adjustments table", skip_class=EMPTY_ROW_CLASS
            )
        ):
            line = row.cells["Line"]
            if line != self.CLAIM_LEVEL and line not in procedure_by_line:
                raise self.changed(f"claim {claim_id}: an adjustment names an unknown line")
            amount = self.money(row.cells["Amount"], "adjustment amount")
            if amount is None:
                raise self.changed(f"claim {claim_id}: an adjustment has no amount")
            found.append(
                Adjustment(
                    group_code=row.cells["Group code"],
                    carc=row.cells["Reason code"],
                    amount=amount,
                    rarcs=tuple(r.strip() for r in row.cells["Remark codes"].split(",") if r.strip() not in BLANK),
                    line_procedure=procedure_by_line.get(line),
                )
            )
            entries.append(Entry(row.cells["Group code"], amount, None if line == self.CLAIM_LEVEL else line))
        return tuple(found), Sheet(billed, paid, tuple(entries), line_money, patient)

    def _line_money(self, row: TableRow) -> Line:
        billed = self.money(row.cells["Billed"], "line billed amount")
        if billed is None:
            raise self.changed("a service line has no billed amount")
        return Line(row.cells["Line"], billed, self.money(row.cells["Paid"], "line paid amount"))


class AuthLookupPage(PageObject[UnityHealthAdapter]):
    """'Prior authorizations': look one up by number, or list a member's."""

    NAME = "authorization lookup"
    PATH = "authorizations"
    LANDMARK = "form#auth-lookup"
    NUMBER = "#auth-number"
    LOOK_UP = "#find-auth"
    NOT_FOUND = "#auth-not-found"
    MEMBER_ID = "#auth-member-id"
    SHOW_MEMBER = "#find-member-auths"
    MEMBER_ERROR = "#member-auth-error"

    @classmethod
    def open(cls, adapter: UnityHealthAdapter) -> AuthLookupPage:
        return cls(adapter).visit()

    def look_up(self, auth_number: str) -> AuthDetailPage:
        self.required(self.NUMBER, "authorization number field").fill(auth_number)
        self.required(self.LOOK_UP, "look-up button").click()
        detail, not_found = AuthDetailPage(self.adapter), self.find(self.NOT_FOUND)
        self.adapter.expect_page(detail.NAME, detail.landmark().or_(not_found))
        if not_found.first.is_visible():
            raise RecordNotFound(self.adapter.portal, "authorization", auth_number)
        return detail.expect()

    def member_list(self, member_id: str) -> MemberAuthsPage:
        self.required(self.MEMBER_ID, "member ID field").fill(member_id)
        self.required(self.SHOW_MEMBER, "'Show authorizations' button").click()
        return MemberAuthsPage(self.adapter).expect()


class AuthDetailPage(PageObject[UnityHealthAdapter]):
    NAME = "authorization detail"
    LANDMARK = "#auth-summary"
    FIELD_ATTRIBUTE = "data-field"
    FIELDS = ("auth-number", "member-id", "servicing-npi", "status", "start", "end", "units-approved", "units-used")
    SERVICES = "table#auth-services"
    SERVICE_HEADERS: ClassVar[list[str]] = ["Procedure code", "Description"]

    @classmethod
    def open(cls, adapter: UnityHealthAdapter, path: str) -> AuthDetailPage:
        adapter.goto(path)
        return cls(adapter).expect()

    def read(self, auth_number: str) -> AuthorizationResult:
        fields = self.required(self.LANDMARK, "authorization summary").evaluate(READ_FIELDS_JS, self.FIELD_ATTRIBUTE)
        missing = [f for f in self.FIELDS if f not in fields]
        if missing:
            raise self.changed(f"summary fields {missing} are missing")
        if not same_id(fields["auth-number"], auth_number):
            raise self.changed("the page shows another authorization than the one asked for")
        npi = fields["servicing-npi"]
        if npi not in BLANK and not NPI_PATTERN.fullmatch(npi):
            raise self.changed("servicing provider NPI is not an NPI")
        return AuthorizationResult(
            auth_number=fields["auth-number"],
            status=self.word(AUTH_STATUS_BY_WORDS, fields["status"], "authorization status"),
            procedure_codes=self.procedure_codes(),
            units_approved=self.count(fields["units-approved"], "units approved"),
            units_used=self.count(fields["units-used"], "units used"),
            servicing_npi=_blank_to_none(npi),
            start=self.day(fields["start"], "start date"),
            end=self.day(fields["end"], "end date"),
            denial_reason=_blank_to_none(fields.get("denial-reason", "")),
            member_id=_blank_to_none(fields["member-id"]),
        )

    def procedure_codes(self) -> tuple[str, ...]:
        rows = self.table_rows(
            self.required(self.SERVICES, "services table"), self.SERVICE_HEADERS, skip_class=EMPTY_ROW_CLASS
        )
        codes = tuple(row.cells["Procedure code"] for row in rows)
        if not all(PROCEDURE_CODE.fullmatch(code) for code in codes):
            raise self.changed("a procedure code is not a CPT/HCPCS code")
        return codes


class MemberAuthsPage(PageObject[UnityHealthAdapter]):
    """The authorizations Unity has on file for one member."""

    NAME = "member authorizations"
    TABLE = "table#member-auth-list"
    NO_AUTHS = "#no-member-auths"
    HEADERS: ClassVar[list[str]] = [
        "Authorization #",
        "Status",
        "Procedure codes",
        "Start date",
        "End date",
        "Servicing provider NPI",
    ]

    rows: list[TableRow]

    def landmark(self) -> Locator:
        return self.find(self.TABLE).or_(self.find(self.NO_AUTHS)).or_(self.find(AuthLookupPage.MEMBER_ERROR))

    def expect(self) -> MemberAuthsPage:
        """The member's list (or the portal's refusal of the form), read at once."""
        super().expect()
        if self.shows(AuthLookupPage.MEMBER_ERROR):
            raise self.changed("the portal refused the member ID form as filled in")
        table = self.find(self.TABLE)
        self.rows = self.table_rows(table.first, self.HEADERS, skip_class=EMPTY_ROW_CLASS) if table.count() else []
        return self

    def detail_paths(self) -> list[tuple[str, str]]:
        """(authorization number, path of its detail page) for every row."""
        found = []
        for row in self.rows:
            href = row.links["Authorization #"]
            if not href:
                raise self.changed("an authorization number has no link")
            found.append((row.cells["Authorization #"], self.adapter.portal_path(self.NAME, href)))
        return found


class EnrollmentLookupPage(PageObject[UnityHealthAdapter]):
    NAME = "provider enrollment lookup"
    PATH = "enrollment"
    LANDMARK = "form#enrollment-lookup"
    NPI = "#provider-npi"
    CHECK = "#check-enrollment"
    NOT_FOUND = "#enrollment-not-found"

    @classmethod
    def open(cls, adapter: UnityHealthAdapter) -> EnrollmentLookupPage:
        return cls(adapter).visit()

    def check(self, npi: str) -> EnrollmentPage:
        self.required(self.NPI, "NPI field").fill(npi)
        self.required(self.CHECK, "'Check status' button").click()
        enrollment, not_found = EnrollmentPage(self.adapter), self.find(self.NOT_FOUND)
        self.adapter.expect_page(enrollment.NAME, enrollment.landmark().or_(not_found))
        if not_found.first.is_visible():
            raise RecordNotFound(self.adapter.portal, "enrollment for NPI", npi)
        return enrollment.expect()


class EnrollmentPage(PageObject[UnityHealthAdapter]):
    NAME = "provider enrollment"
    LANDMARK = "#enrollment-provider"
    FIELD_ATTRIBUTE = "data-field"
    TABLE = "table#enrollment-status"
    HEADERS: ClassVar[list[str]] = [
        "Network",
        "Status",
        "Effective date",
        "Termination date",
        "Revalidation due",
        "Unity provider ID",
    ]

    def read(self, npi: str) -> EnrollmentResult:
        fields = self.required(self.LANDMARK, "provider summary").evaluate(READ_FIELDS_JS, self.FIELD_ATTRIBUTE)
        if fields.get("npi") != npi.strip():
            raise self.changed("the page does not show the NPI asked for")
        rows = self.table_rows(self.required(self.TABLE, "enrollment table"), self.HEADERS, skip_class=EMPTY_ROW_CLASS)
        if len(rows) != 1:  # Unity lists its one commercial network; more rows would need a rule to pick one
            raise self.changed(f"expected one enrollment row, found {len(rows)}")
        cells = rows[0].cells
        return EnrollmentResult(
            npi=fields["npi"],
            payer_id=UNITY_PAYER_ID,
            status=self.word(ENROLLMENT_STATUS_BY_WORDS, cells["Status"], "enrollment status"),
            effective=self.day(cells["Effective date"], "effective date"),
            termination=self.day(cells["Termination date"], "termination date"),
            revalidation_due=self.day(cells["Revalidation due"], "revalidation due date"),
            payer_provider_id=_blank_to_none(cells["Unity provider ID"]),
        )


def _blank_to_none(text: str) -> str | None:
    return None if text.strip() in BLANK else text.strip()
