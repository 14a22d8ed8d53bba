"""Unity Health Plans' member eligibility lookup through a real Chromium: scenarios, the clock, faults, evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from playwright.sync_api import Page

from fake_portal.appointments import ELIGIBILITY_SCENARIOS
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.errors import LayoutChanged, PortalUnavailable
from portals.types import Credentials
from portals.unity_health import UnityHealthAdapter
from tests.eligibility_support import (
    PROGRAMS,
    START,
    TOMORROW,
    appointments_on,
    assert_scenario,
    comparable,
    expected,
    query_for,
)

pytestmark = pytest.mark.browser

ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == "commercial")
APPOINTMENTS = appointments_on("commercial")


@pytest.fixture
def adapter(page: Page, fake_portal: RunningPortal) -> UnityHealthAdapter:
    return UnityHealthAdapter(
        page,
        portal="unity_health",
        base_url=f"{fake_portal.url}/commercial",
        credentials=Credentials(ACCOUNT.username, ACCOUNT.password),
        timeouts=Timeouts(element_ms=3000),
    )


def test_every_scenario_is_read_as_the_payer_has_it(adapter: UnityHealthAdapter) -> None:
    assert tuple(APPOINTMENTS) == ELIGIBILITY_SCENARIOS
    for scenario, appointment in APPOINTMENTS.items():
        result = adapter.eligibility(query_for(appointment))
        assert comparable(result) == expected(appointment), scenario
        assert_scenario(scenario, result)
    assert adapter.logins == 1


def test_the_wrong_code_visit_needs_a_code_its_authorization_does_not_cover(adapter: UnityHealthAdapter) -> None:
    appointment = APPOINTMENTS["auth_required_wrong_code"]
    on_file = PROGRAMS.authorizations[appointment.auth_number]
    result = adapter.eligibility(query_for(appointment))
    assert result.auth_required_codes and not set(result.auth_required_codes) & set(on_file.procedure_codes)
    assert adapter.authorization(appointment.auth_number).procedure_codes == on_file.procedure_codes


def test_coverage_that_ends_overnight_reads_inactive_on_the_visit_day(
    adapter: UnityHealthAdapter, fake_portal: RunningPortal
) -> None:
    query = query_for(APPOINTMENTS["ended_overnight"])
    assert adapter.eligibility(query).coverage == "active"
    fake_portal.admin("clock", {"days": (TOMORROW - START).days, "hours": -5.5})  # 06:30 on the visit day
    after = adapter.eligibility(query)
    assert after.coverage == "inactive" and after.coverage_end == TOMORROW - timedelta(days=1)


def test_the_answer_stays_on_screen_for_a_pdf(adapter: UnityHealthAdapter) -> None:
    adapter.eligibility(query_for(APPOINTMENTS["out_of_network"]))
    snapshot = adapter.snapshot(pdf=True)
    assert snapshot.pdf.startswith(b"%PDF") and "Out of network" in snapshot.html


def test_maintenance_and_server_errors_are_the_portal_down(
    adapter: UnityHealthAdapter, fake_portal: RunningPortal
) -> None:
    query = query_for(APPOINTMENTS["active"])
    adapter.ensure_logged_in()
    for fault in ({"maintenance": True}, {"maintenance": False, "error_rate": 1.0}):
        fake_portal.admin("faults/commercial", fault)
        with pytest.raises(PortalUnavailable):
            adapter.eligibility(query)


def test_layout_2_is_a_changed_layout(adapter: UnityHealthAdapter, fake_portal: RunningPortal) -> None:
    adapter.ensure_logged_in()
    fake_portal.admin("faults/commercial", {"layout": 2})
    with pytest.raises(LayoutChanged, match="eligibility"):
        adapter.eligibility(query_for(APPOINTMENTS["active"]))


def test_an_inquiry_the_portal_refuses_is_named_not_guessed(adapter: UnityHealthAdapter) -> None:
    appointment = APPOINTMENTS["active"]
    with pytest.raises(LayoutChanged, match="refused") as caught:
        adapter.eligibility(replace(query_for(appointment), provider_npi="12345"))
    assert appointment.member_id not in str(caught.value)
