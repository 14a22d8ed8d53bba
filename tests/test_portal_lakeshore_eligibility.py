"""Lakeshore State Medicaid recipient eligibility through a real Chromium: scenarios, the clock, faults, evidence."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import Page

from fake_portal.appointments import ELIGIBILITY_SCENARIOS
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.lakeshore_medicaid import LakeshoreMedicaidAdapter
from portals.types import Credentials
from tests.eligibility_support import (
    appointments_on,
    check_answer_printed,
    check_ended_overnight,
    check_every_scenario,
    check_layout_2,
    check_portal_down,
    check_refused,
    check_wrong_code,
    query_for,
)

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


def test_every_scenario_is_read_as_the_payer_has_it(adapter: LakeshoreMedicaidAdapter) -> None:
    assert tuple(appointments_on(PORTAL)) == ELIGIBILITY_SCENARIOS
    check_every_scenario(adapter, PORTAL)


def test_the_wrong_code_visit_needs_a_code_its_authorization_does_not_cover(adapter: LakeshoreMedicaidAdapter) -> None:
    check_wrong_code(adapter, PORTAL)


def test_coverage_that_ends_overnight_reads_inactive_on_the_visit_day(
    adapter: LakeshoreMedicaidAdapter, fake_portal: RunningPortal
) -> None:
    check_ended_overnight(adapter, fake_portal, PORTAL)


def test_the_answer_stays_on_screen_for_a_pdf(adapter: LakeshoreMedicaidAdapter) -> None:
    check_answer_printed(adapter, PORTAL, "out_of_network", "NOT PARTICIPATING")


def test_more_codes_than_the_form_has_boxes_is_refused_before_anything_is_typed(
    adapter: LakeshoreMedicaidAdapter,
) -> None:
    query = replace(
        query_for(appointments_on(PORTAL)["active"]), procedure_codes=("99213", "36415", "80053", "93000", "99214")
    )
    with pytest.raises(ValueError, match="at most 4 procedure codes"):
        adapter.eligibility(query)


def test_maintenance_and_server_errors_are_the_portal_down(
    adapter: LakeshoreMedicaidAdapter, fake_portal: RunningPortal
) -> None:
    check_portal_down(adapter, fake_portal, PORTAL)


def test_layout_2_is_a_changed_layout(adapter: LakeshoreMedicaidAdapter, fake_portal: RunningPortal) -> None:
    check_layout_2(adapter, fake_portal, PORTAL)


def test_an_inquiry_the_portal_refuses_is_named_not_guessed(adapter: LakeshoreMedicaidAdapter) -> None:
    check_refused(adapter, PORTAL)
