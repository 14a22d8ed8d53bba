"""Unity Health Plans' member eligibility and benefits lookup: the form, and the answer page it posts to.

The answer's values carry a data-field attribute, like Unity's claim and authorization pages; the
planned services table has fixed columns. The answer page stays on screen for the evidence."""

from __future__ import annotations

import re
from typing import ClassVar

from portals.base import BLANK, PortalAdapter
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

US_DATE = "%m/%d/%Y"
# Every [data-field] inside a box, as field name -> text (one browser round trip per box).
READ_FIELDS_JS = """(box, attr) => Object.fromEntries(
  Array.from(box.querySelectorAll('[' + attr + ']'), el => [el.getAttribute(attr), el.innerText.trim()]))"""
COVERAGE_BY_WORDS = {"active": "active", "inactive": "inactive"}
AUTH_REQUIRED_BY_WORDS = {"required": True, "not required": False}
NETWORK = re.compile(r"^(?P<in>in network)\b|^(?P<out>out of network)$", re.IGNORECASE)
OTHER_PRIMARY = re.compile(r"^(?P<payer>.+?) pays first\b", re.IGNORECASE)
NO_OTHER_INSURANCE = "none on file"


class EligibilityLookupPage(PageObject[PortalAdapter]):
    NAME = "eligibility lookup"
    PATH = "eligibility"
    LANDMARK = "form#eligibility-lookup"
    MEMBER_ID = "#elig-member-id"
    DATE_OF_BIRTH = "#elig-dob"
    SERVICE_DATE = "#elig-dos"
    NPI = "#elig-npi"
    CODES = "#elig-cpt"
    CHECK = "#check-eligibility"

    def ask(self, query: EligibilityQuery) -> EligibilityAnswerPage:
        self.required(self.MEMBER_ID, "member ID field").fill(query.member_id)
        self.required(self.DATE_OF_BIRTH, "date of birth field").fill(query.date_of_birth.strftime(US_DATE))
        self.required(self.SERVICE_DATE, "date of service field").fill(query.service_date.strftime(US_DATE))
        self.required(self.NPI, "NPI field").fill(query.provider_npi)
        self.required(self.CODES, "CPT codes field").fill(", ".join(query.procedure_codes))
        self.required(self.CHECK, "'Check eligibility' button").click()
        answer = EligibilityAnswerPage(self.adapter)
        answer.expect_answer(self, "an eligibility inquiry")
        return answer


class EligibilityAnswerPage(PageObject[PortalAdapter]):
    NAME = "eligibility answer"
    LANDMARK = "#member-eligibility"
    NOT_FOUND = "#member-not-found"
    FIELD_ATTRIBUTE = "data-field"
    FIELDS = ("coverage-status", "plan", "member-id", "effective", "termination", "network", "other-insurance")
    SERVICES = "table#planned-services"
    SERVICE_HEADERS: ClassVar[list[str]] = ["CPT code", "Prior authorization"]
    BENEFITS = "#member-benefits"

    def read(self, query: EligibilityQuery) -> EligibilityResult:
        payer_id = query.payer_id
        if self.shows(self.NOT_FOUND):
            return checked(
                self, EligibilityResult(payer_id, "not_found", self.text(self.NOT_FOUND, "not found")), query
            )
        fields = self.required(self.LANDMARK, "eligibility answer").evaluate(READ_FIELDS_JS, self.FIELD_ATTRIBUTE)
        missing = [f for f in self.FIELDS if f not in fields]
        if missing:
            raise self.changed(f"answer fields {missing} are missing")
        member_id = _blank_to_none(fields["member-id"])
        benefits = self._benefits()
        result = EligibilityResult(
            payer_id=payer_id,
            coverage=self.word(COVERAGE_BY_WORDS, fields["coverage-status"], "coverage status"),
            portal_words=fields["coverage-status"],
            member_id=member_id,
            plan_name=_blank_to_none(fields["plan"]),
            coverage_start=self.day(fields["effective"], "effective date"),
            coverage_end=self.day(fields["termination"], "termination date"),
            new_payer_id=payer_moved_to(self, fields.get("moved-to", ""), "coverage moved to"),
            new_member_id=member_id_if_changed(member_id, query),
            other_insurance_primary=other_primary(self, fields["other-insurance"], NO_OTHER_INSURANCE, OTHER_PRIMARY),
            auth_required_codes=codes_needing_auth(
                self, self.SERVICES, self.SERVICE_HEADERS, query, AUTH_REQUIRED_BY_WORDS
            ),
            in_network=self._in_network(fields["network"]),
        )
        return checked(self, with_benefits(self, result, benefits), query)

    def _benefits(self) -> dict[str, str]:
        """The benefits by result field ({} when Unity shows none: it shows them only for active coverage)."""
        box = self.find(self.BENEFITS)
        if not box.count():
            return {}
        fields: dict[str, str] = box.first.evaluate(READ_FIELDS_JS, self.FIELD_ATTRIBUTE)
        return {name.replace("-", "_"): text for name, text in fields.items()}

    def _in_network(self, text: str) -> bool:
        match = NETWORK.match(text.strip())
        if match is None:
            raise self.changed("network status is not one the adapter knows")
        return match.group("in") is not None


def unity_eligibility(adapter: PortalAdapter, query: EligibilityQuery) -> EligibilityResult:
    """Ask the lookup form and read its answer; the answer stays on screen for the evidence."""
    return EligibilityLookupPage(adapter).visit().ask(query).read(query)


def _blank_to_none(text: str) -> str | None:
    return None if text.strip() in BLANK else text.strip()
