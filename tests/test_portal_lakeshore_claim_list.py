"""Lakeshore's CLAIMS BY DATE OF SERVICE through the adapter's ClaimList, real Chromium against the fake portal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, Route

from fake_portal import launcher
from fake_portal.data import Claim, generate
from fake_portal.launcher import RunningPortal
from portals.errors import LayoutChanged
from portals.lakeshore_claims import ClaimListPage
from portals.types import ListedClaim
from tests.conftest import FAKE_PORTAL_ARGS
from tests.test_portal_lakeshore_medicaid import DATASET, PAYERS, START, adapter, assert_no_secrets, expected, query

pytestmark = pytest.mark.browser

EVERY_DOS = (date(2026, 8, 1), START)  # 94 days: every claim on file, in four ranges of at most 31 days
SHOWN = ("category_code", "status_code", "status_text", "status_date", "payer_claim_number")
MONEY = ("billed_amount", "paid_amount", "check_number")
BIG_CLAIMS_PER_PAYER = 80  # enough for a 31-day range of more than 25 claims


def on_file(dataset: Any = DATASET, today: date = START) -> dict[str, Claim]:
    return {c.claim_id: c for c in dataset.claims_for(PAYERS) if c.status_on(today) is not None}


def list_pages(portal: RunningPortal) -> int:
    return int(portal.admin("state")["requests_by_path"]["medicaid"].get("claims/list", 0))


def pages_opened(portal: RunningPortal, path: str) -> int:
    return int(portal.admin("state")["requests_by_path"]["medicaid"].get(path, 0))


def assert_row_is_the_claim(row: ListedClaim, claim: Claim, today: date = START) -> None:
    truth = expected(claim, today)
    assert row.shows == frozenset(SHOWN + MONEY)
    for field in row.shows:
        assert getattr(row.result, field) == getattr(truth, field), (claim.claim_id, field)
    assert (row.result.allowed_amount, row.result.payment_date, row.result.adjustments) == (None, None, ())


@pytest.fixture(scope="module")
def big_portal() -> Iterator[RunningPortal]:
    """A practice billing Lakeshore enough for one month's list to run over several pages."""
    server = launcher.start(*FAKE_PORTAL_ARGS, "--claims-per-payer", str(BIG_CLAIMS_PER_PAYER))
    try:
        yield server
    finally:
        server.stop()


def test_the_list_shows_every_claim_on_file_as_its_detail_page_does(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    listed = lsm.list_claims(*EVERY_DOS)

    truth = on_file()
    assert sorted(r.claim_id for r in listed) == sorted(truth)
    assert len({r.claim_id for r in listed}) == len(listed)
    assert {r.result.category_code for r in listed} >= {"F1", "F2", "P1", "A7"}
    for row in listed:
        claim = truth[row.claim_id]
        assert_row_is_the_claim(row, claim)
        assert row.detail_path == f"claims/detail?tcn={claim.payer_claim_number}"
        detail = lsm.claim_status(replace(query(claim), detail_path=row.detail_path))
        assert detail == expected(claim)
        for field in row.shows:  # the list and the detail page say the same
            assert getattr(row.result, field) == getattr(detail, field), (claim.claim_id, field)
    assert lsm.logins == 1


def test_a_range_longer_than_31_days_is_listed_in_parts(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    before = list_pages(fake_portal)
    listed = lsm.list_claims(*EVERY_DOS)
    assert sorted(r.claim_id for r in listed) == sorted(on_file())
    assert list_pages(fake_portal) - before == 4  # 94 days in ranges of at most 31, one page each

    in_september = {c.claim_id for c in on_file().values() if date(2026, 9, 1) <= c.dos_from <= date(2026, 9, 30)}
    before = list_pages(fake_portal)
    assert {r.claim_id for r in lsm.list_claims(date(2026, 9, 1), date(2026, 9, 30))} == in_september
    assert list_pages(fake_portal) - before == 1
    assert lsm.list_claims(date(2025, 1, 1), date(2025, 1, 31)) == []  # NO RECORDS FOUND


def test_the_portal_refuses_a_range_over_31_days_and_the_adapter_never_reads_it(
    page: Page, fake_portal: RunningPortal
) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    assert page.get_by_role("link", name="CLAIMS BY DATE OF SERVICE").count() >= 1  # on the menu
    dos_from, dos_to = date(2026, 8, 1), date(2026, 9, 1)  # 32 days
    with pytest.raises(LayoutChanged) as caught:
        ClaimListPage.open(lsm, dos_from, dos_to).listed(dos_from, dos_to)
    assert caught.value.page == "claim list" and "refused" in caught.value.detail
    assert page.get_by_text("MAY NOT EXCEED 31 DAYS").count() == 1
    assert page.locator("table#claimList").count() == 0
    for asked, says in (
        ("dosFrom=09/30/2026&dosTo=09/01/2026", "DOS TO CANNOT BE BEFORE DOS FROM"),
        ("dosFrom=13/45/2026&dosTo=09/01/2026", "MUST BE ENTERED AS MM/DD/YYYY"),
    ):
        lsm.goto(f"claims/list?{asked}")
        assert page.get_by_text(says).count() == 1
        assert page.locator("table#claimList").count() == 0


def test_a_list_longer_than_a_page_is_read_to_its_end(page: Page, big_portal: RunningPortal) -> None:
    big_portal.admin("reset", {})
    truth = on_file(generate(seed=7, start=START, claims_per_payer=BIG_CLAIMS_PER_PAYER))
    dos_from, dos_to = date(2026, 9, 1), date(2026, 10, 1)  # 31 days
    in_range = sorted(
        (c for c in truth.values() if c.dos_from <= dos_to and c.dos_to >= dos_from),
        key=lambda c: (c.dos_from, c.claim_id),
    )
    assert 25 < len(in_range) <= 50, "the big practice fills two pages of this month"
    lsm = adapter(page, big_portal)
    lsm.ensure_logged_in()
    before = list_pages(big_portal)

    listed = lsm.list_claims(dos_from, dos_to)

    assert [r.claim_id for r in listed] == [c.claim_id for c in in_range]  # every row once, in the portal's order
    for row in listed:
        assert_row_is_the_claim(row, truth[row.claim_id])
    assert list_pages(big_portal) - before == 2


def test_a_claim_adjudicated_after_the_clock_moves_changes_state_in_the_list(
    page: Page, fake_portal: RunningPortal
) -> None:
    claim = next(c for c in DATASET.claims_for(PAYERS) if c.outcome == "paid" and c.adjudicated > START)
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()

    def row() -> ListedClaim:
        return next(r for r in lsm.list_claims(*EVERY_DOS) if r.claim_id == claim.claim_id)

    before = row()
    assert (before.result.category_code, before.result.paid_amount, before.result.check_number) == ("P1", None, None)
    fake_portal.admin("clock", {"days": (claim.adjudicated - START).days})
    after = row()
    assert after.result.category_code == "F1" and after.result.check_number
    assert_row_is_the_claim(after, claim, claim.adjudicated)
    assert lsm.logins == 1


def test_moved_columns_are_a_layout_change_of_the_list(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    fake_portal.admin("faults/medicaid", {"layout": 2})
    with pytest.raises(LayoutChanged) as caught:
        lsm.list_claims(*EVERY_DOS)
    assert caught.value.page == "claim list"
    assert "columns" in caught.value.detail  # same table id, BILLED and PAID swapped: not read
    for claim in on_file().values():
        assert_no_secrets(caught.value, claim)


def test_a_session_that_times_out_mid_list_costs_one_login(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    seen: list[str] = []

    def time_out_before_the_second_page(route: Route) -> None:
        seen.append(route.request.url)
        if len(seen) == 2:  # what the portal's idle timeout does between two pages
            fake_portal.admin("sessions/expire", {})
        route.continue_()

    page.route(lambda url: "/medicaid/claims/list?" in url, time_out_before_the_second_page)
    listed = lsm.list_claims(*EVERY_DOS)

    assert sorted(r.claim_id for r in listed) == sorted(on_file())
    assert len(seen) == 2 + 4  # the page that timed out, then every range again after the one re-login
    assert lsm.logins == 2


def test_a_listed_claim_is_read_from_its_detail_page_without_the_inquiry(
    page: Page, fake_portal: RunningPortal
) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    listed = {r.claim_id: r for r in lsm.list_claims(*EVERY_DOS)}
    claim = next(c for c in on_file().values() if c.outcome == "denied" and c.adjudicated <= START)
    row = listed[claim.claim_id]
    inquiries = pages_opened(fake_portal, "claims/inquiry")

    direct = lsm.claim_status(replace(query(claim), detail_path=row.detail_path))

    assert pages_opened(fake_portal, "claims/inquiry") == inquiries  # no search form, no results page
    assert direct == lsm.claim_status(query(claim)) == expected(claim)
    assert pages_opened(fake_portal, "claims/inquiry") == inquiries + 2  # the search path: form, then results

    other = next(r for r in listed.values() if r.claim_id != claim.claim_id)
    with pytest.raises(LayoutChanged) as caught:  # a link to another claim's page is not this claim
        lsm.claim_status(replace(query(claim), detail_path=other.detail_path))
    assert caught.value.page == "claim detail" and "another claim" in caught.value.detail
    assert lsm.logins == 1
