"""Lakeshore State Medicaid prior authorization and provider enrollment pages, through real Chromium."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fake_portal.data import generate, npi_with_check_digit
from fake_portal.launcher import RunningPortal
from fake_portal.programs import Authorization, generate_programs
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.errors import LayoutChanged, PortalUnavailable, RateLimited, RecordNotFound
from portals.lakeshore_medicaid import EnrollmentInquiryPage, LakeshoreMedicaidAdapter, PriorAuthInquiryPage
from portals.types import AuthorizationResult, Credentials, EnrollmentResult

pytestmark = pytest.mark.browser

START = date(2026, 11, 2)
DATASET = generate(seed=7, start=START)
PROGRAMS = generate_programs(DATASET, 7)
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == "medicaid")
LSM_AUTHS = sorted((a for a in PROGRAMS.authorizations.values() if a.payer_id == "LSM"), key=lambda a: a.auth_number)
LAPSED_PROVIDER = DATASET.providers[2].npi  # the data set's provider whose LSM enrollment lapsed


def auth(scenario: str) -> Authorization:
    return next(a for a in LSM_AUTHS if a.scenario == scenario)


def adapter(page: Page, portal: RunningPortal) -> LakeshoreMedicaidAdapter:
    answers = {str(ACCOUNT.security_question): str(ACCOUNT.security_answer)}
    creds = Credentials(ACCOUNT.username, ACCOUNT.password, security_answers=answers)
    return LakeshoreMedicaidAdapter(
        page,
        portal="lakeshore_medicaid",
        base_url=f"{portal.url}/medicaid",
        credentials=creds,
        timeouts=Timeouts(element_ms=3000),
    )


def expected_auth(a: Authorization, today: date = START) -> AuthorizationResult:
    """The truth in adapter terms: a pended request has no units authorized yet; legacy text is upper case."""
    status = a.status_on(today)
    assert status is not None
    return AuthorizationResult(
        auth_number=a.auth_number,
        status=status,
        procedure_codes=a.procedure_codes,
        units_approved=None if status == "pending" else a.units_approved,
        units_used=a.units_used_on(today),
        servicing_npi=a.servicing_npi,
        start=a.start,
        end=a.end,
        denial_reason=(a.denial_reason or "").upper() if status == "denied" else None,
        member_id=a.member_id,
    )


def expected_enrollment(npi: str, today: date = START) -> EnrollmentResult:
    e = PROGRAMS.enrollments[(npi, "LSM")]
    return EnrollmentResult(
        npi=npi,
        payer_id="LSM",
        status=e.status_on(today),
        effective=e.effective,
        termination=e.termination,
        revalidation_due=e.revalidation_due,
        payer_provider_id=e.payer_provider_id,
    )


def assert_no_phi(exc: BaseException, *auths: Authorization) -> None:
    text = str(exc)
    for a in auths:
        assert a.member_id not in text and a.patient_name not in text, "PHI leaked into an error message"
    assert ACCOUNT.password not in text and str(ACCOUNT.security_answer) not in text


# --- authorizations ----------------------------------------------------------------


def test_every_authorization_scenario_matches_the_truth(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    assert {a.scenario for a in LSM_AUTHS} == {
        "healthy",
        "expiring",
        "nearly_used",
        "pending_overdue",
        "pending_then_approved",
        "denied",
        "expires_soon",
        "cancelled",
        "claim_outside",
    }
    results = {a.auth_number: lsm.authorization(a.auth_number) for a in LSM_AUTHS}
    for a in LSM_AUTHS:
        assert results[a.auth_number] == expected_auth(a), a.scenario
    assert {r.status for r in results.values()} == {"approved", "pending", "denied", "expired", "cancelled"}
    assert results[auth("denied").auth_number].denial_reason
    assert lsm.logins == 1


def test_authorizations_follow_the_clock(page: Page, fake_portal: RunningPortal) -> None:
    pending, expiring, used = auth("pending_then_approved"), auth("expires_soon"), auth("nearly_used")
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    units_before = {a.auth_number: 0 for a in (pending, expiring, used)}
    elapsed = 0
    for day in (0, 3, 4, 5):  # decided at +3; the last day of the expiring one is +4
        fake_portal.admin("clock", {"days": day - elapsed})
        elapsed = day
        results = {a.auth_number: lsm.authorization(a.auth_number) for a in (pending, expiring, used)}
        for a in (pending, expiring, used):
            result = results[a.auth_number]
            assert result == expected_auth(a, START + timedelta(days=day)), (a.scenario, day)
            assert (result.units_used or 0) >= units_before[a.auth_number], "units used never shrink"
            units_before[a.auth_number] = result.units_used or 0
        assert results[pending.auth_number].status == ("pending" if day < 3 else "approved"), day
        assert results[expiring.auth_number].status == ("approved" if day < 5 else "expired"), day
    assert lsm.logins == 1


def test_a_recipients_authorization_list(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    for a in (auth("denied"), auth("pending_then_approved"), auth("claim_outside")):
        truth = [expected_auth(x) for x in LSM_AUTHS if x.member_id == a.member_id]
        assert lsm.member_authorizations(a.member_id) == truth, a.scenario
    assert lsm.logins == 1


def test_menu_links_to_the_new_pages(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    for link, form in (
        ("PRIOR AUTHORIZATION INQUIRY", PriorAuthInquiryPage),
        ("PROVIDER ENROLLMENT STATUS", EnrollmentInquiryPage),
    ):
        lsm.goto("menu")
        page.locator("#mainMenu a", has_text=link).click()
        expect(page.locator("table.pagetitle td")).to_have_text(form.TITLE)
        expect(page.locator(form.FORM)).to_be_visible()


# --- enrollments -------------------------------------------------------------------


def test_enrollments_active_and_lapsed(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    results = {p.npi: lsm.enrollment(p.npi) for p in DATASET.providers}
    for npi, result in results.items():
        assert result == expected_enrollment(npi), npi
    lapsed = results[LAPSED_PROVIDER]
    assert lapsed.status == "terminated" and lapsed.termination is not None and lapsed.termination < START
    assert [r.status for n, r in results.items() if n != LAPSED_PROVIDER] == ["active"] * 3
    assert lsm.logins == 1


# --- not found, layout, session, maintenance ------------------------------------------


def test_records_the_payer_does_not_have(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    other_payer = next(a for a in PROGRAMS.authorizations.values() if a.payer_id != "LSM")
    for number in ("LA999999", other_payer.auth_number):  # only Lakeshore's own authorizations are on file
        with pytest.raises(RecordNotFound) as missing:
            lsm.authorization(number)
        assert missing.value.number == number and number in str(missing.value)
    unknown_npi = npi_with_check_digit("123456789")
    with pytest.raises(RecordNotFound) as no_enrollment:
        lsm.enrollment(unknown_npi)
    assert unknown_npi in str(no_enrollment.value)
    assert lsm.member_authorizations("L000000001") == []  # NO RECORDS FOUND: nothing on file
    assert lsm.logins == 1


def test_layout_2_is_noticed_on_every_new_page(page: Page, fake_portal: RunningPortal) -> None:
    a = auth("healthy")
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    fake_portal.admin("faults/medicaid", {"layout": 2})
    with pytest.raises(LayoutChanged) as on_pa_form:
        lsm.authorization(a.auth_number)
    assert on_pa_form.value.page == "prior authorization inquiry"
    with pytest.raises(LayoutChanged) as on_enrollment_form:
        lsm.enrollment(a.servicing_npi)
    assert on_enrollment_form.value.page == "provider enrollment inquiry"

    # the release lands between the form and the answer: each answer page is checked too
    # each case's form is a page type of its own
    cases: list[tuple[Callable[[], Any], Callable[[Any], object], str, str]] = [
        (
            lambda: PriorAuthInquiryPage(lsm).open(),
            lambda f: f.search_number(a.auth_number).read(a.auth_number),
            "prior authorization detail",
            "missing",
        ),
        (
            lambda: PriorAuthInquiryPage(lsm).open(),
            lambda f: f.search_recipient(a.member_id).authorizations(),
            "prior authorization list",
            "columns",
        ),  # same table id, moved columns: not read
        (
            lambda: EnrollmentInquiryPage(lsm).open(),
            lambda f: f.search(a.servicing_npi).read(a.servicing_npi),
            "provider enrollment status",
            "missing",
        ),
    ]
    for open_form, answer, page_name, detail in cases:
        fake_portal.admin("faults/medicaid", {"layout": 1})
        form = open_form()
        fake_portal.admin("faults/medicaid", {"layout": 2})
        with pytest.raises(LayoutChanged) as changed:
            answer(form)
        assert (changed.value.page, detail in changed.value.detail) == (page_name, True), changed.value.detail
        assert_no_phi(changed.value, a)
    assert lsm.logins == 1


def test_expired_session_costs_one_relogin(page: Page, fake_portal: RunningPortal) -> None:
    a = auth("nearly_used")
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    assert lsm.authorization(a.auth_number) == expected_auth(a)
    fake_portal.admin("sessions/expire", {})  # what the idle timeout does to a session
    assert lsm.enrollment(LAPSED_PROVIDER) == expected_enrollment(LAPSED_PROVIDER)
    assert lsm.logins == 2
    fake_portal.admin("sessions/expire", {})
    assert lsm.member_authorizations(a.member_id) == [expected_auth(a)]
    assert lsm.logins == 3


def test_nightly_maintenance_on_the_new_pages(page: Page, fake_portal: RunningPortal) -> None:
    a = auth("healthy")
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    fake_portal.admin("clock", {"hours": 11.5})  # 23:30 portal time
    for lookup in (
        lambda: lsm.authorization(a.auth_number),
        lambda: lsm.member_authorizations(a.member_id),
        lambda: lsm.enrollment(a.servicing_npi),
    ):
        with pytest.raises(PortalUnavailable) as caught:
            lookup()
        assert not isinstance(caught.value, RateLimited)
        assert "maintenance" in str(caught.value)
        assert_no_phi(caught.value, a)
    assert lsm.logins == 1
