"""Lakeshore State Medicaid: a legacy state MMIS portal (user id, password, security question).

Claim status (276/277), prior authorization inquiry and provider enrollment status.
The portal answers HTTP 200 for its maintenance and session-timeout pages, so those
are recognised by what they say (`fault_pages`), not by their status code. An expired
password gets its PASSWORD EXPIRED page instead of the question: the login stops there.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import ClassVar

from playwright.sync_api import Locator

from portals.balance import Entry, Line, Sheet
from portals.base import FaultPage, PortalAdapter
from portals.capabilities import AuthorizationLookup, EligibilityInquiry, EnrollmentLookup, MemberAuthorizations
from portals.errors import (
    ClaimNotFound,
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
from portals.lakeshore_eligibility import lakeshore_eligibility
from portals.pages import PageObject
from portals.types import (
    Adjustment,
    AuthorizationResult,
    ClaimQuery,
    ClaimStatusResult,
    EligibilityQuery,
    EligibilityResult,
    EnrollmentResult,
)

LOGIN_FORM = "form#loginForm"
MAIN_MENU = "#mainMenu"
SECURITY_FORM = "form#securityForm"
SESSION_TIMED_OUT = "text=/your session has timed out/i"
NO_RECORDS = "#noRecords"
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
        results = ClaimInquiryPage(self).open().search(query)
        return results.open_claim(query).read(query.claim_id)

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


class TitledPage(PageObject[LakeshoreMedicaidAdapter]):
    """A Lakeshore page known by its title bar, whatever a release calls its elements."""

    TITLE_BAR = "table.pagetitle td"
    TITLE: ClassVar[str]

    def landmark(self) -> Locator:
        return self.find(self.TITLE_BAR).filter(has_text=re.compile(rf"^\s*{re.escape(self.TITLE)}\s*$"))

    def no_records(self) -> bool:
        return self.shows(NO_RECORDS)


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
        self.required(self.DOS_FROM, "DOS from field").fill(query.dos_from.strftime("%m/%d/%Y"))
        self.required(self.DOS_TO, "DOS to field").fill(query.dos_to.strftime("%m/%d/%Y"))
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
    TCN_COLUMN = 0
    PCN_COLUMN = 1

    def open_claim(self, query: ClaimQuery) -> ClaimDetailPage:
        if self.no_records():
            raise ClaimNotFound(self.adapter.portal, query.claim_id)
        table = self.required(self.TABLE, "results table")
        self.require_headers(table.locator("thead th"), self.COLUMNS)
        row = self._row_for(table, query)
        link = self.required(row.locator("td").nth(self.TCN_COLUMN).locator("a"), "TCN link")
        self.adapter.follow(self.NAME, link)
        return ClaimDetailPage(self.adapter)

    def _row_for(self, table: Locator, query: ClaimQuery) -> Locator:
        """The row of this claim; the known TCN wins when the payer lists a resubmission too."""
        matching: list[tuple[str, Locator]] = []
        for row in table.locator("tbody tr").all():
            cells = [c.strip() for c in row.locator("td").all_inner_texts()]
            if len(cells) < len(self.COLUMNS):
                raise self.changed("a result row has fewer cells than columns")
            if same_id(cells[self.PCN_COLUMN], query.claim_id):
                matching.append((cells[self.TCN_COLUMN], row))
        if not matching:
            raise ClaimNotFound(self.adapter.portal, query.claim_id)
        for tcn, row in matching:
            if query.payer_claim_number and same_id(tcn, query.payer_claim_number):
                return row
        return matching[0][1]


class ClaimDetailPage(TitledPage):
    NAME = "claim detail"
    TITLE = "CLAIM STATUS DETAIL (277)"
    HEADER = "table#claimHeader"
    TCN = "#claimTcn"
    PATIENT_CONTROL_NO = "#claimPcn"
    STATUS = "#claimStatus"
    STATUS_DATE = "#statusDate"
    TOTAL_CHARGE = "#totalCharge"
    ALLOWED = "#allowedAmount"
    PAID = "#paidAmount"
    REMIT_TRACE = "#remitTrace"
    REMIT_DATE = "#remitDate"
    LINES = "table#serviceLines"
    LINE_COLUMNS: ClassVar[list[str]] = ["LINE", "PROC", "CHARGE", "GROUP", "CARC", "ADJ AMT", "RARC"]
    LINE, PROC, CHARGE, GROUP, CARC, ADJ_AMOUNT, RARC = range(7)
    NEXT_PAGE = "a#linesNextPage"  # a long claim's service lines, a page at a time
    # ePACES style "F2 / 1 - Denied: see remittance advice": 277 category / status code - text
    STATUS_PATTERN = re.compile(r"^([A-Z]\d{1,2})\s*/\s*([A-Z0-9]{1,3})\s+-\s+(.+)$", re.DOTALL)

    def read(self, claim_id: str) -> ClaimStatusResult:
        self.expect()
        if self.no_records():
            raise ClaimNotFound(self.adapter.portal, claim_id)
        self.required(self.HEADER, "claim header table")
        if not same_id(self.text(self.PATIENT_CONTROL_NO, "patient control #"), claim_id):
            raise self.changed(f"it shows another claim than {claim_id}")
        status = self.STATUS_PATTERN.match(self.text(self.STATUS, "claim status"))
        if status is None:
            raise self.changed("claim status is not 'category / code - text'")
        billed = self.money(self.text(self.TOTAL_CHARGE, "total charge"), "total charge")
        paid = self.money(self.text(self.PAID, "paid amount"), "paid amount")
        rows = self.every_page(self._line_rows, self.LINES, self.NEXT_PAGE, "service line table")
        adjustments = self._adjustments(rows)
        self.require_balance(self._sheet(rows, billed, paid), claim_id)
        return ClaimStatusResult(
            claim_id=claim_id,
            category_code=status.group(1),
            status_code=status.group(2),
            status_text=status.group(3).strip(),
            status_date=self.day(self.text(self.STATUS_DATE, "status effective date"), "status effective date"),
            payer_claim_number=self.text(self.TCN, "TCN") or None,
            billed_amount=billed,
            allowed_amount=self.money(self.text(self.ALLOWED, "allowed amount"), "allowed amount"),
            paid_amount=paid,
            check_number=self.text(self.REMIT_TRACE, "remittance trace #") or None,
            payment_date=self.day(self.text(self.REMIT_DATE, "remittance date"), "remittance date"),
            adjustments=adjustments,
        )

    def _line_rows(self) -> list[list[str]]:
        """One row per line and adjustment (a line shows again for each of its adjustments)."""
        table = self.required(self.LINES, "service line table")
        self.require_headers(table.locator("thead th"), self.LINE_COLUMNS)
        rows = [[c.strip() for c in row.locator("td").all_inner_texts()] for row in table.locator("tbody tr").all()]
        if any(len(cells) < len(self.LINE_COLUMNS) for cells in rows):
            raise self.changed("a service line row has fewer cells than columns")
        return rows

    def _sheet(self, rows: list[list[str]], billed: Decimal | None, paid: Decimal | None) -> Sheet:
        charges: dict[str, Decimal] = {}
        entries = []
        for cells in rows:
            line = cells[self.LINE] or None
            if line is not None:
                charge = self.money(cells[self.CHARGE], "line charge")
                if charge is None or charges.setdefault(line, charge) != charge:
                    raise self.changed(f"service line {line} shows no charge, or two different ones")
            if cells[self.CARC]:
                amount = self.money(cells[self.ADJ_AMOUNT], "adjustment amount")
                entries.append(Entry(cells[self.GROUP], amount or Decimal("0"), line))  # None refused above
        lines = tuple(Line(key, charge) for key, charge in charges.items())
        return Sheet(billed, paid, tuple(entries), lines)

    def _adjustments(self, rows: list[list[str]]) -> tuple[Adjustment, ...]:
        adjustments = []
        for cells in rows:
            if not cells[self.CARC]:
                continue  # a line the payer did not adjust (yet)
            amount = self.money(cells[self.ADJ_AMOUNT], "adjustment amount")
            if amount is None or not cells[self.GROUP]:
                raise self.changed("an adjustment has no group code or amount")
            adjustments.append(
                Adjustment(
                    group_code=cells[self.GROUP],
                    carc=cells[self.CARC],
                    amount=amount,
                    rarcs=tuple(r.strip() for r in cells[self.RARC].split(",") if r.strip()),
                    line_procedure=cells[self.PROC] or None,
                )
            )
        return tuple(adjustments)


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
