"""Unity Health Plans adapter against the fake commercial portal, through real Chromium."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page

from fake_portal import data
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.errors import (
    ClaimNotFound,
    LayoutChanged,
    LoginRejected,
    PortalUnavailable,
    RateLimited,
    SessionExpired,
)
from portals.types import Adjustment, ClaimQuery, ClaimStatusResult, Credentials
from portals.unity_health import ClaimDetailPage, ClaimsCsv, ClaimSearchPage, UnityHealthAdapter

pytestmark = pytest.mark.browser

TODAY = date(2026, 11, 2)  # the fake portal's start date (tests/conftest.py)
DATASET = data.generate(seed=7, start=TODAY)
UNITY_PAYERS = {p.id for p in data.PAYERS if p.portal == "commercial"}
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == "commercial")
EVERY_DOS = (TODAY - timedelta(days=365), TODAY)
PAGE_SIZE = 10

MakeAdapter = Callable[..., UnityHealthAdapter]


def unity_claim(outcome: str, category: str | None) -> data.Claim:
    """The first Unity claim with this outcome whose status today has this 277 category."""
    for claim in DATASET.claims_for(UNITY_PAYERS):
        status = claim.status_on(TODAY)
        if claim.outcome == outcome and (status.category if status else None) == category:
            return claim
    raise LookupError(f"no Unity claim with outcome {outcome} and category {category}")


def on_file(today: date = TODAY) -> dict[str, data.Claim]:
    return {c.claim_id: c for c in DATASET.claims_for(UNITY_PAYERS) if c.status_on(today) is not None}


def query(claim: data.Claim) -> ClaimQuery:
    return ClaimQuery(
        claim.claim_id, claim.payer_id, claim.member_id, claim.dos_from, claim.dos_to, claim.billed, claim.rendering_npi
    )


def expected_adjustments(claim: data.Claim, status: data.Status) -> tuple[Adjustment, ...]:
    procedure = {line.line_no: line.procedure for line in claim.lines}
    return tuple(
        Adjustment(a.group_code, a.carc, a.amount, a.rarcs, procedure.get(a.line_no) if a.line_no else None)
        for a in status.adjustments
    )


def assert_matches(result: ClaimStatusResult, claim: data.Claim, today: date = TODAY) -> None:
    status = claim.status_on(today)
    assert status is not None
    assert result.claim_id == claim.claim_id
    assert result.category_code == status.category
    assert result.status_date == status.effective
    assert result.payer_claim_number == claim.payer_claim_number
    assert result.billed_amount == claim.billed
    assert result.allowed_amount == status.allowed
    assert result.paid_amount == status.paid
    assert result.check_number == status.check_number
    assert result.payment_date == status.payment_date
    assert result.adjustments == expected_adjustments(claim, status)


@pytest.fixture
def make_adapter(page: Page, fake_portal: RunningPortal) -> MakeAdapter:
    def make(username: str = ACCOUNT.username, password: str = ACCOUNT.password) -> UnityHealthAdapter:
        return UnityHealthAdapter(
            page,
            portal="unity_health",
            base_url=f"{fake_portal.url}/commercial",
            credentials=Credentials(username, password),
            timeouts=Timeouts(element_ms=3000),
        )

    return make


def commercial_account(fake_portal: RunningPortal, username: str) -> dict[str, Any]:
    accounts = fake_portal.admin("state")["accounts"]
    return next(a for a in accounts if a["portal"] == "commercial" and a["username"] == username)


def test_login_accepts_the_terms_notice(make_adapter: MakeAdapter, page: Page, fake_portal: RunningPortal) -> None:
    portal = f"{fake_portal.url}/commercial"
    page.goto(f"{portal}/login")
    page.fill("#username", ACCOUNT.username)
    page.fill("#password", ACCOUNT.password)
    page.click("#sign-in")
    page.locator("#terms-notice").wait_for()
    page.goto(f"{portal}/claims")
    assert page.url.endswith("/commercial/notice")  # nothing else before the notice is acknowledged

    adapter = make_adapter()
    assert not adapter.is_logged_in()
    adapter.ensure_logged_in()
    assert adapter.logins == 1
    assert adapter.is_logged_in()
    adapter.ensure_logged_in()
    assert adapter.logins == 1


def test_finalised_claims_match_the_data_set(make_adapter: MakeAdapter) -> None:
    paid, partial = unity_claim("paid", "F1"), unity_claim("partial", "F1")
    denied = [c for c in DATASET.claims_for(UNITY_PAYERS) if c.outcome == "denied" and c.adjudicated <= TODAY]
    assert len(denied) >= 2
    adapter = make_adapter()
    adapter.ensure_logged_in()

    results = {c.claim_id: adapter.claim_status(query(c)) for c in (paid, partial, *denied)}

    for claim in (paid, partial, *denied):
        assert_matches(results[claim.claim_id], claim)
    assert results[paid.claim_id].status_text == "Paid"
    assert results[partial.claim_id].status_text == "Partially paid"
    for claim in denied:
        result, truth = results[claim.claim_id], claim.history[-1].adjustments[0]
        assert result.status_text == "Denied" and result.paid_amount == 0
        assert [(a.group_code, a.carc, a.rarcs) for a in result.adjustments] == [
            (truth.group_code, truth.carc, truth.rarcs)
        ]
    assert adapter.logins == 1


def test_open_claims_show_their_status(make_adapter: MakeAdapter) -> None:
    adapter = make_adapter()
    adapter.ensure_logged_in()
    for outcome, category, words in (
        ("pending", "P1", "In process"),
        ("info_requested", "P3", "Pending - information requested"),
        ("rejected", "A7", "Rejected"),
    ):
        claim = unity_claim(outcome, category)
        result = adapter.claim_status(query(claim))
        assert_matches(result, claim)
        assert result.status_text == words
        assert result.paid_amount is None and result.check_number is None and result.adjustments == ()
    assert adapter.logins == 1


def test_pending_claim_adjudicates_after_the_clock_advances(
    make_adapter: MakeAdapter, fake_portal: RunningPortal
) -> None:
    claim = unity_claim("paid", "P1")
    adapter = make_adapter()
    adapter.ensure_logged_in()
    assert adapter.claim_status(query(claim)).category_code == "P1"

    days = (claim.adjudicated - TODAY).days
    fake_portal.admin("clock", {"days": days})
    result = adapter.claim_status(query(claim))
    assert result.category_code == "F1"
    assert result.check_number and result.paid_amount
    assert_matches(result, claim, today=claim.adjudicated)


def test_claim_not_on_file_is_claim_not_found(make_adapter: MakeAdapter) -> None:
    claim = unity_claim("not_on_file", None)
    adapter = make_adapter()
    with pytest.raises(ClaimNotFound) as caught:
        adapter.claim_status(query(claim))
    assert caught.value.claim_id == claim.claim_id
    assert adapter.logins == 1  # the first look found the sign-in page and logged in once


def test_the_list_shows_every_claim_on_file_and_links_its_detail_page(make_adapter: MakeAdapter) -> None:
    adapter = make_adapter()
    adapter.ensure_logged_in()
    listed = adapter.list_claims(*EVERY_DOS)

    truth = on_file()
    assert sorted(r.claim_id for r in listed) == sorted(truth)
    for row in listed:
        claim, result = truth[row.claim_id], row.result
        status = claim.status_on(TODAY)
        assert status is not None
        assert "status_code" not in row.shows and "check_number" in row.shows
        assert (
            result.category_code,
            result.status_date,
            result.billed_amount,
            result.allowed_amount,
            result.paid_amount,
            result.check_number,
            result.payment_date,
            result.adjustments,
        ) == (
            status.category,
            status.effective,
            claim.billed,
            status.allowed,
            status.paid,
            status.check_number,
            status.payment_date,
            (),
        )
    # the linked detail page is the claim's, read without a search
    row = next(r for r in listed if r.result.category_code == "F2")
    detail = adapter.claim_status(replace(query(truth[row.claim_id]), detail_path=row.detail_path))
    assert_matches(detail, truth[row.claim_id])

    dos_from, dos_to = date(2026, 9, 1), date(2026, 9, 30)
    in_september = {c.claim_id for c in truth.values() if dos_from <= c.dos_from <= dos_to}
    assert {r.claim_id for r in adapter.list_claims(dos_from, dos_to)} == in_september


def test_a_range_longer_than_the_portal_allows_is_listed_in_parts(
    make_adapter: MakeAdapter, fake_portal: RunningPortal
) -> None:
    adapter = make_adapter()
    adapter.ensure_logged_in()
    before = fake_portal.admin("state")["requests_by_path"]["commercial"].get("claims/export.csv", 0)
    listed = adapter.list_claims(TODAY - timedelta(days=800), TODAY)
    assert sorted(r.claim_id for r in listed) == sorted(on_file())
    after = fake_portal.admin("state")["requests_by_path"]["commercial"]["claims/export.csv"]
    assert after - before == 3  # 800 days in ranges of at most 366


def test_wrong_password_is_login_rejected_and_not_retried(
    make_adapter: MakeAdapter, fake_portal: RunningPortal
) -> None:
    wrong = "Not-The-Password-9"
    adapter = make_adapter(password=wrong)
    with pytest.raises(LoginRejected) as caught:
        adapter.ensure_logged_in()
    assert wrong not in str(caught.value) and ACCOUNT.username not in str(caught.value)
    account = commercial_account(fake_portal, ACCOUNT.username)
    assert account["locked"] is False and account["failed_logins"] == 1


def test_locked_account_is_login_rejected(make_adapter: MakeAdapter, fake_portal: RunningPortal) -> None:
    fake_portal.admin(
        "accounts", {"portal": "commercial", "username": "locked.biller", "password": "Locked-Pass-1", "locked": True}
    )
    adapter = make_adapter(username="locked.biller", password="Locked-Pass-1")
    with pytest.raises(LoginRejected, match="locked") as caught:
        adapter.ensure_logged_in()
    assert "Locked-Pass-1" not in str(caught.value)


def test_session_expired_mid_batch_costs_exactly_one_login(
    make_adapter: MakeAdapter, fake_portal: RunningPortal
) -> None:
    batch = [unity_claim("paid", "F1"), unity_claim("denied", "F2"), unity_claim("pending", "P1")]
    adapter = make_adapter()
    adapter.ensure_logged_in()
    results = [adapter.claim_status(query(batch[0]))]
    fake_portal.admin("sessions/expire", {})
    results += [adapter.claim_status(query(claim)) for claim in batch[1:]]

    for result, claim in zip(results, batch, strict=True):
        assert_matches(result, claim)
    assert adapter.logins == 2

    fake_portal.admin("sessions/expire", {})
    with pytest.raises(SessionExpired):  # the CSV download lands on the sign-in page
        ClaimsCsv(adapter).listed(*EVERY_DOS)


def test_layout_2_is_layout_changed(make_adapter: MakeAdapter, fake_portal: RunningPortal) -> None:
    claim = unity_claim("paid", "F1")
    adapter = make_adapter()
    adapter.ensure_logged_in()
    detail_path = (
        ClaimSearchPage.open(adapter)
        .search(claim.dos_from, claim.dos_to, account=claim.claim_id)
        .find_detail(claim.claim_id, None)
    )
    assert detail_path is not None
    fake_portal.admin("faults/commercial", {"layout": 2})

    with pytest.raises(LayoutChanged) as on_list:
        adapter.claim_status(query(claim))
    assert on_list.value.page == "claim search results"
    with pytest.raises(LayoutChanged) as on_detail:
        ClaimDetailPage.open(adapter, detail_path)
    assert on_detail.value.page == "claim detail"
    with pytest.raises(LayoutChanged) as on_export:  # its columns were renamed and moved
        adapter.list_claims(*EVERY_DOS)
    assert on_export.value.page == "claims CSV export"


def test_maintenance_is_portal_unavailable(make_adapter: MakeAdapter, fake_portal: RunningPortal) -> None:
    adapter = make_adapter()
    adapter.ensure_logged_in()
    search = ClaimSearchPage.open(adapter)
    fake_portal.admin("faults/commercial", {"maintenance": True})
    with pytest.raises(PortalUnavailable) as on_submit:  # the maintenance page after a form, found by its look
        search.search(*EVERY_DOS)
    with pytest.raises(PortalUnavailable) as on_load:  # and after a navigation, by its HTTP 503
        adapter.claim_status(query(unity_claim("paid", "F1")))
    assert not isinstance(on_submit.value, RateLimited) and not isinstance(on_load.value, RateLimited)


def test_too_many_requests_is_rate_limited(make_adapter: MakeAdapter, fake_portal: RunningPortal) -> None:
    adapter = make_adapter()
    adapter.ensure_logged_in()
    fake_portal.admin("faults/commercial", {"rate_limited": True})
    with pytest.raises(RateLimited) as on_download:
        ClaimsCsv(adapter).listed(*EVERY_DOS)
    with pytest.raises(RateLimited) as on_load:
        adapter.claim_status(query(unity_claim("paid", "F1")))
    assert on_download.value.retry_after is not None and on_load.value.retry_after is not None


def test_server_errors_are_portal_unavailable(make_adapter: MakeAdapter, fake_portal: RunningPortal) -> None:
    fake_portal.admin("faults/commercial", {"error_rate": 1.0})
    adapter = make_adapter()
    with pytest.raises(PortalUnavailable):
        adapter.ensure_logged_in()
    assert adapter.logins == 0
