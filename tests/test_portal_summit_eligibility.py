"""Summit Exchange eligibility & benefits through a real Chromium: every scenario, the clock, faults, evidence."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from playwright.sync_api import Page, Route

from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.errors import LayoutChanged, PortalUnavailable
from portals.summit_exchange import SummitExchangeAdapter
from portals.types import Credentials
from tests.eligibility_support import (
    START,
    TOMORROW,
    appointments_on,
    assert_scenario,
    comparable,
    expected,
    query_for,
)

pytestmark = pytest.mark.browser

ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == "clearinghouse")
APPOINTMENTS = appointments_on("clearinghouse")


@pytest.fixture
def adapter(page: Page, fake_portal: RunningPortal) -> SummitExchangeAdapter:
    return SummitExchangeAdapter(
        page,
        portal="summit-exchange",
        base_url=f"{fake_portal.url}/clearinghouse",
        credentials=Credentials(ACCOUNT.username, ACCOUNT.password, totp_secret=ACCOUNT.totp_secret),
        timeouts=Timeouts(element_ms=3000),
    )


def test_every_scenario_is_read_as_the_payer_has_it(adapter: SummitExchangeAdapter) -> None:
    assert set(APPOINTMENTS) == {
        "active",
        "coverage_ended",
        "plan_change_member",
        "plan_change_payer",
        "other_primary",
        "auth_required_none",
        "out_of_network",
        "dob_mismatch",
        "ended_overnight",
    }
    assert {a.payer_id for a in APPOINTMENTS.values()} == {"NWM", "BBH"}  # both payers behind the exchange
    for scenario, appointment in APPOINTMENTS.items():
        result = adapter.eligibility(query_for(appointment))
        assert comparable(result) == expected(appointment), scenario
        assert_scenario(scenario, result)
        assert result.portal_words
    assert adapter.logins == 1


def test_coverage_that_ends_overnight_reads_inactive_on_the_visit_day(
    adapter: SummitExchangeAdapter, fake_portal: RunningPortal
) -> None:
    query = query_for(APPOINTMENTS["ended_overnight"])
    assert adapter.eligibility(query).coverage == "active"
    fake_portal.admin("clock", {"days": (TOMORROW - START).days, "hours": -5.5})  # 06:30 on the visit day
    after = adapter.eligibility(query)
    assert after.coverage == "inactive" and after.coverage_end == TOMORROW - timedelta(days=1)
    assert comparable(after) == expected(APPOINTMENTS["ended_overnight"], TOMORROW)


def test_the_answer_stays_on_screen_for_a_pdf(adapter: SummitExchangeAdapter) -> None:
    result = adapter.eligibility(query_for(APPOINTMENTS["other_primary"]))
    snapshot = adapter.snapshot(pdf=True)
    assert snapshot.pdf.startswith(b"%PDF") and snapshot.url.endswith("/clearinghouse/eligibility")
    assert "Other insurance is primary" in snapshot.html and result.other_insurance_primary


def test_maintenance_and_server_errors_are_the_portal_down(
    adapter: SummitExchangeAdapter, fake_portal: RunningPortal
) -> None:
    query = query_for(APPOINTMENTS["active"])
    adapter.ensure_logged_in()
    fake_portal.admin("faults/clearinghouse", {"maintenance": True})
    with pytest.raises(PortalUnavailable):
        adapter.eligibility(query)
    fake_portal.admin("faults/clearinghouse", {"maintenance": False})
    adapter.goto("eligibility")
    fake_portal.admin("faults/clearinghouse", {"error_rate": 1.0})  # the inquiry's own call fails
    with pytest.raises(PortalUnavailable):
        adapter.eligibility(query)


def test_layout_2_is_a_changed_layout(adapter: SummitExchangeAdapter, fake_portal: RunningPortal) -> None:
    adapter.ensure_logged_in()
    fake_portal.admin("faults/clearinghouse", {"layout": 2})
    with pytest.raises(LayoutChanged, match="eligibility"):
        adapter.eligibility(query_for(APPOINTMENTS["active"]))


def test_an_inquiry_the_portal_refuses_is_named_not_guessed(adapter: SummitExchangeAdapter) -> None:
    appointment = APPOINTMENTS["active"]
    bad = replace(query_for(appointment), provider_npi="12345")
    with pytest.raises(LayoutChanged, match="refused the eligibility inquiry") as caught:
        adapter.eligibility(bad)
    assert appointment.member_id not in str(caught.value)


def test_an_answer_that_does_not_add_up_is_refused(adapter: SummitExchangeAdapter, page: Page) -> None:
    """A deductible met above the deductible (a moved figure, a broken page) is never read as a value."""

    def tampered(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        body["benefits"]["deductibleMet"] = str(float(body["benefits"]["deductible"]) + 100)
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api/eligibility/inquiry", tampered)
    appointment = APPOINTMENTS["active"]
    with pytest.raises(LayoutChanged, match="deductible met is more than the deductible") as caught:
        adapter.eligibility(query_for(appointment))
    assert appointment.member_id not in str(caught.value)
