"""Summit Exchange's Eligibility & Benefits: a payer picker form whose 271 answer the page's JavaScript
draws, so the adapter watches the inquiry's JSON call (its 401/429/5xx are typed errors) and then reads
what was drawn. The answer stays on screen for the evidence."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar, Protocol

from playwright.sync_api import Locator

from portals.base import BLANK, PortalAdapter
from portals.eligibility_checks import payer_id_shown
from portals.eligibility_reading import (
    checked,
    codes_needing_auth,
    member_id_if_changed,
    other_primary,
    payer_moved_to,
    with_benefits,
)
from portals.pages import PageObject
from portals.types import EligibilityQuery, EligibilityResult


class CallJsonApi(Protocol):
    """The adapter's way to do what makes the page call its JSON API, that call's faults typed."""

    def __call__(self, path: str, trigger: Callable[[], None], *, page_name: str) -> None: ...


COVERAGE_BY_WORDS = {"active coverage": "active", "inactive": "inactive"}
AUTH_REQUIRED_BY_WORDS = {"required": True, "not required": False}
NETWORK_BY_WORDS = {"in network": True, "out of network": False}
OTHER_PRIMARY = re.compile(r"^other insurance is primary:\s*(?P<payer>.+)$", re.IGNORECASE)
THIS_PLAN_PRIMARY = "this plan is primary"
BENEFITS = {  # Summit's benefit row -> the result's field
    "deductible (individual)": "deductible",
    "deductible met": "deductible_met",
    "coinsurance": "coinsurance",
    "office visit copay": "copay",
}


class EligibilityFormPage(PageObject[PortalAdapter]):
    NAME = "eligibility and benefits inquiry"
    PATH = "eligibility"
    LANDMARK = "#eligibility-form"
    API_PATH = "api/eligibility/inquiry"
    PAYER = "#elig-payer-id"
    MEMBER_ID = "#elig-member"
    DATE_OF_BIRTH = "#elig-dob"
    SERVICE_DATE = "#elig-service-date"
    NPI = "#elig-npi"
    CODES = "#elig-procedure-codes"
    CHECK = "#check-eligibility"

    def ask(self, query: EligibilityQuery, call_json_api: CallJsonApi) -> EligibilityResponse:
        payer = self.required(self.PAYER, "payer list")
        if payer.locator(f'option[value="{query.payer_id}"]').count() == 0:
            raise self.changed(f"payer {query.payer_id} is not in its payer list")
        payer.select_option(query.payer_id)
        self.required(self.MEMBER_ID, "member ID field").fill(query.member_id)
        self.required(self.DATE_OF_BIRTH, "date of birth field").fill(query.date_of_birth.isoformat())
        self.required(self.SERVICE_DATE, "date of service field").fill(query.service_date.isoformat())
        self.required(self.NPI, "NPI field").fill(query.provider_npi)
        self.required(self.CODES, "procedure codes field").fill(" ".join(query.procedure_codes))
        button = self.required(self.CHECK, "'Check eligibility' button")
        call_json_api(self.API_PATH, button.click, page_name=self.NAME)
        return EligibilityResponse(self.adapter)


class EligibilityResponse(PageObject[PortalAdapter]):
    """The 271 as the page's JavaScript drew it."""

    NAME = "eligibility response"
    PAYER = "#elig-payer"
    SUMMARY = "#eligibility-response #elig-summary"
    NOT_FOUND = "#eligibility-response #elig-not-found"
    ALERT = "#eligibility-alert:not([hidden])"
    STATUS, PLAN, MEMBER_ID = "#elig-status", "#elig-plan", "#elig-member-id"
    BEGIN, END, NETWORK, COB, MOVED_TO = "#elig-begin", "#elig-end", "#elig-network", "#elig-cob", "#elig-moved-to"
    PROCEDURES = "#elig-procedures"
    PROCEDURE_HEADERS: ClassVar[list[str]] = ["Procedure", "Prior authorization"]
    BENEFITS = "#elig-benefits"
    BENEFIT_HEADERS: ClassVar[list[str]] = ["Benefit", "In-network amount"]

    def landmark(self) -> Locator:
        return self.find(self.SUMMARY).or_(self.find(self.NOT_FOUND)).or_(self.find(self.ALERT))

    def read(self, query: EligibilityQuery) -> EligibilityResult:
        self.expect()
        if self.shows(self.ALERT):  # an answer the portal refused to give (the form as filled in)
            raise self.changed("the portal refused the eligibility inquiry as filled in")
        shown_payer = payer_id_shown(self.text(self.PAYER, "payer"))
        if shown_payer != query.payer_id:
            raise self.changed("it answers for another payer than the one asked")
        if self.shows(self.NOT_FOUND):
            words = self.text(self.NOT_FOUND, "not-found message")
            return checked(self, EligibilityResult(query.payer_id, "not_found", words), query)
        status = self.text(self.STATUS, "coverage status")
        member_id = _blank_to_none(self.text(self.MEMBER_ID, "member ID on file"))
        moved = self.find(self.MOVED_TO)
        benefits = self._benefits()
        result = EligibilityResult(
            payer_id=query.payer_id,
            coverage=self.word(COVERAGE_BY_WORDS, status, "coverage status"),
            portal_words=status,
            member_id=member_id,
            plan_name=_blank_to_none(self.text(self.PLAN, "plan")),
            coverage_start=self.day(self.text(self.BEGIN, "coverage begin"), "coverage begin"),
            coverage_end=self.day(self.text(self.END, "coverage end"), "coverage end"),
            new_payer_id=payer_moved_to(self, moved.first.inner_text() if moved.count() else "", "coverage moved to"),
            new_member_id=member_id_if_changed(member_id, query),
            other_insurance_primary=other_primary(
                self, self.text(self.COB, "coordination of benefits"), THIS_PLAN_PRIMARY, OTHER_PRIMARY
            ),
            auth_required_codes=codes_needing_auth(
                self, self.PROCEDURES, self.PROCEDURE_HEADERS, query, AUTH_REQUIRED_BY_WORDS
            ),
            in_network=self.word(NETWORK_BY_WORDS, self.text(self.NETWORK, "network status"), "network status"),
        )
        return checked(self, with_benefits(self, result, benefits), query)

    def _benefits(self) -> dict[str, str]:
        """Benefit rows the adapter knows, by field; rows it does not know are other benefits, not read."""
        table = self.find(self.BENEFITS)
        if not table.count():  # Summit draws benefits only for active coverage
            return {}
        rows = self.table_rows(table.first, self.BENEFIT_HEADERS)
        names = [row.cells["Benefit"].strip().lower() for row in rows]
        if len(names) != len(set(names)):
            raise self.changed("a benefit is listed twice")
        return {
            BENEFITS[n]: row.cells["In-network amount"] for n, row in zip(names, rows, strict=True) if n in BENEFITS
        }


def summit_eligibility(
    adapter: PortalAdapter, query: EligibilityQuery, call_json_api: CallJsonApi
) -> EligibilityResult:
    """Ask the inquiry form and read the drawn answer; the answer stays on screen for the evidence."""
    return EligibilityFormPage(adapter).visit().ask(query, call_json_api).read(query)


def _blank_to_none(text: str) -> str | None:
    return None if text.strip() in BLANK else text.strip()
