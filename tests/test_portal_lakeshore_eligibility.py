"""Lakeshore State Medicaid recipient eligibility through a real Chromium: scenarios, the clock, faults, evidence."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import Page

from fake_portal.appointments import AUTH_REQUIRED_CODES, ELIGIBILITY_SCENARIOS
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.lakeshore_medicaid import LakeshoreMedicaidAdapter
from portals.types import Credentials
from tests.eligibility_support import EligibilityContract, appointments_on, check_wrong_code, query_for

pytestmark = pytest.mark.browser

PORTAL = "medicaid"
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == PORTAL)


@pytest.fixture
def adapter(page: Page, fake_portal: RunningPortal) -> LakeshoreMedicaidAdapter:
    return LakeshoreMedicaidAdapter(
        page,
        portal="lakeshore_medicaid",
        base_url=f"{fake_portal.url}/{PORTAL}",
        credentials=Credentials(
            ACCOUNT.username,
            ACCOUNT.password,
            security_answers={str(ACCOUNT.security_question): str(ACCOUNT.security_answer)},
        ),
        timeouts=Timeouts(element_ms=3000),
    )


class TestLakeshoreEligibility(EligibilityContract):
    PORTAL = PORTAL
    SHOWN_OUT_OF_NETWORK = "NOT PARTICIPATING"

    def test_every_scenario_is_on_the_portal(self) -> None:
        assert tuple(appointments_on(PORTAL)) == ELIGIBILITY_SCENARIOS

    def test_the_wrong_code_visit_needs_a_code_its_authorization_does_not_cover(
        self, adapter: LakeshoreMedicaidAdapter
    ) -> None:
        check_wrong_code(adapter, PORTAL)

    def test_more_codes_than_the_form_has_boxes_are_asked_four_at_a_time(
        self, adapter: LakeshoreMedicaidAdapter
    ) -> None:
        appointment = appointments_on(PORTAL)["auth_required_none"]
        needing = tuple(c for c in appointment.procedure_codes if c in AUTH_REQUIRED_CODES)
        codes = ("99213", "36415", "80053", "93000", *needing)  # the codes needing authorization come fifth
        result = adapter.eligibility(replace(query_for(appointment), procedure_codes=codes))
        assert needing and result.auth_required_codes == needing
        assert result.coverage == "active"
