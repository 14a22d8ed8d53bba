"""Summit Exchange provider enrollment: every provider's payer, ERA and EFT enrollment through a real Chromium."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page

from fake_portal.data import generate
from fake_portal.launcher import RunningPortal
from fake_portal.programs import Enrollment, generate_programs
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.errors import LayoutChanged, RateLimited, RecordNotFound
from portals.summit_exchange import EnrollmentPage, SummitExchangeAdapter
from portals.types import Credentials, EnrollmentResult

START = date(2026, 11, 2)
DATA = generate(seed=7, start=START)
PROGRAMS = generate_programs(DATA, 7)
CLEARINGHOUSE_PAYERS = ("NWM", "BBH")  # in the order the exchange lists them
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == "clearinghouse")
DEMO = Credentials(ACCOUNT.username, ACCOUNT.password, totp_secret=ACCOUNT.totp_secret)
UNKNOWN_NPI = "1999999992"


def make_adapter(page: Page, portal: RunningPortal) -> SummitExchangeAdapter:
    return SummitExchangeAdapter(
        page,
        portal="summit-exchange",
        base_url=f"{portal.url}/clearinghouse",
        credentials=DEMO,
        timeouts=Timeouts(element_ms=3000),
    )


def expected(npi: str, today: date) -> list[EnrollmentResult]:
    """The truth, as the adapter should normalise it."""
    records: list[Enrollment] = [PROGRAMS.enrollments[(npi, payer_id)] for payer_id in CLEARINGHOUSE_PAYERS]
    return [
        EnrollmentResult(
            npi=e.npi,
            payer_id=e.payer_id,
            status=e.status_on(today),
            effective=e.effective,
            termination=e.termination,
            revalidation_due=e.revalidation_due,
            payer_provider_id=e.payer_provider_id,
            era_enrolled=e.era_enrolled,
            eft_enrolled=e.eft_enrolled,
        )
        for e in records
    ]


def by_payer(results: list[EnrollmentResult]) -> dict[str, EnrollmentResult]:
    return {r.payer_id: r for r in results}


@pytest.mark.browser
def test_every_provider_matches_the_truth_with_one_login(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    seen = {p.npi: adapter.enrollments(p.npi) for p in DATA.providers}
    for npi, results in seen.items():
        assert results == expected(npi, START)
    first, fourth = (by_payer(seen[DATA.providers[i].npi]) for i in (0, 3))
    denied = first["BBH"]
    assert denied.status == "denied" and denied.effective is None and denied.revalidation_due is None
    assert denied.era_enrolled is False and denied.eft_enrolled is False
    assert first["NWM"].status == "active" and first["NWM"].era_enrolled and first["NWM"].eft_enrolled
    due = fourth["NWM"]
    assert due.status == "active" and due.revalidation_due == START + timedelta(days=45)
    assert all(r.status == "active" for npi, rs in seen.items() for r in rs if r is not denied)
    assert adapter.logins == 1


@pytest.mark.browser
def test_an_npi_without_records_is_not_found(page: Page, fake_portal: RunningPortal) -> None:
    assert UNKNOWN_NPI not in {p.npi for p in DATA.providers}
    adapter = make_adapter(page, fake_portal)
    with pytest.raises(RecordNotFound) as caught:
        adapter.enrollments(UNKNOWN_NPI)
    assert caught.value.number == UNKNOWN_NPI
    with pytest.raises(RecordNotFound):
        adapter.enrollments("12345")  # the portal refuses what is no NPI
    assert adapter.logins == 1
    assert not any(a["locked"] for a in fake_portal.admin("state")["accounts"])


@pytest.mark.browser
def test_layout_2_is_a_changed_layout(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    fake_portal.admin("faults/clearinghouse", {"layout": 2})
    with pytest.raises(LayoutChanged, match="provider enrollment"):
        adapter.enrollments(DATA.providers[0].npi)
    # The redesign also moved the columns: had only the ids been followed, the headers would not match.
    page.fill("#sx-enrollment-npi", DATA.providers[0].npi)
    page.click("#sx-find-enrollments")
    headers = page.locator("#sx-enrollment-records thead th").all_inner_texts()
    assert sorted(headers) == sorted(EnrollmentPage.COLUMNS) and headers != EnrollmentPage.COLUMNS


@pytest.mark.browser
def test_session_expired_costs_one_login(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    npi = DATA.providers[3].npi
    before = adapter.enrollments(npi)
    fake_portal.admin("sessions/expire", {})
    assert adapter.enrollments(npi) == before
    assert adapter.logins == 2


@pytest.mark.browser
def test_rate_limits_are_typed(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    npi = DATA.providers[0].npi
    adapter.ensure_logged_in()
    fake_portal.admin("faults/clearinghouse", {"rate_limited": True})
    with pytest.raises(RateLimited) as caught:
        adapter.enrollments(npi)
    assert caught.value.retry_after is not None
    fake_portal.admin("faults/clearinghouse", {"rate_limited": False})
    form = EnrollmentPage(adapter).open()
    fake_portal.admin("faults/clearinghouse", {"rate_limited": True})  # the look-up itself is refused
    with pytest.raises(RateLimited):
        form.look_up(npi)
    assert adapter.logins == 1
