"""Lakeshore State Medicaid's recipient eligibility verification: the legacy form (dates as MM/DD/CCYY, up to
four procedure code boxes) and its upper-case response table with a service grid. Pages are known by their
title bar, as the portal's other pages are. The response stays on screen for the evidence."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from playwright.sync_api import Locator

from portals.base import PortalAdapter
from portals.eligibility_reading import (
    checked,
    codes_needing_auth,
    member_id_if_changed,
    other_primary,
    payer_moved_to,
    with_benefits,
)
from portals.errors import LayoutChanged
from portals.pages import PageObject
from portals.types import EligibilityQuery, EligibilityResult

# The adapter's way to click something that loads a new page, its HTTP faults typed (name, control).
Follow = Callable[[str, Locator], None]
US_DATE = "%m/%d/%Y"
PROCEDURE_BOXES = 4
TITLE_BAR = "table.pagetitle td"
COVERAGE_BY_WORDS = {"eligible": "active", "not eligible": "inactive"}
PA_REQUIRED_BY_WORDS = {"y": True, "n": False}
PARTICIPATION = {"participating": True, "not participating in recipient's plan": False}
TPL_PRIMARY = re.compile(r"^(?P<payer>.+?)\s+-\s+PRIMARY$", re.IGNORECASE)
NO_TPL = "none on file"


class _Titled(PageObject[PortalAdapter]):
    TITLE: ClassVar[str]

    def landmark(self) -> Locator:
        return self.find(TITLE_BAR).filter(has_text=re.compile(rf"^\s*{re.escape(self.TITLE)}\s*$"))


class EligibilityInquiryPage(_Titled):
    NAME = "recipient eligibility verification"
    PATH = "eligibility/inquiry"
    TITLE = "RECIPIENT ELIGIBILITY VERIFICATION"
    FORM = "form#eligInquiryForm"
    RECIPIENT = "#eligRecipientId"
    DATE_OF_BIRTH = "#eligDob"
    SERVICE_DATE = "#eligDos"
    NPI = "#eligNpi"
    PROCEDURE = "#eligProc{n}"
    SUBMIT = "#btnEligSearch"

    def open(self) -> EligibilityInquiryPage:
        self.visit().required(self.FORM, "eligibility inquiry form")
        return self

    def ask(self, query: EligibilityQuery, follow: Follow) -> EligibilityResponsePage:
        self.required(self.RECIPIENT, "recipient ID field").fill(query.member_id)
        self.required(self.DATE_OF_BIRTH, "date of birth field").fill(query.date_of_birth.strftime(US_DATE))
        self.required(self.SERVICE_DATE, "date of service field").fill(query.service_date.strftime(US_DATE))
        self.required(self.NPI, "provider NPI field").fill(query.provider_npi)
        for n in range(1, PROCEDURE_BOXES + 1):
            code = query.procedure_codes[n - 1] if n <= len(query.procedure_codes) else ""
            self.required(self.PROCEDURE.format(n=n), f"procedure code {n} field").fill(code)
        follow(self.NAME, self.required(self.SUBMIT, "submit button"))
        response = EligibilityResponsePage(self.adapter)
        response.expect_answer(self, "an eligibility inquiry")
        return response


class EligibilityResponsePage(_Titled):
    NAME = "recipient eligibility response"
    TITLE = "RECIPIENT ELIGIBILITY RESPONSE"
    NOT_FOUND = "#eligNotFound"
    RESPONSE = "table#eligResponse"
    RECIPIENT, STATUS, PROGRAM = "#eligRecipientId", "#eligStatus", "#eligProgram"
    FROM, THRU, NEW_PAYER, TPL = "#eligFromDate", "#eligThruDate", "#eligOtherPayer", "#eligTpl"
    PARTICIPATION = "#eligParticipation"
    DEDUCTIBLE, DEDUCTIBLE_MET = "#eligDeductible", "#eligDeductibleMet"
    COINSURANCE, COPAY = "#eligCoinsurance", "#eligCopay"
    SERVICES = "table#eligServices"
    SERVICE_HEADERS: ClassVar[list[str]] = ["PROC", "PA REQUIRED"]

    def read(self, query: EligibilityQuery) -> EligibilityResult:
        self.expect()
        if self.shows(self.NOT_FOUND):
            words = self.text(self.NOT_FOUND, "recipient not found message")
            return checked(self, EligibilityResult(query.payer_id, "not_found", words), query)
        self.required(self.RESPONSE, "eligibility response table")
        status = self.text(self.STATUS, "eligibility status")
        recipient = self.text(self.RECIPIENT, "current recipient ID") or None
        result = EligibilityResult(
            payer_id=query.payer_id,
            coverage=self.word(COVERAGE_BY_WORDS, status, "eligibility status"),
            portal_words=status,
            member_id=recipient,
            plan_name=self.text(self.PROGRAM, "program") or None,
            coverage_start=self.day(self.text(self.FROM, "eligibility from"), "eligibility from"),
            coverage_end=self.day(self.text(self.THRU, "eligibility thru"), "eligibility thru"),
            new_payer_id=payer_moved_to(self, self.text(self.NEW_PAYER, "coverage transferred to"), "transfer"),
            new_member_id=member_id_if_changed(recipient, query),
            other_insurance_primary=other_primary(
                self, self.text(self.TPL, "third party liability"), NO_TPL, TPL_PRIMARY
            ),
            auth_required_codes=codes_needing_auth(
                self, self.SERVICES, self.SERVICE_HEADERS, query, PA_REQUIRED_BY_WORDS
            ),
            in_network=self.word(PARTICIPATION, self.text(self.PARTICIPATION, "participation"), "participation"),
        )
        benefits = {
            "deductible": self._optional(self.DEDUCTIBLE),
            "deductible_met": self._optional(self.DEDUCTIBLE_MET),
            "coinsurance": self._optional(self.COINSURANCE),
            "copay": self._optional(self.COPAY),
        }
        return checked(self, with_benefits(self, result, benefits), query)

    def _optional(self, selector: str) -> str:
        """A benefit the portal shows only for an eligible recipient: '' when it is not on the page."""
        found = self.find(selector)
        return found.first.inner_text().strip() if found.count() else ""


def lakeshore_eligibility(adapter: PortalAdapter, query: EligibilityQuery, follow: Follow) -> EligibilityResult:
    """Ask the verification form and read the response; the response stays on screen for the evidence.

    The form has four procedure-code boxes: a visit with more planned codes is asked about four codes at a
    time, and the codes needing authorization are gathered from every answer. The answers must agree on
    everything else; if they do not, the portal changed under us and nothing is guessed."""
    codes = query.procedure_codes
    parts = [codes[i : i + PROCEDURE_BOXES] for i in range(0, len(codes), PROCEDURE_BOXES)] or [()]
    answers = []
    for part in parts:
        asked = replace(query, procedure_codes=part)
        answers.append(EligibilityInquiryPage(adapter).open().ask(asked, follow).read(asked))
    first = replace(answers[0], auth_required_codes=())
    if any(replace(a, auth_required_codes=()) != first for a in answers[1:]):
        raise LayoutChanged(adapter.portal, EligibilityResponsePage.NAME, "the answers for one visit's codes differ")
    return replace(answers[0], auth_required_codes=tuple(c for a in answers for c in a.auth_required_codes))
