"""Lakeshore State Medicaid adapter against the fake legacy MMIS portal, through real Chromium."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
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
)
from portals.lakeshore_claims import ClaimInquiryPage
from portals.lakeshore_medicaid import LakeshoreMedicaidAdapter
from portals.types import Adjustment, ClaimQuery, ClaimStatusResult, Credentials

pytestmark = pytest.mark.browser

START = date(2026, 11, 2)
DATASET = generate(seed=7, start=START)
ACCOUNT = next(a for a in DEFAULT_ACCOUNTS if a.portal == "medicaid")
PAYERS = {"LSM"}


def claims(outcome: str) -> list[Claim]:
    return [c for c in DATASET.claims_for(PAYERS) if c.outcome == outcome]


def first(outcome: str, *, final_by: date = START) -> Claim:
    """The first claim with this outcome whose final status is already out by `final_by`."""
    return next(c for c in claims(outcome) if c.adjudicated <= final_by)


def query(claim: Claim) -> ClaimQuery:
    return ClaimQuery(
        claim_id=claim.claim_id,
        payer_id=claim.payer_id,
        member_id=claim.member_id,
        dos_from=claim.dos_from,
        dos_to=claim.dos_to,
        billed_amount=claim.billed,
        rendering_npi=claim.rendering_npi,
    )


def credentials(
    *, password: str = ACCOUNT.password, answers: dict[str, str] | None = None, username: str = ACCOUNT.username
) -> Credentials:
    if answers is None:
        # worded differently in case and spacing from the portal: matched case-insensitively
        answers = {"  what was the NAME of your first practice? ": str(ACCOUNT.security_answer).upper()}
    return Credentials(username=username, password=password, security_answers=answers)


def adapter(page: Page, portal: RunningPortal, creds: Credentials | None = None) -> LakeshoreMedicaidAdapter:
    return LakeshoreMedicaidAdapter(
        page,
        portal="lakeshore_medicaid",
        base_url=f"{portal.url}/medicaid",
        credentials=creds or credentials(),
        timeouts=Timeouts(element_ms=3000),
    )


def expected(claim: Claim, today: date = START) -> ClaimStatusResult:
    """What the portal must report: the data set's truth for that day, in adapter terms."""
    status = claim.status_on(today)
    assert status is not None
    procedures = {line.line_no: line.procedure for line in claim.lines}
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
            Adjustment(a.group_code, a.carc, a.amount, a.rarcs, procedures.get(a.line_no) if a.line_no else None)
            for a in status.adjustments
        ),
    )


def account_state(portal: RunningPortal, username: str = ACCOUNT.username) -> dict[str, Any]:
    return next(a for a in portal.admin("state")["accounts"] if a["portal"] == "medicaid" and a["username"] == username)


def assert_no_secrets(exc: BaseException, claim: Claim | None = None) -> None:
    text = str(exc)
    for secret in (ACCOUNT.password, str(ACCOUNT.security_answer), str(ACCOUNT.security_question)):
        assert secret.lower() not in text.lower(), "a credential leaked into an error message"
    if claim is not None:
        assert claim.member_id not in text and claim.patient_name not in text, "PHI leaked into an error message"


# --- logging in -------------------------------------------------------------------


def test_login_through_security_question(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    assert lsm.is_logged_in() is False
    lsm.ensure_logged_in()
    assert lsm.logins == 1
    assert lsm.is_logged_in() is True
    lsm.ensure_logged_in()  # a live session is reused
    assert lsm.logins == 1


def test_wrong_password_is_rejected_once_and_does_not_lock(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal, credentials(password="Not-The-Password-9"))
    with pytest.raises(LoginRejected) as caught:
        lsm.ensure_logged_in()
    assert "locked" not in str(caught.value)
    assert_no_secrets(caught.value)
    assert "Not-The-Password-9" not in str(caught.value)
    state = account_state(fake_portal)
    assert state["locked"] is False
    assert state["failed_logins"] == 1


def test_locked_account_is_rejected(page: Page, fake_portal: RunningPortal) -> None:
    fake_portal.admin(
        "accounts",
        {
            "portal": "medicaid",
            "username": "LOCKED0001",
            "password": "Locked-Pass-1",
            "security_question": ACCOUNT.security_question,
            "security_answer": ACCOUNT.security_answer,
            "locked": True,
        },
    )
    lsm = adapter(page, fake_portal, credentials(username="LOCKED0001", password="Locked-Pass-1"))
    with pytest.raises(LoginRejected, match="locked"):
        lsm.ensure_logged_in()


def test_wrong_security_answer_is_mfa_rejected(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal, credentials(answers={str(ACCOUNT.security_question): "Oak Street Clinic"}))
    with pytest.raises(MfaRejected) as caught:
        lsm.ensure_logged_in()
    assert "Oak Street Clinic" not in str(caught.value)
    assert_no_secrets(caught.value)
    assert account_state(fake_portal)["locked"] is False


def test_question_without_stored_answer_needs_a_person(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal, credentials(answers={"What is your favorite color?": "Blue"}))
    with pytest.raises(MfaRequired) as caught:
        lsm.ensure_logged_in()
    assert_no_secrets(caught.value)


# --- claim status -----------------------------------------------------------------


def test_claim_states_in_one_session(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    denied = [c for c in claims("denied") if c.adjudicated <= START][:2]
    assert len(denied) == 2, "the data set should have two denials already final"
    picks = [first("paid"), first("partial"), *denied, first("pending"), first("info_requested"), first("rejected")]
    for claim in picks:
        assert lsm.claim_status(query(claim)) == expected(claim), claim.claim_id
    assert lsm.logins == 1


def test_denial_codes_match_the_data_set(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    claim = first("denied")
    result = lsm.claim_status(query(claim))  # no explicit login: the login page counts as a lost session
    assert claim.final is not None
    assert result.category_code == "F2"
    assert result.paid_amount == 0
    assert [(a.group_code, a.carc, a.rarcs, a.amount) for a in result.adjustments] == [
        (a.group_code, a.carc, a.rarcs, a.amount) for a in claim.final.adjustments
    ]
    assert lsm.logins == 1


def test_pending_claim_adjudicates_after_the_clock_moves(page: Page, fake_portal: RunningPortal) -> None:
    claim = next(c for c in claims("paid") if c.adjudicated > START)
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    before = lsm.claim_status(query(claim))
    assert (before.category_code, before.paid_amount, before.adjustments) == ("P1", None, ())
    fake_portal.admin("clock", {"days": (claim.adjudicated - START).days})
    after = lsm.claim_status(query(claim))
    assert after == expected(claim, claim.adjudicated)
    assert after.category_code == "F1" and after.check_number
    assert lsm.logins == 1


def test_claim_not_on_file(page: Page, fake_portal: RunningPortal) -> None:
    claim = first("not_on_file")
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    with pytest.raises(ClaimNotFound) as caught:
        lsm.claim_status(query(claim))
    assert caught.value.claim_id == claim.claim_id
    assert_no_secrets(caught.value, claim)


def test_session_expired_mid_batch_costs_one_login(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    paid, partial = first("paid"), first("partial")
    assert lsm.claim_status(query(paid)) == expected(paid)
    fake_portal.admin("sessions/expire", {})  # what the idle timeout does to a session
    assert lsm.claim_status(query(partial)) == expected(partial)
    assert lsm.logins == 2


# --- faults -----------------------------------------------------------------------


def test_nightly_maintenance_page_is_recognised_despite_http_200(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()
    fake_portal.admin("clock", {"hours": 11.5})  # 23:30 portal time
    assert httpx.get(f"{fake_portal.url}/medicaid/login").status_code == 200
    with pytest.raises(PortalUnavailable) as caught:
        lsm.claim_status(query(first("paid")))
    assert not isinstance(caught.value, RateLimited)
    assert "maintenance" in str(caught.value)


def test_maintenance_fault_rate_limit_and_server_errors(page: Page, fake_portal: RunningPortal) -> None:
    lsm = adapter(page, fake_portal)
    fake_portal.admin("faults/medicaid", {"maintenance": True})
    with pytest.raises(PortalUnavailable, match="maintenance"):
        lsm.ensure_logged_in()

    fake_portal.admin("faults/medicaid", {"maintenance": False, "rate_limited": True})
    with pytest.raises(RateLimited) as limited:
        lsm.ensure_logged_in()
    assert limited.value.retry_after is not None

    fake_portal.admin("faults/medicaid", {"rate_limited": False, "error_rate": 1.0})
    with pytest.raises(PortalUnavailable) as failed:
        lsm.ensure_logged_in()
    assert not isinstance(failed.value, RateLimited)
    assert lsm.logins == 0


def test_layout_2_is_noticed_not_misread(page: Page, fake_portal: RunningPortal) -> None:
    claim = first("paid")
    lsm = adapter(page, fake_portal)
    lsm.ensure_logged_in()

    fake_portal.admin("faults/medicaid", {"layout": 2})
    with pytest.raises(LayoutChanged) as on_form:
        lsm.claim_status(query(claim))
    assert on_form.value.page == "claim inquiry"

    # the release lands between two pages: the results and detail pages are checked too
    fake_portal.admin("faults/medicaid", {"layout": 1})
    form = ClaimInquiryPage(lsm).open()
    fake_portal.admin("faults/medicaid", {"layout": 2})
    with pytest.raises(LayoutChanged) as on_results:
        form.search(query(claim)).open_claim(query(claim))
    assert on_results.value.page == "claim inquiry results"
    assert "columns" in on_results.value.detail  # same table id, moved columns: not read

    fake_portal.admin("faults/medicaid", {"layout": 1})
    results = ClaimInquiryPage(lsm).open().search(query(claim))
    fake_portal.admin("faults/medicaid", {"layout": 2})
    with pytest.raises(LayoutChanged) as on_detail:
        results.open_claim(query(claim)).read(claim.claim_id)
    assert on_detail.value.page == "claim detail"
    assert_no_secrets(on_detail.value, claim)
    assert lsm.logins == 1
