"""Lakeshore State Medicaid: a legacy state MMIS portal (user id, password, security question).

Claim status (276/277) and the claim list by dates of service (their pages in `portals.lakeshore_claims`),
prior authorization inquiry and provider enrollment status.
The portal answers HTTP 200 for its maintenance and session-timeout pages, so those
are recognised by what they say (`fault_pages`), not by their status code. An expired
password gets its PASSWORD EXPIRED page instead of the question: the login stops there.
"""

from __future__ import annotations

import re
from datetime import date
from typing import ClassVar

from portals.base import FaultPage, PortalAdapter, date_ranges
from portals.capabilities import (
    AuthorizationLookup,
    ClaimList,
    EligibilityInquiry,
    EnrollmentLookup,
    MemberAuthorizations,
)
from portals.errors import (
    LoginRejected,
    MfaRejected,
    MfaRequired,
    PasswordChangeRequired,
    PortalUnavailable,
    RateLimited,
    RecordNotFound,
    SessionExpired,
)
from portals.identifiers import same_id
from portals.lakeshore_auth_requests import LakeshoreAuthRequests
from portals.lakeshore_claims import (
    LIST_MAX_DAYS,
    ClaimDetailPage,
    ClaimInquiryPage,
    ClaimListPage,
    TitledPage,
)
from portals.lakeshore_eligibility import lakeshore_eligibility
from portals.pages import PageObject
from portals.types import (
    AuthorizationResult,
    ClaimQuery,
    ClaimStatusResult,
    EligibilityQuery,
    EligibilityResult,
    EnrollmentResult,
    ListedClaim,
)

LOGIN_FORM = "form#loginForm"
MAIN_MENU = "#mainMenu"
SECURITY_FORM = "form#securityForm"
SESSION_TIMED_OUT = "text=/your session has timed out/i"
PAYER_ID = "LSM"

# The portal's own words (it shows them in capitals), mapped once to the statuses flows understand.
AUTH_STATUSES = {
    "approved": "approved",
    "pended": "pending",
    "denied": "denied",
    "expired": "expired",
    "cancelled": "cancelled",
}
ENROLLMENT_STATUSES = {
    "enrollment in process": "in_process",
    "active": "active",
    "denied": "denied",
    "terminated": "terminated",
    "lapsed": "terminated",
}


class LakeshoreMedicaidAdapter(
    PortalAdapter,
    ClaimList,
    AuthorizationLookup,
    MemberAuthorizations,
    EnrollmentLookup,
    EligibilityInquiry,
    LakeshoreAuthRequests,
):
    kind = "lakeshore_medicaid"
    fault_pages = (
        FaultPage(
            "text=/system is unavailable for scheduled maintenance/i",
            PortalUnavailable,
            "portal is down for scheduled maintenance (nightly 23:00-01:00 portal time, or announced)",
        ),
        FaultPage("text=/too many requests/i", RateLimited, "portal says too many requests"),
        FaultPage(r"text=/\bSYSTEM ERROR\b/", PortalUnavailable, "portal showed its SYSTEM ERROR page"),
        FaultPage(SESSION_TIMED_OUT, SessionExpired, "session timed out"),
        FaultPage(LOGIN_FORM, SessionExpired, "portal showed its login page: the session is gone"),
    )

    def is_logged_in(self) -> bool:
        return MainMenuPage(self).probe()

    def login(self) -> None:
        after_password = LoginPage(self).open().log_in(self.credentials.username, self.credentials.password)
        if isinstance(after_password, SecurityQuestionPage):
            after_password.answer(self.credentials.security_answers)

    def fetch_claim_status(self, query: ClaimQuery) -> ClaimStatusResult:
        if query.detail_path is not None:  # the claim list linked its page: no search needed
            page = ClaimDetailPage(self).open_in_place(query.detail_path, ahead=query.next_detail_paths)
            return page.read(query.claim_id)
        results = ClaimInquiryPage(self).open().search(query)
        return results.open_claim(query).read(query.claim_id)

    def list_claims(self, dos_from: date, dos_to: date) -> list[ListedClaim]:
        """Every claim with service dates in the range, from CLAIMS BY DATE OF SERVICE: 31 days of service
        dates at a time, every page of each. A claim whose dates straddle two of those ranges is listed once."""

        def listed() -> list[ListedClaim]:
            rows: dict[tuple[str, str | None], ListedClaim] = {}
            for start, end in date_ranges(dos_from, dos_to, LIST_MAX_DAYS):
                for row in ClaimListPage.open(self, start, end).listed(start, end):
                    rows.setdefault((row.claim_id, row.result.payer_claim_number), row)
            return list(rows.values())

        return self.with_one_relogin(listed)

    def authorization(self, auth_number: str) -> AuthorizationResult:
        """One prior authorization by its PA number; RecordNotFound if the payer has none."""
        return self.with_one_relogin(
            lambda: PriorAuthInquiryPage(self).open().search_number(auth_number).read(auth_number)
        )

    def member_authorizations(self, member_id: str) -> list[AuthorizationResult]:
        """Every prior authorization of one recipient, each read from its detail page; [] if none is on file.

        The portal's NO RECORDS FOUND cannot tell an unknown recipient from one without
        authorizations, so both are an empty list (as the other adapters answer).
        """
        return self.with_one_relogin(lambda: self._member_authorizations(member_id))

    def enrollment(self, npi: str) -> EnrollmentResult:
        """A provider's enrollment with this Medicaid program; RecordNotFound if it has none."""
        return self.with_one_relogin(lambda: EnrollmentInquiryPage(self).open().search(npi).read(npi))

    def eligibility(self, query: EligibilityQuery) -> EligibilityResult:
        """The recipient's eligibility for the visit; the response stays on screen for the evidence."""
        return self.with_one_relogin(lambda: lakeshore_eligibility(self, query, self.follow))

    def _member_authorizations(self, member_id: str) -> list[AuthorizationResult]:
        listed = PriorAuthInquiryPage(self).open().search_recipient(member_id).authorizations()
        results = []
        for auth_number, path in listed:
            self.goto(path)
            results.append(PriorAuthDetailPage(self).read(auth_number))
        return results


class LoginPage(PageObject[LakeshoreMedicaidAdapter]):
    NAME = "login"
    PATH = "login"
    LANDMARK = LOGIN_FORM
    USER_ID = "#userId"
    PASSWORD = "#password"  # noqa: S105  (a CSS selector, not a password)
    SUBMIT = "#btnLogin"
    ERROR = "#loginError"
    # the wrong-password message also mentions lockout ("accounts are locked after 3 ...")
    LOCKED_PATTERN = re.compile(r"\b(HAS BEEN|IS) (LOCKED|DISABLED)\b")

    def open(self) -> LoginPage:
        return self.visit()

    def log_in(self, user_id: str, password: str) -> SecurityQuestionPage | MainMenuPage:
        self.adapter.fill_secret(self.required(self.USER_ID, "user id field"), user_id)
        self.adapter.fill_secret(self.required(self.PASSWORD, "password field"), password)
        self.adapter.follow(self.NAME, self.required(self.SUBMIT, "log in button"))
        question = SecurityQuestionPage(self.adapter)
        menu = MainMenuPage(self.adapter)
        error = self.find(self.ERROR)
        expired = PasswordExpiredPage(self.adapter).landmark()
        self.adapter.expect_page("login result", question.landmark().or_(menu.landmark()).or_(error).or_(expired))
        if expired.first.is_visible():
            raise PasswordChangeRequired(self.adapter.portal, "login page")
        if error.first.is_visible():
            if self.LOCKED_PATTERN.search(error.first.inner_text().upper()):
                raise LoginRejected(self.adapter.portal, "account is locked: a person must have the payer unlock it")
            raise LoginRejected(self.adapter.portal, "user id or password rejected; not retried (lockout risk)")
        return question if question.landmark().first.is_visible() else menu


class PasswordExpiredPage(PageObject[LakeshoreMedicaidAdapter]):
    """PASSWORD EXPIRED - CHANGE PASSWORD: shown instead of the security question; never filled in."""

    NAME = "password expired"
    LANDMARK = "form#changePasswordForm"


class SecurityQuestionPage(PageObject[LakeshoreMedicaidAdapter]):
    NAME = "security question"
    LANDMARK = SECURITY_FORM
    QUESTION = "#securityQuestion"
    ANSWER = "#securityAnswer"
    SUBMIT = "#btnVerify"
    ERROR = "#securityError"

    def answer(self, answers: dict[str, str]) -> MainMenuPage:
        question = _normalise(self.text(self.QUESTION, "security question"))
        known = {_normalise(q): a for q, a in answers.items()}
        if question not in known:
            raise MfaRequired(
                self.adapter.portal,
                "the security question shown has no stored answer; a person must add it to this account's credentials",
            )
        self.adapter.fill_secret(self.required(self.ANSWER, "answer field"), known[question])
        self.adapter.follow(self.NAME, self.required(self.SUBMIT, "continue button"))
        menu = MainMenuPage(self.adapter)
        error = self.find(self.ERROR)
        self.adapter.expect_page("security question result", menu.landmark().or_(error))
        if error.first.is_visible():
            raise MfaRejected(self.adapter.portal, "security answer rejected; check the stored answer")
        return menu


class MainMenuPage(PageObject[LakeshoreMedicaidAdapter]):
    NAME = "main menu"
    PATH = "menu"
    LANDMARK = MAIN_MENU

    def probe(self) -> bool:
        """Open the menu: True if it shows, False if the portal asks for a login instead."""
        self.adapter.goto(self.PATH)
        menu = self.landmark()
        signed_out = self.find(LOGIN_FORM).or_(self.find(SESSION_TIMED_OUT))
        self.adapter.expect_page(self.NAME, menu.or_(signed_out))
        return menu.first.is_visible()


class PriorAuthInquiryPage(TitledPage):
    NAME = "prior authorization inquiry"
    PATH = "pa/inquiry"
    TITLE = "PRIOR AUTHORIZATION INQUIRY"
    FORM = "form#paInquiryForm"
    PA_NUMBER = "#paNumber"
    RECIPIENT_ID = "#paRecipientId"
    SEARCH = "#btnPASearch"

    def open(self) -> PriorAuthInquiryPage:
        self.visit().required(self.FORM, "prior authorization inquiry form")
        return self

    def search_number(self, auth_number: str) -> PriorAuthDetailPage:
        self.required(self.PA_NUMBER, "PA number field").fill(auth_number)
        self.adapter.follow(self.NAME, self.required(self.SEARCH, "search button"))
        detail = PriorAuthDetailPage(self.adapter)
        detail.expect_answer(self, f"authorization {auth_number}")
        return detail

    def search_recipient(self, member_id: str) -> PriorAuthListPage:
        self.required(self.RECIPIENT_ID, "recipient id field").fill(member_id)
        self.adapter.follow(self.NAME, self.required(self.SEARCH, "search button"))
        listing = PriorAuthListPage(self.adapter)
        listing.expect_answer(self, "the recipient asked about")  # a member id is PHI
        return listing


class PriorAuthListPage(TitledPage):
    NAME = "prior authorization list"
    TITLE = "PRIOR AUTHORIZATION LIST"
    TABLE = "table#paList"
    COLUMNS: ClassVar[list[str]] = [
        "PA NUMBER",
        "STATUS",
        "FROM DATE",
        "TO DATE",
        "SERVICING NPI",
        "UNITS AUTH",
        "UNITS USED",
    ]
    PA_NUMBER_COLUMN = 0

    def authorizations(self) -> list[tuple[str, str]]:
        """(PA number, path of its detail page) for every row, read before leaving the page."""
        if self.no_records():
            return []
        table = self.required(self.TABLE, "prior authorization table")
        self.require_headers(table.locator("thead th"), self.COLUMNS)
        listed = []
        for row in table.locator("tbody tr").all():
            link = self.required(row.locator("td").nth(self.PA_NUMBER_COLUMN).locator("a"), "PA number link")
            href = link.get_attribute("href") or ""
            listed.append((link.inner_text().strip(), self.adapter.portal_path(self.NAME, href)))
        return listed


class PriorAuthDetailPage(TitledPage):
    NAME = "prior authorization detail"
    TITLE = "PRIOR AUTHORIZATION DETAIL"
    HEADER = "table#paHeader"
    PA_NUMBER = "#paNo"
    STATUS = "#paStatus"
    RECIPIENT_ID = "#paRecipient"
    SERVICING_NPI = "#paServicingNpi"
    FROM_DATE = "#paFromDate"
    TO_DATE = "#paToDate"
    UNITS_AUTHORIZED = "#unitsAuthorized"
    UNITS_USED = "#unitsUsed"
    DENIAL_REASON = "#denialReason"
    LINES = "table#paProcedures"
    LINE_COLUMNS: ClassVar[list[str]] = ["LINE", "PROC CODE", "DESCRIPTION"]
    PROC_CODE_COLUMN = 1

    def read(self, auth_number: str) -> AuthorizationResult:
        self.expect()
        if self.no_records():
            raise RecordNotFound(self.adapter.portal, "authorization", auth_number)
        self.required(self.HEADER, "prior authorization header table")
        shown = self.text(self.PA_NUMBER, "PA number")
        if not same_id(shown, auth_number):
            raise self.changed(f"it shows another authorization than {auth_number}")
        return AuthorizationResult(
            auth_number=shown,
            status=self.word(AUTH_STATUSES, self.text(self.STATUS, "PA status"), "PA status"),
            procedure_codes=self._procedure_codes(),
            units_approved=self.count(self.text(self.UNITS_AUTHORIZED, "units authorized"), "units authorized"),
            units_used=self.count(self.text(self.UNITS_USED, "units used"), "units used"),
            servicing_npi=self.text(self.SERVICING_NPI, "servicing provider NPI") or None,
            start=self.day(self.text(self.FROM_DATE, "from date"), "from date"),
            end=self.day(self.text(self.TO_DATE, "to date"), "to date"),
            denial_reason=self.text(self.DENIAL_REASON, "denial reason") or None,
            member_id=self.text(self.RECIPIENT_ID, "recipient id") or None,
        )

    def _procedure_codes(self) -> tuple[str, ...]:
        table = self.required(self.LINES, "PA service line table")
        self.require_headers(table.locator("thead th"), self.LINE_COLUMNS)
        codes = []
        for row in table.locator("tbody tr").all():
            cells = [c.strip() for c in row.locator("td").all_inner_texts()]
            if len(cells) < len(self.LINE_COLUMNS) or not cells[self.PROC_CODE_COLUMN]:
                raise self.changed("a PA service line has no procedure code")
            codes.append(cells[self.PROC_CODE_COLUMN])
        return tuple(codes)


class EnrollmentInquiryPage(TitledPage):
    NAME = "provider enrollment inquiry"
    PATH = "enrollment/inquiry"
    TITLE = "PROVIDER ENROLLMENT STATUS INQUIRY"
    FORM = "form#enrollmentForm"
    NPI = "#enrollmentNpi"
    SEARCH = "#btnEnrSearch"

    def open(self) -> EnrollmentInquiryPage:
        self.visit().required(self.FORM, "provider enrollment inquiry form")
        return self

    def search(self, npi: str) -> EnrollmentStatusPage:
        self.required(self.NPI, "provider NPI field").fill(npi)
        self.adapter.follow(self.NAME, self.required(self.SEARCH, "search button"))
        status = EnrollmentStatusPage(self.adapter)
        status.expect_answer(self, f"provider {npi}")
        return status


class EnrollmentStatusPage(TitledPage):
    NAME = "provider enrollment status"
    TITLE = "PROVIDER ENROLLMENT STATUS"
    DETAIL = "table#enrollmentDetail"
    NPI = "#enrNpi"
    PROVIDER_ID = "#medicaidProviderId"
    STATUS = "#enrollmentStatus"
    EFFECTIVE = "#effectiveDate"
    TERMINATION = "#terminationDate"
    REVALIDATION_DUE = "#revalidationDue"

    def read(self, npi: str) -> EnrollmentResult:
        self.expect()
        if self.no_records():
            raise RecordNotFound(self.adapter.portal, "enrollment for provider", npi)
        self.required(self.DETAIL, "enrollment detail table")
        if self.text(self.NPI, "NPI") != npi.strip():
            raise self.changed(f"it shows another provider than {npi}")
        return EnrollmentResult(
            npi=npi.strip(),
            payer_id=PAYER_ID,
            status=self.word(ENROLLMENT_STATUSES, self.text(self.STATUS, "enrollment status"), "enrollment status"),
            effective=self.day(self.text(self.EFFECTIVE, "effective date"), "effective date"),
            termination=self.day(self.text(self.TERMINATION, "termination date"), "termination date"),
            revalidation_due=self.day(
                self.text(self.REVALIDATION_DUE, "revalidation due date"), "revalidation due date"
            ),
            payer_provider_id=self.text(self.PROVIDER_ID, "Medicaid provider id") or None,
        )


def _normalise(question: str) -> str:
    return " ".join(question.split()).casefold()
