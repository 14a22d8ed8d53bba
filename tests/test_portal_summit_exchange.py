"""Summit Exchange adapter against the fake clearinghouse portal, through a real Chromium."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page

from fake_portal.data import Claim, generate
from fake_portal.launcher import RunningPortal
from fake_portal.world import DEFAULT_ACCOUNTS
from portals.base import Timeouts
from portals.errors import (
    ClaimNotFound,
    LayoutChanged,
    LoginRejected,
    MfaRejected,
    MfaRequired,
    PortalUnavailable,
    RateLimited,
    SessionExpired,
)
from portals.summit_claims import ClaimSearchPage
from portals.summit_exchange import SummitExchangeAdapter
from portals.types import Adjustment, ClaimQuery, ClaimStatusResult, Credentials

pytestmark = pytest.mark.browser

START = date(2026, 11, 2)
DATA = generate(seed=7, start=START)
CLEARINGHOUSE_PAYERS = {"NWM", "BBH"}
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == "clearinghouse")
DEMO = Credentials(ACCOUNT.username, ACCOUNT.password, totp_secret=ACCOUNT.totp_secret)
OTHER_SECRET = "KRUGS4ZANFZSAYJAORSXG5BAONSWG4TFOQ"  # valid base32, not the account's


def claim_where(outcome: str, category: str, today: date = START) -> Claim:
    for claim in DATA.claims_for(CLEARINGHOUSE_PAYERS):
        status = claim.status_on(today)
        if claim.outcome == outcome and (status.category if status else None) == category:
            return claim
    raise LookupError(f"no clearinghouse claim with outcome {outcome} in category {category}")


def not_on_file_claim() -> Claim:
    return next(c for c in DATA.claims_for(CLEARINGHOUSE_PAYERS) if c.outcome == "not_on_file")


def query_for(claim: Claim) -> ClaimQuery:
    return ClaimQuery(
        claim_id=claim.claim_id,
        payer_id=claim.payer_id,
        member_id=claim.member_id,
        dos_from=claim.dos_from,
        dos_to=claim.dos_to,
        billed_amount=claim.billed,
        rendering_npi=claim.rendering_npi,
    )


def expected_result(claim: Claim, today: date = START) -> ClaimStatusResult:
    """What the adapter must read, built from the data set the portal serves."""
    status = claim.status_on(today)
    assert status is not None
    procedures: dict[int | None, str] = {line.line_no: line.procedure for line in claim.lines}
    return ClaimStatusResult(
        claim_id=claim.claim_id,
        category_code=status.category,
        status_code=status.status_code,
        status_text=status.text,
        status_date=status.effective,
        payer_claim_number=claim.payer_claim_number,
        billed_amount=claim.billed,
        allowed_amount=status.allowed,
        paid_amount=status.paid,
        check_number=status.check_number,
        payment_date=status.payment_date,
        adjustments=tuple(
            Adjustment(a.group_code, a.carc, a.amount, a.rarcs, procedures.get(a.line_no)) for a in status.adjustments
        ),
    )


def make_adapter(page: Page, portal: RunningPortal, credentials: Credentials = DEMO) -> SummitExchangeAdapter:
    return SummitExchangeAdapter(
        page,
        portal="summit-exchange",
        base_url=f"{portal.url}/clearinghouse",
        credentials=credentials,
        timeouts=Timeouts(element_ms=3000),
    )


def account_state(portal: RunningPortal, username: str) -> dict[str, Any]:
    return next(
        a for a in portal.admin("state")["accounts"] if a["portal"] == "clearinghouse" and a["username"] == username
    )


# --- sign-in -----------------------------------------------------------------


def test_login_with_totp(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    assert not adapter.is_logged_in()
    adapter.ensure_logged_in()
    assert adapter.logins == 1
    assert adapter.is_logged_in()
    adapter.ensure_logged_in()  # the session is still good: no second login
    assert adapter.logins == 1


def test_second_login_in_the_same_totp_window_uses_a_fresh_code(page: Page, fake_portal: RunningPortal) -> None:
    make_adapter(page, fake_portal).login()
    page.context.clear_cookies()
    # A new adapter (another worker run) has not seen the spent code; the portal refuses
    # the reuse and the adapter moves on to the next window's code.
    another = make_adapter(page, fake_portal)
    another.ensure_logged_in()
    assert another.logins == 1 and another.is_logged_in()


def test_wrong_password_is_rejected_without_locking(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(
        page, fake_portal, Credentials(DEMO.username, "not-the-password", totp_secret=DEMO.totp_secret)
    )
    with pytest.raises(LoginRejected) as caught:
        adapter.login()
    assert "not-the-password" not in str(caught.value)
    state = account_state(fake_portal, DEMO.username)
    assert state["failed_logins"] == 1 and not state["locked"]


def test_locked_account_is_rejected(page: Page, fake_portal: RunningPortal) -> None:
    fake_portal.admin(
        "accounts",
        {
            "portal": "clearinghouse",
            "username": "locked.biller",
            "password": "Locked-Pass-1",
            "totp_secret": DEMO.totp_secret,
            "locked": True,
        },
    )
    adapter = make_adapter(
        page, fake_portal, Credentials("locked.biller", "Locked-Pass-1", totp_secret=DEMO.totp_secret)
    )
    with pytest.raises(LoginRejected, match="locked"):
        adapter.login()


def test_account_without_totp_secret_needs_a_person(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal, Credentials(DEMO.username, DEMO.password))
    with pytest.raises(MfaRequired):
        adapter.login()
    assert not account_state(fake_portal, DEMO.username)["locked"]


def test_wrong_totp_secret_is_rejected(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal, Credentials(DEMO.username, DEMO.password, totp_secret=OTHER_SECRET))
    with pytest.raises(MfaRejected) as caught:
        adapter.login()
    assert OTHER_SECRET not in str(caught.value)


# --- claim status --------------------------------------------------------------


def test_paid_partial_and_denied_claims(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    denied = claim_where("denied", "F2")
    for claim in (claim_where("paid", "F1"), claim_where("partial", "F1"), denied):
        assert adapter.claim_status(query_for(claim)) == expected_result(claim)
    final = denied.status_on(START)
    assert final is not None and final.adjustments[0].carc  # the denial carries a CARC the test compared
    assert adapter.logins == 1


def test_pending_info_requested_and_rejected_claims(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    for outcome, category in (("pending", "P1"), ("info_requested", "P3"), ("rejected", "A7")):
        claim = claim_where(outcome, category)
        result = adapter.claim_status(query_for(claim))
        assert result == expected_result(claim)
        assert result.category_code == category and result.paid_amount is None and result.adjustments == ()


def test_pending_claim_adjudicates_after_the_clock_moves(page: Page, fake_portal: RunningPortal) -> None:
    claim = claim_where("paid", "P1")  # pending today, paid a few days later
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    assert adapter.claim_status(query_for(claim)).category_code == "P1"
    days = (claim.adjudicated - START).days
    fake_portal.admin("clock", {"days": days})
    later = START.fromordinal(START.toordinal() + days)
    assert adapter.claim_status(query_for(claim)) == expected_result(claim, later)
    assert adapter.logins == 1


def test_claim_not_on_file(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    claim = not_on_file_claim()
    with pytest.raises(ClaimNotFound) as caught:
        adapter.claim_status(query_for(claim))
    assert caught.value.claim_id == claim.claim_id


def test_session_expired_mid_batch_costs_one_login(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    first, second = claim_where("paid", "F1"), claim_where("partial", "F1")
    assert adapter.claim_status(query_for(first)).category_code == "F1"
    fake_portal.admin("sessions/expire", {})
    assert adapter.claim_status(query_for(second)) == expected_result(second)
    assert adapter.logins == 2  # the re-login reused no TOTP code, or the portal would have refused it


def test_session_expired_on_the_search_call(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    search = ClaimSearchPage(adapter).open()
    fake_portal.admin("sessions/expire", {})
    with pytest.raises(SessionExpired):
        search.search(query_for(claim_where("paid", "F1")), adapter.call_json_api)


# --- layout changes and faults ----------------------------------------------------


def test_layout_2_is_a_changed_layout(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    fake_portal.admin("faults/clearinghouse", {"layout": 2})
    with pytest.raises(LayoutChanged):
        adapter.claim_status(query_for(claim_where("paid", "F1")))
    with pytest.raises(LayoutChanged):
        make_adapter(page, fake_portal).login()


def test_maintenance_is_portal_unavailable(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    fake_portal.admin("faults/clearinghouse", {"maintenance": True})
    with pytest.raises(PortalUnavailable) as caught:
        adapter.claim_status(query_for(claim_where("paid", "F1")))
    assert not isinstance(caught.value, RateLimited)
    assert caught.value.retry_after is not None


def test_rate_limited_search_call(page: Page, fake_portal: RunningPortal) -> None:
    adapter = make_adapter(page, fake_portal)
    adapter.ensure_logged_in()
    search = ClaimSearchPage(adapter).open()
    fake_portal.admin("faults/clearinghouse", {"rate_limited": True})
    with pytest.raises(RateLimited) as caught:  # the page loaded; its JSON call got the 429
        search.search(query_for(claim_where("paid", "F1")), adapter.call_json_api)
    assert caught.value.retry_after is not None
    with pytest.raises(RateLimited):
        adapter.claim_status(query_for(claim_where("paid", "F1")))


def test_server_errors_are_portal_unavailable(page: Page, fake_portal: RunningPortal) -> None:
    fake_portal.admin("faults/clearinghouse", {"error_rate": 1.0})
    adapter = make_adapter(page, fake_portal)
    with pytest.raises(PortalUnavailable) as caught:
        adapter.ensure_logged_in()
    assert not isinstance(caught.value, RateLimited)
    assert adapter.logins == 0
