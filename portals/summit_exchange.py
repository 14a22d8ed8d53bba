"""Summit Exchange, the multi-payer clearinghouse: password + TOTP sign-in, JS-rendered claim search.

Pages, in the order a person meets them: sign-in (or "your password has expired",
which stops the login), two-step verification, home, claim status search (its
results come from a JSON call the page's JavaScript makes, so the adapter
watches that call's HTTP status), the claim list and claim detail (their page
objects are in portals/summit_claims.py), remittances (the ERA/835 files,
downloaded with the browser's own cookies), and provider enrollment (one row
per payer behind the exchange, with ERA/EFT enrollment).
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import Enum
from typing import ClassVar

import pyotp
from playwright.sync_api import APIResponse, Locator, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from portals.base import BLANK, FaultPage, PortalAdapter, Timeouts, date_ranges
from portals.capabilities import ClaimList, EligibilityInquiry, PayerEnrollments, RemittanceFiles
from portals.errors import (
    LoginRejected,
    MfaRejected,
    MfaRequired,
    PasswordChangeRequired,
    PortalError,
    PortalUnavailable,
    RateLimited,
    RecordNotFound,
    SessionExpired,
)
from portals.identifiers import normal_id
from portals.pages import PageObject
from portals.summit_appeals import SummitAppeals
from portals.summit_claims import LIST_MAX_DAYS, ClaimDetailPage, ClaimListPage, ClaimSearchPage
from portals.summit_eligibility import summit_eligibility
from portals.types import (
    ClaimQuery,
    ClaimStatusResult,
    Credentials,
    EligibilityQuery,
    EligibilityResult,
    EnrollmentResult,
    ListedClaim,
    RemittanceFile,
)

TOTP_STEP_S = 30


class LoginPage(PageObject["SummitExchangeAdapter"]):
    NAME = "sign-in"
    PATH = "login"
    LANDMARK = "#login-form"
    USERNAME = "#username"
    PASSWORD = "#password"  # noqa: S105  (a CSS selector, not a password)
    SUBMIT = "#sign-in"
    ERROR = "#login-error"

    def open(self) -> LoginPage:
        return self.visit()

    def sign_in(self, username: str, password: str) -> bool:
        """Submit the form; True when the portal asks for a verification code next."""
        self.adapter.fill_secret(self.required(self.USERNAME, "user ID field"), username)
        self.adapter.fill_secret(self.required(self.PASSWORD, "password field"), password)
        self.adapter.submit(self.required(self.SUBMIT, "sign-in button"), self.PATH)
        code_form = MfaPage(self.adapter).landmark()
        error = self.find(self.ERROR)
        expired = PasswordExpiredPage(self.adapter).landmark()
        self.adapter.expect_page(
            self.NAME, code_form.or_(DashboardPage(self.adapter).landmark()).or_(error).or_(expired)
        )
        if expired.first.is_visible():
            raise PasswordChangeRequired(self.adapter.portal, "sign-in page")
        if error.first.is_visible():
            if "locked" in error.first.inner_text().lower():
                raise LoginRejected(
                    self.adapter.portal, "sign-in page: the account is locked; an administrator must unlock it"
                )
            raise LoginRejected(self.adapter.portal, "sign-in page: the portal refused the user ID or password")
        return code_form.first.is_visible()


class PasswordExpiredPage(PageObject["SummitExchangeAdapter"]):
    """'Your password has expired': shown instead of the next step; its form is never filled in."""

    NAME = "password expired"
    LANDMARK = "#password-expired"


class CodeVerdict(Enum):
    ACCEPTED = "accepted"
    REUSED = "reused"  # someone already spent this code: the next window's code may still pass
    REFUSED = "refused"


class MfaPage(PageObject["SummitExchangeAdapter"]):
    NAME = "two-step verification"
    PATH = "mfa"
    LANDMARK = "#mfa-form"
    CODE = "#otp-code"
    SUBMIT = "#verify-code"
    ERROR = "#mfa-error"
    REUSED_TEXT = re.compile(r"already been used", re.IGNORECASE)

    def open(self) -> MfaPage:
        return self.visit()

    def enter_code(self, code: str) -> CodeVerdict:
        self.adapter.fill_secret(self.required(self.CODE, "verification code field"), code)
        self.adapter.submit(self.required(self.SUBMIT, "verify button"), self.PATH)
        error = self.find(self.ERROR)
        self.adapter.expect_page(self.NAME, DashboardPage(self.adapter).landmark().or_(error))
        if not error.first.is_visible():
            return CodeVerdict.ACCEPTED
        return CodeVerdict.REUSED if self.REUSED_TEXT.search(error.first.inner_text()) else CodeVerdict.REFUSED


class DashboardPage(PageObject["SummitExchangeAdapter"]):
    NAME = "home"
    PATH = "dashboard"
    LANDMARK = "#dashboard"


class RemittanceNotFound(PortalError):
    """The portal does not (or no longer does) offer this remittance file."""

    def __init__(self, portal: str, file_id: str) -> None:
        super().__init__(portal, f"remittances page: no remittance file {file_id} on offer")
        self.file_id = file_id


class RemittancesPage(PageObject["SummitExchangeAdapter"]):
    """The ERA (835) files the payers behind the exchange produced, newest first."""

    NAME = "remittances"
    PATH = "remittances"
    LANDMARK = "#remittances"
    TABLE = "#remittance-files"
    EMPTY = "#remittances .no-remittances"
    DOWNLOAD_LINK = "a.download-era"
    COLUMNS: ClassVar[list[str]] = ["File ID", "Payer", "Payment Date", "Trace Number", "Claims", "Amount", "Download"]
    FILE_ID_COLUMN, PAYMENT_DATE_COLUMN, DOWNLOAD_COLUMN = 0, 2, 6
    FILE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
    X12_STARTS = (b"ISA", b"ST")
    LEADING_NOISE = b"\xef\xbb\xbf \t\r\n"  # a byte-order mark or blank lines before the first segment

    def open(self) -> RemittancesPage:
        return self.visit()

    def files(self) -> list[tuple[RemittanceFile, str]]:
        """Every listed file, with the portal path its download link leads to."""
        table, empty = self.find(self.TABLE), self.find(self.EMPTY)
        self.adapter.expect_page(self.NAME, table.or_(empty))
        if empty.first.is_visible():
            return []
        self.require_headers(table.first.locator("thead th"), self.COLUMNS)
        return [self._listed(row) for row in table.first.locator("tbody tr").all()]

    def _listed(self, row: Locator) -> tuple[RemittanceFile, str]:
        cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
        if len(cells) != len(self.COLUMNS):
            raise self.changed("a file row has an unexpected number of cells")
        file_id = cells[self.FILE_ID_COLUMN]
        if not self.FILE_ID.fullmatch(file_id):
            raise self.changed("a file row has no file id")
        issued = self.day(cells[self.PAYMENT_DATE_COLUMN], "payment date")
        if issued is None:
            raise self.changed(f"file {file_id} has no payment date")
        href = self.required(row.locator(self.DOWNLOAD_LINK), "download link").get_attribute("href")
        if not href:
            raise self.changed(f"the download link of file {file_id} has no address")
        name = cells[self.DOWNLOAD_COLUMN] or file_id
        return RemittanceFile(file_id, name, issued), self.adapter.portal_path(self.NAME, href)

    def download(self, path: str, file_id: str) -> bytes:
        """Fetch one file with the browser's cookies, as its download link would."""
        try:
            response = self.adapter.fetch(
                self.adapter.url(path), max_redirects=0, timeout=self.adapter.timeouts.navigation_ms
            )
        except PlaywrightError as exc:
            raise PortalUnavailable(
                self.adapter.portal, f"{self.NAME}: no answer to the download of file {file_id}"
            ) from exc
        try:
            return self._x12_body(response, file_id)
        finally:
            response.dispose()

    def _x12_body(self, response: APIResponse, file_id: str) -> bytes:
        to_login = response.status in {301, 302, 303, 307} and "/login" in response.headers.get("location", "")
        if response.status == 401 or to_login:
            raise SessionExpired(self.adapter.portal, f"{self.NAME}: the portal ended the session")
        self.adapter.raise_for_response(response)  # type: ignore[arg-type]  # reads only status and headers
        if response.status == 404:
            raise RemittanceNotFound(self.adapter.portal, file_id)
        if response.status != 200:
            raise self.changed(f"the download answered HTTP {response.status}")
        body = response.body()
        if not body.lstrip(self.LEADING_NOISE).startswith(self.X12_STARTS):
            raise self.changed(f"file {file_id} is not an X12 835 file")
        return body


# Summit's wording of an enrollment status -> EnrollmentResult.status
ENROLLMENT_STATUSES = {"in process": "in_process", "enrolled": "active", "denied": "denied", "terminated": "terminated"}
# Summit's wording of ERA/EFT enrollment -> EnrollmentResult.era_enrolled / eft_enrolled
ERA_EFT_ENROLLED = {"enrolled": True, "not enrolled": False}


class EnrollmentPage(PageObject["SummitExchangeAdapter"]):
    """Provider enrollment: an NPI in, one row per payer behind the exchange out."""

    NAME = "provider enrollment"
    PATH = "enrollment"
    LANDMARK = "#provider-enrollment"
    FORM = "#enrollment-form"
    NPI = "#enrollment-npi"
    SUBMIT = "#find-enrollments"
    ERROR = "#enrollment-error"
    SHOWN_NPI = "#enrollment-for-npi"
    TABLE = "#enrollment-records"
    EMPTY = "#provider-enrollment .no-enrollments"
    COLUMNS: ClassVar[list[str]] = [
        "Payer ID",
        "Payer",
        "Enrollment Status",
        "Effective Date",
        "Termination Date",
        "Revalidation Due",
        "Payer Provider ID",
        "ERA (835)",
        "EFT",
    ]
    RECORD_KIND = "enrollment records for NPI"
    PAYER_ID = re.compile(r"[A-Z0-9]{2,10}")

    def open(self) -> EnrollmentPage:
        return self.visit()

    def look_up(self, npi: str) -> list[EnrollmentResult]:
        self.required(self.NPI, "NPI field").fill(npi)
        self.adapter.submit(self.required(self.SUBMIT, "look-up button"), self.PATH)
        table, empty, error = (self.find(s) for s in (self.TABLE, self.EMPTY, self.ERROR))
        self.adapter.expect_page(self.NAME, table.or_(empty).or_(error))
        if empty.first.is_visible() or error.first.is_visible():  # the portal knows no such (or no valid) NPI
            raise RecordNotFound(self.adapter.portal, self.RECORD_KIND, npi)
        if self.text(self.SHOWN_NPI, "NPI the records belong to") != npi:
            raise self.changed("it shows the records of another NPI")
        self.require_headers(table.first.locator("thead th"), self.COLUMNS)
        return [self._record(npi, row) for row in table.first.locator("tbody tr").all()]

    def _record(self, npi: str, row: Locator) -> EnrollmentResult:
        cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
        if len(cells) != len(self.COLUMNS):
            raise self.changed("an enrollment row has an unexpected number of cells")
        payer_id, _payer, status, effective, termination, revalidation, provider_id, era, eft = cells
        if not self.PAYER_ID.fullmatch(payer_id):
            raise self.changed("an enrollment row has no payer id")
        return EnrollmentResult(
            npi=npi,
            payer_id=payer_id,
            status=self.word(ENROLLMENT_STATUSES, status, "enrollment status"),
            effective=self.day(effective, "effective date"),
            termination=self.day(termination, "termination date"),
            revalidation_due=self.day(revalidation, "revalidation due date"),
            payer_provider_id=None if provider_id in BLANK else provider_id,
            era_enrolled=self.word(ERA_EFT_ENROLLED, era, "ERA enrollment"),
            eft_enrolled=self.word(ERA_EFT_ENROLLED, eft, "EFT enrollment"),
        )


class SummitExchangeAdapter(
    PortalAdapter, ClaimList, RemittanceFiles, PayerEnrollments, EligibilityInquiry, SummitAppeals
):
    kind = "summit_exchange"
    fault_pages = (
        FaultPage("text=/scheduled maintenance/i", PortalUnavailable, "portal is down for scheduled maintenance"),
        FaultPage("text=/too many requests/i", RateLimited, "portal is rate limiting (too many requests)"),
        FaultPage("text=/something went wrong/i", PortalUnavailable, "portal showed its error page"),
        FaultPage(
            "text=/your session has expired|please sign in to continue/i", SessionExpired, "portal ended the session"
        ),
    )

    def __init__(
        self, page: Page, *, portal: str, base_url: str, credentials: Credentials, timeouts: Timeouts = Timeouts()
    ) -> None:
        super().__init__(page, portal=portal, base_url=base_url, credentials=credentials, timeouts=timeouts)
        # The portal accepts a code once: a re-login inside the same 30 s window needs the next one.
        self._spent_codes: deque[str] = deque(maxlen=4)
        self._remittance_paths: dict[str, str] = {}  # file id -> download path, from the last listing

    def is_logged_in(self) -> bool:
        self.goto(DashboardPage.PATH)
        home, sign_in = DashboardPage(self).landmark(), LoginPage(self).landmark()
        try:
            self.expect_page(DashboardPage.NAME, home.or_(sign_in))
        except SessionExpired:
            return False
        return home.first.is_visible()

    def login(self) -> None:
        if LoginPage(self).open().sign_in(self.credentials.username, self.credentials.password):
            self._pass_two_step_verification()
        DashboardPage(self).expect()

    def fetch_claim_status(self, query: ClaimQuery) -> ClaimStatusResult:
        path = query.detail_path
        if path is None:  # no list linked it: search for it, as a person would
            results = ClaimSearchPage(self).open().search(query, self.call_json_api)
            path = results.detail_path_for(query.claim_id)
        return ClaimDetailPage(self).open(path, query.claim_id, query.next_detail_paths).read(query.claim_id)

    def list_claims(self, dos_from: date, dos_to: date) -> list[ListedClaim]:
        """Every claim whose service dates overlap the range, from the claim list (every page of each range of
        at most 93 days it allows), each with its detail page; a claim two ranges both list is listed once."""

        def listed() -> list[ListedClaim]:
            rows: dict[str, ListedClaim] = {}
            for start, end in date_ranges(dos_from, dos_to, LIST_MAX_DAYS):
                for row in ClaimListPage(self).listed(start, end):
                    rows.setdefault(normal_id(row.claim_id), row)
            return list(rows.values())

        return self.with_one_relogin(listed)

    def list_remittances(self) -> list[RemittanceFile]:
        """The ERA (835) files on offer, newest first; a session that expired gets one fresh login."""
        return self.with_one_relogin(lambda: [file for file, _ in self._listed_remittances()])

    def download_remittance(self, file: RemittanceFile) -> bytes:
        """The 835 file's bytes, as the portal serves them."""
        return self.with_one_relogin(lambda: self._download_remittance(file))

    def enrollments(self, npi: str) -> list[EnrollmentResult]:
        """The provider's enrollment with each payer behind the exchange; RecordNotFound if it has none."""
        return self.with_one_relogin(lambda: EnrollmentPage(self).open().look_up(npi))

    def eligibility(self, query: EligibilityQuery) -> EligibilityResult:
        """The member's coverage and benefits with the payer asked; the answer stays on screen for the evidence."""
        return self.with_one_relogin(lambda: summit_eligibility(self, query, self.call_json_api))

    def _listed_remittances(self) -> list[tuple[RemittanceFile, str]]:
        listed = RemittancesPage(self).open().files()
        self._remittance_paths.update({file.file_id: path for file, path in listed})
        return listed

    def _download_remittance(self, file: RemittanceFile) -> bytes:
        path = self._remittance_paths.get(file.file_id)
        if path is None:  # a file listed by another run: find its link again
            path = next((p for listed, p in self._listed_remittances() if listed.file_id == file.file_id), None)
        if path is None:
            raise RemittanceNotFound(self.portal, file.file_id)
        return RemittancesPage(self).download(path, file.file_id)

    # --- helpers the page objects share ---------------------------------

    def submit(self, button: Locator, path: str) -> None:
        """Click a form's submit button; a 429/5xx answer to the POST becomes a typed error."""
        target = self.url(path)
        try:
            with self.page.expect_response(
                lambda r: r.request.method == "POST" and r.url.split("?")[0] == target,
                timeout=self.timeouts.navigation_ms,
            ) as posted:
                button.click()
        except PlaywrightTimeout:
            raise PortalUnavailable(self.portal, f"no answer to the {path} form in time") from None
        self.raise_for_response(posted.value)

    def call_json_api(self, path: str, trigger: Callable[[], None], *, page_name: str) -> None:
        """Do what makes the page's JavaScript call `path`; its 401/429/5xx become typed errors."""
        target = self.url(path)
        try:
            with self.page.expect_response(
                lambda r: r.url.split("?")[0] == target, timeout=self.timeouts.navigation_ms
            ) as answered:
                trigger()
        except PlaywrightTimeout:
            raise PortalUnavailable(self.portal, f"{page_name}: no answer from the search service in time") from None
        if answered.value.status == 401:
            raise SessionExpired(self.portal, f"{page_name}: the portal ended the session")
        self.raise_for_response(answered.value)

    def _pass_two_step_verification(self) -> None:
        page = MfaPage(self).expect()
        secret = self.credentials.totp_secret
        if not secret:
            raise MfaRequired(
                self.portal,
                "two-step verification page: it asks for an authenticator code "
                "but no TOTP secret is stored for this account",
            )
        for attempt, code in enumerate(self._unspent_codes(secret)):
            if attempt:
                page.open()  # a fresh form, so the last attempt's error is not read again
            verdict = page.enter_code(code)
            self._spent_codes.append(code)
            if verdict is CodeVerdict.ACCEPTED:
                return
            if verdict is CodeVerdict.REFUSED:
                break
        raise MfaRejected(self.portal, "two-step verification page: the portal refused the authenticator code")

    def _unspent_codes(self, secret: str) -> list[str]:
        """This window's code, then the next window's (the portal accepts one window either side)."""
        now = time.time()
        try:
            totp = pyotp.TOTP(secret)
            codes = [totp.at(now), totp.at(now + TOTP_STEP_S)]
        except ValueError:  # binascii.Error is a ValueError: the stored seed is not base32
            raise MfaRequired(
                self.portal, "the stored TOTP secret is not valid base32; enrol the authenticator again"
            ) from None
        fresh = [code for code in dict.fromkeys(codes) if code not in self._spent_codes]
        if not fresh:  # a third login inside one window: only the next window brings an unspent code
            next_window = (int(now) // TOTP_STEP_S + 1) * TOTP_STEP_S
            raise PortalUnavailable(
                self.portal,
                "both usable authenticator codes were already spent; retry in the next 30 s window",
                datetime.fromtimestamp(next_window, UTC),
            )
        return fresh
