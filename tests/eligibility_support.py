"""The fake practice's appointments and what each payer has on file, as the eligibility tests expect them read."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Protocol

import pytest

from fake_portal.appointments import AUTH_REQUIRED_CODES, Appointment, generate_schedule, next_business_days
from fake_portal.data import generate
from fake_portal.launcher import RunningPortal
from fake_portal.programs import generate_programs
from portals.capabilities import AuthorizationLookup, EligibilityPortal
from portals.errors import LayoutChanged, PortalUnavailable
from portals.types import EligibilityQuery, EligibilityResult

START = date(2026, 11, 2)  # the fake portal's start date (tests/conftest.py), a Monday
DATASET = generate(seed=7, start=START)
PROGRAMS = generate_programs(DATASET, 7)
SCHEDULE = generate_schedule(DATASET, PROGRAMS, 7)
TOMORROW = next_business_days(START, 1)[0]


def appointments_on(portal: str, day: date = TOMORROW) -> dict[str, Appointment]:
    """The portal's appointments of the day by scenario (each scenario once on the first business day)."""
    return {a.scenario: a for a in SCHEDULE.appointments if a.portal == portal and a.day == day}


def query_for(appointment: Appointment) -> EligibilityQuery:
    return EligibilityQuery(
        payer_id=appointment.payer_id,
        member_id=appointment.member_id,
        date_of_birth=appointment.date_of_birth,
        provider_npi=appointment.rendering_npi,
        service_date=appointment.day,
        procedure_codes=appointment.procedure_codes,
    )


def comparable(result: EligibilityResult) -> EligibilityResult:
    """A result with the portal's own wording set aside: its words, and the case it prints names in."""
    return replace(
        result,
        portal_words="",
        plan_name=result.plan_name.casefold() if result.plan_name else None,
        other_insurance_primary=result.other_insurance_primary.casefold() if result.other_insurance_primary else None,
    )


def expected(appointment: Appointment, today: date = START) -> EligibilityResult:
    """What the payer has on file for this appointment on `today`, as `comparable` puts it."""
    coverage = SCHEDULE.coverage(appointment.payer_id, appointment.member_id)
    assert coverage is not None
    if coverage.date_of_birth != appointment.date_of_birth:
        return EligibilityResult(appointment.payer_id, "not_found", "")
    active = coverage.active_on(appointment.day, today)
    return EligibilityResult(
        payer_id=appointment.payer_id,
        coverage="active" if active else "inactive",
        portal_words="",
        member_id=coverage.member_id,
        plan_name=coverage.plan_name.casefold(),
        coverage_start=coverage.start,
        coverage_end=coverage.end_on(today),
        new_payer_id=coverage.moved_to.id if coverage.moved_to else None,
        new_member_id=coverage.member_id if coverage.member_id != appointment.member_id else None,
        other_insurance_primary=coverage.other_primary.name.casefold() if coverage.other_primary else None,
        auth_required_codes=tuple(c for c in appointment.procedure_codes if c in AUTH_REQUIRED_CODES),
        in_network=appointment.rendering_npi not in coverage.out_of_network_npis,
        deductible=coverage.deductible if active else None,
        deductible_met=coverage.deductible_met if active else None,
        coinsurance_percent=coverage.coinsurance_percent if active else None,
        copay=coverage.copay if active else None,
    )


def assert_scenario(scenario: str, result: EligibilityResult) -> None:
    """What makes each scenario that scenario, said once for every portal."""
    checks = {
        "active": result.coverage == "active" and result.deductible is not None and result.copay is not None,
        "coverage_ended": result.coverage == "inactive" and result.coverage_end == date(2026, 10, 31),
        "plan_change_member": result.coverage == "active" and result.new_member_id is not None,
        "plan_change_payer": result.coverage == "inactive" and result.new_payer_id is not None,
        "other_primary": result.other_insurance_primary is not None,
        "auth_required_none": bool(result.auth_required_codes),
        "auth_required_wrong_code": bool(result.auth_required_codes),
        "out_of_network": result.in_network is False,
        "dob_mismatch": result.coverage == "not_found" and "birth" in result.portal_words.lower(),
        "ended_overnight": result.coverage == "active" and result.coverage_end is None,
    }
    assert checks[scenario], (scenario, result)


# --- what every portal's eligibility test checks the same way, through a real Chromium ---------------------


def check_every_scenario(adapter: EligibilityPortal, portal: str) -> None:
    """Each of the portal's appointments of the first business day reads as its payer has it, with one login."""
    appointments = appointments_on(portal)
    for scenario, appointment in appointments.items():
        result = adapter.eligibility(query_for(appointment))
        assert comparable(result) == expected(appointment), scenario
        assert_scenario(scenario, result)
        assert result.portal_words
    assert adapter.logins == 1


class EligibilityAuthPortal(EligibilityPortal, AuthorizationLookup, Protocol):
    """A portal that answers eligibility and looks authorizations up (Unity, Lakeshore)."""


def check_wrong_code(adapter: EligibilityAuthPortal, portal: str) -> None:
    """The visit's planned code needs an authorization; the one on file (on the portal too) covers others."""
    appointment = appointments_on(portal)["auth_required_wrong_code"]
    on_file = PROGRAMS.authorizations[appointment.auth_number]
    result = adapter.eligibility(query_for(appointment))
    assert result.auth_required_codes and not set(result.auth_required_codes) & set(on_file.procedure_codes)
    assert adapter.authorization(appointment.auth_number).procedure_codes == on_file.procedure_codes


def check_ended_overnight(adapter: EligibilityPortal, fake_portal: RunningPortal, portal: str) -> None:
    """Active the afternoon before; at 06:30 on the visit day, ended the day before."""
    appointment = appointments_on(portal)["ended_overnight"]
    assert adapter.eligibility(query_for(appointment)).coverage == "active"
    fake_portal.admin("clock", {"days": (TOMORROW - START).days, "hours": -5.5})  # portal time starts at noon
    after = adapter.eligibility(query_for(appointment))
    assert after.coverage == "inactive" and after.coverage_end == TOMORROW - timedelta(days=1)
    assert comparable(after) == expected(appointment, TOMORROW)


def check_answer_printed(adapter: EligibilityPortal, portal: str, scenario: str, shown: str) -> None:
    """The answer stays on screen, so the evidence printed after it is the answer."""
    adapter.eligibility(query_for(appointments_on(portal)[scenario]))
    snapshot = adapter.snapshot(pdf=True)
    assert snapshot.pdf.startswith(b"%PDF") and shown in snapshot.html


def check_portal_down(adapter: EligibilityPortal, fake_portal: RunningPortal, portal: str) -> None:
    """Maintenance and server errors on the eligibility pages are PortalUnavailable."""
    query = query_for(appointments_on(portal)["active"])
    adapter.ensure_logged_in()
    for fault in ({"maintenance": True}, {"maintenance": False, "error_rate": 1.0}):
        fake_portal.admin(f"faults/{portal}", fault)
        with pytest.raises(PortalUnavailable):
            adapter.eligibility(query)


def check_layout_2(adapter: EligibilityPortal, fake_portal: RunningPortal, portal: str) -> None:
    adapter.ensure_logged_in()
    fake_portal.admin(f"faults/{portal}", {"layout": 2})
    with pytest.raises(LayoutChanged, match="eligibility"):
        adapter.eligibility(query_for(appointments_on(portal)["active"]))


def check_refused(adapter: EligibilityPortal, portal: str) -> None:
    """An inquiry the portal refuses (no NPI) is named, never read, and the error carries no member id."""
    appointment = appointments_on(portal)["active"]
    with pytest.raises(LayoutChanged, match="refused") as caught:
        adapter.eligibility(replace(query_for(appointment), provider_npi="12345"))
    assert appointment.member_id not in str(caught.value)


class EligibilityContract:
    """What every portal's eligibility inquiry must do; a portal's test class sets PORTAL and SHOWN (words its
    answer page shows for the out-of-network scenario) and provides an `adapter` fixture."""

    PORTAL: str
    SHOWN_OUT_OF_NETWORK: str

    def test_every_scenario_is_read_as_the_payer_has_it(self, adapter: EligibilityPortal) -> None:
        check_every_scenario(adapter, self.PORTAL)

    def test_coverage_that_ends_overnight_reads_inactive_on_the_visit_day(
        self, adapter: EligibilityPortal, fake_portal: RunningPortal
    ) -> None:
        check_ended_overnight(adapter, fake_portal, self.PORTAL)

    def test_the_answer_stays_on_screen_for_a_pdf(self, adapter: EligibilityPortal) -> None:
        check_answer_printed(adapter, self.PORTAL, "out_of_network", self.SHOWN_OUT_OF_NETWORK)

    def test_maintenance_and_server_errors_are_the_portal_down(
        self, adapter: EligibilityPortal, fake_portal: RunningPortal
    ) -> None:
        check_portal_down(adapter, fake_portal, self.PORTAL)

    def test_layout_2_is_a_changed_layout(self, adapter: EligibilityPortal, fake_portal: RunningPortal) -> None:
        check_layout_2(adapter, fake_portal, self.PORTAL)

    def test_an_inquiry_the_portal_refuses_is_named_not_guessed(self, adapter: EligibilityPortal) -> None:
        check_refused(adapter, self.PORTAL)
