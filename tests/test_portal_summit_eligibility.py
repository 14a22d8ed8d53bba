"""Summit Exchange eligibility & benefits through a real Chromium: every scenario, the clock, faults, evidence."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route

from fake_portal.appointments import ELIGIBILITY_SCENARIOS
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.errors import LayoutChanged, PortalUnavailable
from portals.summit_eligibility import EligibilityFormPage
from portals.summit_exchange import SummitExchangeAdapter
from portals.types import Credentials
from tests.eligibility_support import EligibilityContract, appointments_on, query_for

pytestmark = pytest.mark.browser

PORTAL = "clearinghouse"
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == PORTAL)


@pytest.fixture
def adapter(page: Page, fake_portal: RunningPortal) -> SummitExchangeAdapter:
    return SummitExchangeAdapter(
        page,
        portal="summit-exchange",
        base_url=f"{fake_portal.url}/{PORTAL}",
        credentials=Credentials(ACCOUNT.username, ACCOUNT.password, totp_secret=ACCOUNT.totp_secret),
        timeouts=Timeouts(element_ms=3000),
    )


class TestSummitEligibility(EligibilityContract):
    PORTAL = PORTAL
    SHOWN_OUT_OF_NETWORK = "Out of network"

    def test_every_scenario_is_on_the_portal(self) -> None:
        appointments = appointments_on(PORTAL)
        # No authorization program behind the exchange, so no authorization to be wrong about.
        assert set(appointments) == set(ELIGIBILITY_SCENARIOS) - {"auth_required_wrong_code"}
        assert {a.payer_id for a in appointments.values()} == {"NWM", "BBH"}  # both payers behind the exchange


def test_a_failed_inquiry_call_is_the_portal_down(adapter: SummitExchangeAdapter, fake_portal: RunningPortal) -> None:
    """The form loaded; the JSON call its JavaScript makes answers 500."""
    adapter.ensure_logged_in()
    form = EligibilityFormPage(adapter).visit()
    fake_portal.admin(f"faults/{PORTAL}", {"error_rate": 1.0})
    with pytest.raises(PortalUnavailable):
        form.ask(query_for(appointments_on(PORTAL)["active"]), adapter.call_json_api)


def test_an_answer_that_does_not_add_up_is_refused(adapter: SummitExchangeAdapter, page: Page) -> None:
    """A deductible met above the deductible (a moved figure, a broken page) is never read as a value."""

    def tampered(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        body["benefits"]["deductibleMet"] = str(float(body["benefits"]["deductible"]) + 100)
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api/eligibility/inquiry", tampered)
    appointment = appointments_on(PORTAL)["active"]
    with pytest.raises(LayoutChanged, match="deductible met is more than the deductible") as caught:
        adapter.eligibility(query_for(appointment))
    assert appointment.member_id not in str(caught.value)
