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
from tests.eligibility_support import EligibilityContract, appointments_on, check_wrong_code

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


class TestUnityEligibility(EligibilityContract):
    PORTAL = PORTAL
    SHOWN_OUT_OF_NETWORK = "Out of network"

    def test_every_scenario_is_on_the_portal(self) -> None:
        assert tuple(appointments_on(PORTAL)) == ELIGIBILITY_SCENARIOS

    def test_the_wrong_code_visit_needs_a_code_its_authorization_does_not_cover(
        self, adapter: UnityHealthAdapter
    ) -> None:
        check_wrong_code(adapter, PORTAL)
