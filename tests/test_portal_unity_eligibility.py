"""Unity Health Plans' member eligibility lookup through a real Chromium: scenarios, the clock, faults, evidence."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from fake_portal.appointments import ELIGIBILITY_SCENARIOS
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.types import Credentials
from portals.unity_health import UnityHealthAdapter
from tests.eligibility_support import (
    appointments_on,
    check_answer_printed,
    check_ended_overnight,
    check_every_scenario,
    check_layout_2,
    check_portal_down,
    check_refused,
    check_wrong_code,
)

pytestmark = pytest.mark.browser

PORTAL = "commercial"
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == PORTAL)


@pytest.fixture
def adapter(page: Page, fake_portal: RunningPortal) -> UnityHealthAdapter:
    return UnityHealthAdapter(
        page,
        portal="unity_health",
        base_url=f"{fake_portal.url}/{PORTAL}",
        credentials=Credentials(ACCOUNT.username, ACCOUNT.password),
        timeouts=Timeouts(element_ms=3000),
    )


def test_every_scenario_is_read_as_the_payer_has_it(adapter: UnityHealthAdapter) -> None:
    assert tuple(appointments_on(PORTAL)) == ELIGIBILITY_SCENARIOS
    check_every_scenario(adapter, PORTAL)


def test_the_wrong_code_visit_needs_a_code_its_authorization_does_not_cover(adapter: UnityHealthAdapter) -> None:
    check_wrong_code(adapter, PORTAL)


def test_coverage_that_ends_overnight_reads_inactive_on_the_visit_day(
    adapter: UnityHealthAdapter, fake_portal: RunningPortal
) -> None:
    check_ended_overnight(adapter, fake_portal, PORTAL)


def test_the_answer_stays_on_screen_for_a_pdf(adapter: UnityHealthAdapter) -> None:
    check_answer_printed(adapter, PORTAL, "out_of_network", "Out of network")


def test_maintenance_and_server_errors_are_the_portal_down(
    adapter: UnityHealthAdapter, fake_portal: RunningPortal
) -> None:
    check_portal_down(adapter, fake_portal, PORTAL)


def test_layout_2_is_a_changed_layout(adapter: UnityHealthAdapter, fake_portal: RunningPortal) -> None:
    check_layout_2(adapter, fake_portal, PORTAL)


def test_an_inquiry_the_portal_refuses_is_named_not_guessed(adapter: UnityHealthAdapter) -> None:
    check_refused(adapter, PORTAL)
