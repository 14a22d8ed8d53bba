"""Adaptive cadence without a browser: which claims, authorizations and enrollments are due, why, how urgent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from flows import cadence
from flows.cadence import (
    ANY_PAYER,
    PRIORITY_DENIAL_DEADLINE,
    PRIORITY_FILING_AT_RISK,
    PRIORITY_FIRST_CHECK,
    PRIORITY_LONG_PENDING,
    PRIORITY_NEW_SUBMISSION,
    PRIORITY_OPEN,
    PRIORITY_SETTLED,
    Due,
    Verdict,
    auth_verdict,
    claim_verdict,
    due_authorizations,
    due_claims,
    due_enrollments,
    enrollment_verdicts,
    not_due_reason,
    today_in,
)
from flows.deadlines import load_payer_rules, rule_book
from flows.worklist import work_item
from store.models import Authorization, Claim, Denial, Enrollment, Provider

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # a Friday
TODAY = NOW.date()
# Simple rules so the dates are easy to follow: file within 90 days of service, correct within 30 days of a denial.
BOOK = rule_book(
    {
        "classes": {
            "commercial": {
                "timely_filing": {"days": 90},
                "corrected_claim": {"days": 30},
                "appeal_levels": [{"name": "first-level appeal", "days": 60}],
            }
        }
    }
)


def claim(
    status: str = "unchecked",
    checked_hours_ago: float | None = None,
    submitted_days_ago: int = 20,
    service_days_ago: int = 30,
    claim_id: str = "PW1",
    payer: str = "UHP",
) -> Claim:
    service = TODAY - timedelta(days=service_days_ago)
    return Claim(
        claim_id=claim_id,
        payer_id=payer,
        member_id="M1",
        patient_name="SYNTHETIC, PERSON",
        dos_from=service,
        dos_to=service,
        billed_amount=Decimal("100.00"),
        submitted_date=TODAY - timedelta(days=submitted_days_ago),
        rendering_npi="1234567893",
        imported_at=NOW,
        updated_at=NOW,
        status=status,
        paid_amount=None,
        last_checked_at=None if checked_hours_ago is None else NOW - timedelta(hours=checked_hours_ago),
    )


def denial(claim_id: str = "PW1", denied_days_ago: int = 20, kind: str = "soft", status: str = "open") -> Denial:
    return Denial(
        fingerprint=f"{claim_id}|CO|16|{denied_days_ago}",
        claim_id=claim_id,
        reported_claim_id=claim_id,
        source="portal",
        source_ref="unity",
        payer_id="UHP",
        group_code="CO",
        carc="16",
        amount=Decimal("100.00"),
        denial_date=TODAY - timedelta(days=denied_days_ago),
        category="documentation",
        owner="billing",
        kind=kind,
        status=status,
        first_seen_at=NOW,
        last_seen_at=NOW,
    )


def verdict_of(c: Claim, denials: list[Denial] | None = None, tz: tzinfo | None = None) -> Verdict:
    return claim_verdict(c, denials or [], BOOK, NOW, tz=tz)


# --- claims -----------------------------------------------------------------------------------------------------


def test_paid_claims_stop() -> None:
    verdict = verdict_of(claim("paid", checked_hours_ago=24 * 365))

    assert not verdict.is_due and verdict.next_check_at is None
    assert verdict.reason == "paid: not checked again"
    assert due_claims([claim("paid", checked_hours_ago=24 * 365)], [], BOOK, NOW) == []


def test_a_claim_submitted_yesterday_is_not_asked_about_yet() -> None:
    young = claim(submitted_days_ago=1)

    verdict = verdict_of(young)

    assert not verdict.is_due
    assert verdict.reason == "submitted 1 day ago: payers list a claim only after 2 days"
    assert verdict.next_check_at == datetime(2026, 11, 21, tzinfo=UTC)
    assert not_due_reason(young, [], BOOK, NOW) == verdict.reason
    assert due_claims([young], [], BOOK, NOW) == []


def test_a_claim_never_checked_is_due_after_its_first_days() -> None:
    assert due_claims([claim(submitted_days_ago=2)], [], BOOK, NOW) == [
        Due("PW1", "UHP", "never checked, submitted 2 days ago", PRIORITY_FIRST_CHECK)
    ]
    assert not_due_reason(claim(submitted_days_ago=2), [], BOOK, NOW) is None


@pytest.mark.parametrize(
    ("status", "checked_hours_ago", "submitted_days_ago", "due", "priority"),
    [
        # submitted less than a week ago: every 3 days
        ("pending", 30, 4, False, PRIORITY_NEW_SUBMISSION),
        ("pending", 73, 4, True, PRIORITY_NEW_SUBMISSION),
        ("received", 73, 6, True, PRIORITY_NEW_SUBMISSION),
        # older: daily (20 h), and first in line once pending more than 30 days
        ("pending", 19, 12, False, PRIORITY_OPEN),
        ("pending", 21, 12, True, PRIORITY_OPEN),
        ("info_requested", 21, 12, True, PRIORITY_OPEN),
        ("pending", 48, 34, True, PRIORITY_LONG_PENDING),
        # adjudicated: weekly
        ("denied", 72, 40, False, PRIORITY_SETTLED),
        ("denied", 24 * 8, 40, True, PRIORITY_SETTLED),
        ("finalized", 24 * 8, 40, True, PRIORITY_SETTLED),
        # the first check failed: again daily
        ("unchecked", 21, 12, True, PRIORITY_FIRST_CHECK),
    ],
)
def test_base_cadence(status: str, checked_hours_ago: float, submitted_days_ago: int, due: bool, priority: int) -> None:
    verdict = verdict_of(claim(status, checked_hours_ago, submitted_days_ago))

    assert (verdict.is_due, verdict.priority) == (due, priority)


def test_reasons_say_how_long_pending_and_when_last_checked() -> None:
    assert verdict_of(claim("pending", 48, 34)).reason == "pending 34 days, last checked 2 days ago"
    assert verdict_of(claim("pending", 24 * 3, 40)).reason == "pending 40 days, last checked 3 days ago"
    assert verdict_of(claim("received", 73, 6)).reason == "received, submitted 6 days ago, last checked 3 days ago"
    not_yet = verdict_of(claim("pending", 5, 12))
    assert not_yet.reason == "pending 12 days, last checked 5 h ago; next check in 15 h"
    assert not_yet.next_check_at == NOW + timedelta(hours=15)


@pytest.mark.parametrize("status", ["not_on_file", "rejected", "unchecked"])
def test_missing_or_rejected_near_timely_filing_is_checked_every_run_first(status: str) -> None:
    at_risk = claim(status, checked_hours_ago=None if status == "unchecked" else 7, service_days_ago=80)

    verdict = verdict_of(at_risk)

    assert verdict.is_due
    assert verdict.priority == PRIORITY_FILING_AT_RISK + 4  # 10 days left of the 14 watched
    assert "timely filing ends 2026-11-30 (10 days left)" in verdict.reason


def test_filing_far_away_or_already_past_keeps_the_base_cadence() -> None:
    assert not verdict_of(claim("not_on_file", checked_hours_ago=1, service_days_ago=30)).is_due
    assert not verdict_of(claim("rejected", checked_hours_ago=1, service_days_ago=120)).is_due


def test_a_denied_claim_near_its_denial_deadline_is_checked_every_run() -> None:
    denied = claim("denied", checked_hours_ago=7, submitted_days_ago=40)

    verdict = verdict_of(denied, [denial(denied_days_ago=20)])

    assert verdict.is_due
    assert verdict.priority == PRIORITY_DENIAL_DEADLINE + 4
    assert verdict.reason == "resubmit corrected claim due 2026-11-30 (10 days left), last checked 7 h ago"


def test_every_run_is_not_twice_within_one_run() -> None:
    """A fast or catch-up schedule does not hammer the portal about a near-deadline claim."""
    just_checked = claim("not_on_file", checked_hours_ago=1, service_days_ago=80)
    denied = claim("denied", checked_hours_ago=1, submitted_days_ago=40)

    assert not verdict_of(just_checked).is_due
    assert not verdict_of(denied, [denial(denied_days_ago=20)]).is_due


@pytest.mark.parametrize(
    "denials",
    [
        [denial(denied_days_ago=5)],  # 25 days left
        [denial(denied_days_ago=40)],  # window closed: nothing the portal can change
        [denial(denied_days_ago=20, status="appealed")],  # not open
        [denial(claim_id="PW2", denied_days_ago=20)],  # another claim's
    ],
)
def test_other_denials_leave_a_denied_claim_weekly(denials: list[Denial]) -> None:
    assert not verdict_of(claim("denied", checked_hours_ago=1, submitted_days_ago=40), denials).is_due


def test_the_denial_deadline_is_the_worklists() -> None:
    rules = load_payer_rules()
    denied = claim("denied", checked_hours_ago=1, submitted_days_ago=40)
    hard = denial(denied_days_ago=360, kind="hard")  # UHP: reconsideration within 12 months of the denial
    expected = work_item(hard, denied, rules, TODAY)
    assert expected.deadline is not None and expected.days_left is not None

    verdict = claim_verdict(denied, [hard], rules, NOW)

    assert verdict.reason.startswith(
        f"{expected.deadline.action} due {expected.deadline.due} ({expected.days_left} days left)"
    )
    assert verdict.priority == PRIORITY_DENIAL_DEADLINE + 14 - expected.days_left


def test_due_claims_most_urgent_first() -> None:
    claims = [
        claim("denied", 24 * 8, 40, claim_id="settled"),
        claim("pending", 73, 4, claim_id="new"),
        claim("pending", 21, 12, claim_id="open"),
        claim("pending", 48, 34, claim_id="old"),
        claim(submitted_days_ago=3, claim_id="first"),
        claim("denied", 7, 40, claim_id="appeal"),
        claim("not_on_file", 7, service_days_ago=85, claim_id="filing-soon"),
        claim("not_on_file", 7, service_days_ago=80, claim_id="filing"),
        claim("paid", 1, claim_id="paid"),
    ]

    due = due_claims(claims, [denial("appeal", denied_days_ago=20)], BOOK, NOW)

    assert [d.target for d in due] == ["filing-soon", "filing", "appeal", "old", "first", "open", "new", "settled"]
    assert due[0].priority > due[1].priority


def test_dates_are_the_practices() -> None:
    evening = datetime(2026, 11, 20, 3, tzinfo=UTC)  # still Thursday evening in New York
    new_york = ZoneInfo("America/New_York")
    c = claim(submitted_days_ago=2)  # submitted Wednesday the 18th

    assert today_in(evening, new_york) == date(2026, 11, 19)
    assert today_in(evening) == date(2026, 11, 20)
    assert claim_verdict(c, [], BOOK, evening).is_due
    assert not claim_verdict(c, [], BOOK, evening, tz=new_york).is_due


def test_naive_stored_times_are_taken_as_utc() -> None:
    c = claim("pending", 21, 12)
    c.last_checked_at = c.last_checked_at.replace(tzinfo=None) if c.last_checked_at else None

    assert verdict_of(c).is_due
    assert cadence.as_utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)


# --- authorizations ---------------------------------------------------------------------------------------------


def auth(
    status: str = "approved",
    checked_hours_ago: float | None = 21,
    ends_in_days: int = 60,
    service_in_days: int | None = None,
    number: str = "A1",
) -> Authorization:
    return Authorization(
        auth_number=number,
        payer_id="UHP",
        member_id="M1",
        patient_name="SYNTHETIC, PERSON",
        servicing_npi="1234567893",
        procedure_codes=["97110"],
        units_approved=12,
        start_date=TODAY - timedelta(days=30),
        end_date=TODAY + timedelta(days=ends_in_days),
        scheduled_date=None if service_in_days is None else TODAY + timedelta(days=service_in_days),
        imported_at=NOW,
        updated_at=NOW,
        status=status,
        last_checked_at=(None if checked_hours_ago is None else NOW - timedelta(hours=checked_hours_ago)),
    )


@pytest.mark.parametrize("status", ["denied", "cancelled", "expired"])
def test_final_authorizations_stop(status: str) -> None:
    verdict = auth_verdict(auth(status, checked_hours_ago=24 * 30), NOW)
    assert not verdict.is_due and verdict.next_check_at is None


@pytest.mark.parametrize(
    ("a", "due"),
    [
        (auth("approved", 21, ends_in_days=60), False),  # every 3 days
        (auth("approved", 73, ends_in_days=60), True),
        (auth("approved", 19, ends_in_days=10), False),  # daily near its end
        (auth("approved", 21, ends_in_days=10), True),
        (auth("approved", 21, ends_in_days=60, service_in_days=5), True),  # daily before the service
        (auth("approved", 21, ends_in_days=60, service_in_days=-5), False),  # a past service changes nothing
        (auth("pending", 19), False),
        (auth("pending", 21), True),
        (auth("unchecked", None), True),
    ],
)
def test_authorization_cadence(a: Authorization, due: bool) -> None:
    assert auth_verdict(a, NOW).is_due is due


def test_an_ended_approval_gets_one_last_look_then_stops() -> None:
    before_end = auth("approved", checked_hours_ago=24 * 5, ends_in_days=-3)
    after_end = auth("approved", checked_hours_ago=24, ends_in_days=-3)

    assert auth_verdict(before_end, NOW).is_due
    assert "one last look" in auth_verdict(before_end, NOW).reason
    assert auth_verdict(after_end, NOW).next_check_at is None


def test_authorizations_most_urgent_first_with_reasons() -> None:
    auths = [
        auth("approved", 73, number="routine"),
        auth("pending", 21, number="pending"),
        auth("pending", 21, service_in_days=-2, number="overdue"),
        auth("approved", 21, ends_in_days=3, number="ending"),
    ]

    due = due_authorizations(auths, NOW)

    assert [d.target for d in due] == ["overdue", "ending", "pending", "routine"]
    assert due[0].reason == "pending, service 2026-11-18 (2 days ago), last checked 21 h ago"
    assert due[1].reason == "approved, ends 2026-11-23 (3 days left), last checked 21 h ago"


# --- enrollments ------------------------------------------------------------------------------------------------


def provider(npi: str) -> Provider:
    return Provider(npi=npi, name="SYNTHETIC PROVIDER", imported_at=NOW, updated_at=NOW)


def enrollment(npi: str, payer: str, status: str, checked_hours_ago: float) -> Enrollment:
    checked = NOW - timedelta(hours=checked_hours_ago)
    return Enrollment(
        npi=npi, payer_id=payer, portal="unity", status=status, last_checked_at=checked, status_changed_at=checked
    )


def test_enrollment_cadence() -> None:
    providers = [provider("111"), provider("222"), provider("333")]
    enrollments = [
        enrollment("111", "UHP", "in_process", 21),  # daily: due
        enrollment("111", "NWM", "active", 24 * 3),  # weekly: not yet
        enrollment("222", "UHP", "active", 24 * 8),  # weekly: due
        enrollment("222", "NWM", "terminated", 24 * 8),  # weekly: may re-apply
        enrollment("222", "BBH", "denied", 24 * 3),
        enrollment("999", "UHP", "in_process", 24 * 8),  # no longer a provider of the practice
    ]

    due = due_enrollments(providers, enrollments, NOW)

    assert [(d.target, d.payer_id) for d in due] == [("333", ANY_PAYER), ("111", "UHP"), ("222", "NWM"), ("222", "UHP")]
    assert due[0].reason == "never checked"
    assert due[1].reason == "in process with UHP, last checked 21 h ago"
    assert len(enrollment_verdicts(providers, enrollments, NOW)) == 6
