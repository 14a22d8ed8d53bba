"""Unity Health Plans: prior authorizations and provider enrollment, through real Chromium."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page

from fake_portal import data
from fake_portal.launcher import RunningPortal
from fake_portal.programs import Authorization, Enrollment, generate_programs
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.errors import LayoutChanged, PortalUnavailable, RecordNotFound, SessionExpired
from portals.types import AuthorizationResult, Credentials, EnrollmentResult
from portals.unity_health import AuthLookupPage, UnityHealthAdapter

pytestmark = pytest.mark.browser

TODAY = date(2026, 11, 2)  # the fake portal's start date (tests/conftest.py)
DATASET = data.generate(seed=7, start=TODAY)
PROGRAMS = generate_programs(DATASET, 7)
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == "commercial")
UNITY_AUTHS = {a.scenario: a for a in PROGRAMS.authorizations.values() if a.payer_id == "UHP"}
OTHER_AUTH = next(a for a in PROGRAMS.authorizations.values() if a.payer_id != "UHP")
PROVIDERS = [p.npi for p in DATASET.providers]
UNKNOWN_NPI = "1000000004"

MakeAdapter = Callable[[], UnityHealthAdapter]


def expected_auth(auth: Authorization, today: date = TODAY) -> AuthorizationResult:
    status = auth.status_on(today)
    assert status is not None
    return AuthorizationResult(
        auth_number=auth.auth_number,
        status=status,
        procedure_codes=auth.procedure_codes,
        units_approved=None if status == "pending" else auth.units_approved,  # nothing approved while pending
        units_used=auth.units_used_on(today),
        servicing_npi=auth.servicing_npi,
        start=auth.start,
        end=auth.end,
        denial_reason=auth.denial_reason if status == "denied" else None,
        member_id=auth.member_id,
    )


def expected_enrollment(enrollment: Enrollment, today: date = TODAY) -> EnrollmentResult:
    status = enrollment.status_on(today)
    return EnrollmentResult(
        npi=enrollment.npi,
        payer_id="UHP",
        status=status,
        effective=enrollment.effective if status in {"active", "terminated"} else None,
        termination=enrollment.termination if status == "terminated" else None,
        revalidation_due=enrollment.revalidation_due if status == "active" else None,
        payer_provider_id=enrollment.payer_provider_id,
    )


def unity_enrollment(provider_index: int) -> Enrollment:
    return PROGRAMS.enrollments[(PROVIDERS[provider_index], "UHP")]


def assert_no_phi(error: Exception, auth: Authorization) -> None:
    assert auth.member_id not in str(error) and auth.patient_name not in str(error)


@pytest.fixture
def make_adapter(page: Page, fake_portal: RunningPortal) -> MakeAdapter:
    def make() -> UnityHealthAdapter:
        return UnityHealthAdapter(
            page,
            portal="unity_health",
            base_url=f"{fake_portal.url}/commercial",
            credentials=Credentials(ACCOUNT.username, ACCOUNT.password),
            timeouts=Timeouts(element_ms=3000),
        )

    return make


def test_every_authorization_scenario_matches_the_truth(make_adapter: MakeAdapter) -> None:
    assert len(UNITY_AUTHS) == 9
    adapter = make_adapter()
    adapter.ensure_logged_in()

    results = {scenario: adapter.authorization(auth.auth_number) for scenario, auth in UNITY_AUTHS.items()}

    for scenario, auth in UNITY_AUTHS.items():
        assert results[scenario] == expected_auth(auth), scenario
    assert {r.status for r in results.values()} == {"approved", "pending", "denied", "cancelled"}
    assert results["denied"].denial_reason and results["denied"].units_approved == 0
    assert results["nearly_used"].units_used == 9 and results["nearly_used"].units_approved == 10
    assert adapter.logins == 1


def test_authorizations_change_with_the_clock(make_adapter: MakeAdapter, fake_portal: RunningPortal) -> None:
    pending, expires_soon = UNITY_AUTHS["pending_then_approved"], UNITY_AUTHS["expires_soon"]
    nearly_used = UNITY_AUTHS["nearly_used"]
    adapter = make_adapter()
    adapter.ensure_logged_in()
    assert adapter.authorization(pending.auth_number).status == "pending"
    assert adapter.authorization(expires_soon.auth_number).status == "approved"

    fake_portal.admin("clock", {"days": 3})  # decided at start + 3
    approved = adapter.authorization(pending.auth_number)
    assert approved == expected_auth(pending, TODAY + timedelta(days=3))
    assert approved.status == "approved" and approved.units_approved == pending.units_approved

    fake_portal.admin("clock", {"days": 2})  # ended at start + 4
    expired = adapter.authorization(expires_soon.auth_number)
    assert expired == expected_auth(expires_soon, TODAY + timedelta(days=5))
    assert expired.status == "expired"

    # Every visit of the data set is before the start date: step the clock back to watch units being used.
    fake_portal.admin("clock", {"days": -9})
    used: list[int] = []
    for day in range(-4, 1):
        units_used = adapter.authorization(nearly_used.auth_number).units_used
        assert units_used == nearly_used.units_used_on(TODAY + timedelta(days=day))
        used.append(units_used)
        fake_portal.admin("clock", {"days": 1})
    assert used == sorted(used) and used[0] < used[-1]
    assert adapter.logins == 1


def test_member_list_shows_only_that_members_unity_authorizations(make_adapter: MakeAdapter) -> None:
    denied, pending = UNITY_AUTHS["denied"], UNITY_AUTHS["pending_overdue"]
    members_with_auths = {a.member_id for a in PROGRAMS.authorizations.values()}
    without_auth = next(c.member_id for c in DATASET.claims_for({"UHP"}) if c.member_id not in members_with_auths)
    adapter = make_adapter()
    adapter.ensure_logged_in()

    for auth in (denied, pending):
        expected = [expected_auth(a) for a in UNITY_AUTHS.values() if a.member_id == auth.member_id]
        assert adapter.member_authorizations(auth.member_id) == expected
    assert adapter.member_authorizations(without_auth) == []
    assert adapter.member_authorizations(OTHER_AUTH.member_id) == []  # another payer's member
    assert adapter.logins == 1


def test_unknown_authorization_and_npi_are_record_not_found(make_adapter: MakeAdapter) -> None:
    adapter = make_adapter()
    adapter.ensure_logged_in()
    for number in ("UA999999", OTHER_AUTH.auth_number):  # unknown, and another payer's
        with pytest.raises(RecordNotFound) as caught:
            adapter.authorization(number)
        assert caught.value.number == number and caught.value.kind == "authorization"
    with pytest.raises(RecordNotFound) as no_enrollment:
        adapter.enrollment(UNKNOWN_NPI)
    assert no_enrollment.value.number == UNKNOWN_NPI
    assert adapter.logins == 1


def test_enrollments_match_the_truth_and_go_active(make_adapter: MakeAdapter, fake_portal: RunningPortal) -> None:
    scenarios = {unity_enrollment(i).scenario for i in range(len(PROVIDERS))}
    assert scenarios == {"active", "in_process_then_active"}  # seed 7 gives Unity no denied or lapsed provider
    adapter = make_adapter()
    adapter.ensure_logged_in()

    for index in range(len(PROVIDERS)):
        assert adapter.enrollment(PROVIDERS[index]) == expected_enrollment(unity_enrollment(index))
    in_process = adapter.enrollment(PROVIDERS[1])
    assert in_process.status == "in_process" and in_process.effective is None
    assert adapter.enrollment(PROVIDERS[0]).status == "active"

    fake_portal.admin("clock", {"days": 5})
    active = adapter.enrollment(PROVIDERS[1])
    assert active == expected_enrollment(unity_enrollment(1), TODAY + timedelta(days=5))
    assert active.status == "active" and active.effective == TODAY + timedelta(days=5)
    assert adapter.logins == 1


def test_layout_2_is_layout_changed(make_adapter: MakeAdapter, fake_portal: RunningPortal) -> None:
    auth = UNITY_AUTHS["healthy"]
    adapter = make_adapter()
    adapter.ensure_logged_in()
    fake_portal.admin("faults/commercial", {"layout": 2})

    with pytest.raises(LayoutChanged) as on_detail:
        adapter.authorization(auth.auth_number)
    assert on_detail.value.page == "authorization detail"
    with pytest.raises(LayoutChanged) as on_list:
        adapter.member_authorizations(auth.member_id)
    assert on_list.value.page == "member authorizations"
    with pytest.raises(LayoutChanged) as on_enrollment:
        adapter.enrollment(PROVIDERS[0])
    assert on_enrollment.value.page == "provider enrollment"
    for error in (on_detail.value, on_list.value, on_enrollment.value):
        assert_no_phi(error, auth)


def test_session_expired_mid_way_costs_one_login(make_adapter: MakeAdapter, fake_portal: RunningPortal) -> None:
    healthy, denied = UNITY_AUTHS["healthy"], UNITY_AUTHS["denied"]
    adapter = make_adapter()
    adapter.ensure_logged_in()
    assert adapter.authorization(healthy.auth_number) == expected_auth(healthy)

    fake_portal.admin("sessions/expire", {})
    assert adapter.authorization(denied.auth_number) == expected_auth(denied)
    assert adapter.member_authorizations(denied.member_id) == [expected_auth(denied)]
    assert adapter.enrollment(PROVIDERS[0]) == expected_enrollment(unity_enrollment(0))
    assert adapter.logins == 2

    lookup = AuthLookupPage.open(adapter)
    fake_portal.admin("sessions/expire", {})
    with pytest.raises(SessionExpired) as caught:  # the member form posted into an ended session
        lookup.member_list(denied.member_id)
    assert_no_phi(caught.value, denied)
    assert adapter.member_authorizations(denied.member_id) == [expected_auth(denied)]
    assert adapter.logins == 3


def test_maintenance_on_the_authorization_pages_is_portal_unavailable(
    make_adapter: MakeAdapter, fake_portal: RunningPortal
) -> None:
    adapter = make_adapter()
    adapter.ensure_logged_in()
    fake_portal.admin("faults/commercial", {"maintenance": True})
    with pytest.raises(PortalUnavailable):
        adapter.authorization(UNITY_AUTHS["healthy"].auth_number)
    with pytest.raises(PortalUnavailable):
        adapter.enrollment(PROVIDERS[0])
