"""The eligibility rules without a browser: when each appointment is due, and what each answer means for the
front desk (one finding per problem, never a name, member id or date of birth)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from flows.eligibility import (
    COVERAGE_INACTIVE,
    ELIGIBILITY_UNCHECKED,
    OTHER_INSURANCE_PRIMARY,
    OUT_OF_NETWORK,
    PAYER_CHANGED,
    VISIT_AUTH_MISSING,
    CheckTimes,
    business_days,
    due_checks,
    latest_answer,
    visit_findings,
)
from store.models import Appointment, Authorization, EligibilityCheck

MONDAY = date(2026, 11, 2)
TUESDAY, FRIDAY = date(2026, 11, 3), date(2026, 11, 6)
NAME, MEMBER, BORN = "QUARTERFIELD, ZEBULON", "U123456789", date(1961, 4, 17)
TIMES = CheckTimes()
AT = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)


def visit(appointment_id: str = "AP1", day: date = TUESDAY, at: time = time(9, 30), **fields: Any) -> Appointment:
    values: dict[str, Any] = {
        "appointment_id": appointment_id,
        "appointment_date": day,
        "appointment_time": at,
        "patient_name": NAME,
        "date_of_birth": BORN,
        "member_id": MEMBER,
        "payer_id": "UHP",
        "rendering_npi": "1234567893",
        "procedure_codes": ["99213", "97110"],
        "auth_number": None,
        "imported_at": AT,
        "updated_at": AT,
        **fields,
    }
    return Appointment(**values)


def answer(**fields: Any) -> EligibilityCheck:
    values: dict[str, Any] = {
        "appointment_id": "AP1",
        "checked_on": MONDAY,
        "service_date": TUESDAY,
        "checked_at": AT,
        "portal": "unity",
        "run_id": "r1",
        "payer_id": "UHP",
        "coverage": "active",
        "portal_words": "Coverage active",
        "member_id": MEMBER,
        **fields,
    }
    return EligibilityCheck(**values)


def auth(number: str = "PA1", codes: tuple[str, ...] = ("97110",), **fields: Any) -> Authorization:
    values: dict[str, Any] = {
        "auth_number": number,
        "payer_id": "UHP",
        "member_id": MEMBER,
        "patient_name": NAME,
        "servicing_npi": "1234567893",
        "procedure_codes": list(codes),
        "units_approved": 12,
        "start_date": date(2026, 10, 1),
        "end_date": date(2026, 12, 31),
        "imported_at": AT,
        "updated_at": AT,
        "status": "approved",
        **fields,
    }
    return Authorization(**values)


def kinds(
    appointment: Appointment, check: EligibilityCheck | None, auths: tuple[Authorization, ...] = (), **kw: Any
) -> list[str]:
    return [draft.kind for draft in visit_findings(appointment, check, list(auths), **kw)]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


# --- what an answer means ----------------------------------------------------------------------------


def test_a_clean_answer_has_no_finding() -> None:
    assert kinds(visit(), answer(auth_required_codes=["97110"]), (auth(),)) == []


@pytest.mark.parametrize(
    ("fields", "kind", "words"),
    [
        (
            {"coverage": "inactive", "coverage_end": date(2026, 10, 31)},
            COVERAGE_INACTIVE,
            "coverage inactive, ended 2026-10-31",
        ),
        (
            {"coverage": "not_found", "portal_words": f"No member {MEMBER} born 04/17/1961 (Quarterfield)"},
            COVERAGE_INACTIVE,
            'the portal says "No member [withheld] born [withheld] ([withheld])"',
        ),
        ({"coverage": "inactive", "new_payer_id": "NWM"}, PAYER_CHANGED, "moved from payer UHP to payer NWM"),
        ({"new_member_id": "U999999999"}, PAYER_CHANGED, "another member id"),
        (
            {"other_insurance_primary": "Northwind Mutual"},
            OTHER_INSURANCE_PRIMARY,
            "other insurance is primary (Northwind",
        ),
        ({"in_network": False}, OUT_OF_NETWORK, "provider 1234567893 is out of network"),
        ({"auth_required_codes": ["97110"]}, VISIT_AUTH_MISSING, "required for 97110 and none is on file"),
    ],
)
def test_each_problem_gives_its_finding_and_only_that_one(fields: dict[str, Any], kind: str, words: str) -> None:
    drafts = visit_findings(visit(), answer(**fields), [])

    assert [d.kind for d in drafts] == [kind]
    draft = drafts[0]
    assert (draft.subject, draft.payer_id, draft.due) == ("AP1", "UHP", TUESDAY)
    assert words in draft.message
    assert "the patient arrives 2026-11-03 09:30" in draft.message
    for secret in (MEMBER, "QUARTERFIELD", "Quarterfield", "1961", "U999999999"):
        assert secret not in draft.message


def test_an_authorization_on_file_must_cover_the_planned_code_and_day() -> None:
    appointment = visit(auth_number="PA1")
    required = answer(auth_required_codes=["97110"])

    assert kinds(appointment, required, (auth(codes=("97110", "97140")),)) == []
    wrong_code = visit_findings(appointment, required, [auth(codes=("97140",))])
    assert "authorization PA1 on file does not cover it" in wrong_code[0].message
    ended = auth(end_date=date(2026, 11, 1))
    assert kinds(appointment, required, (ended,)) == [VISIT_AUTH_MISSING]
    assert kinds(appointment, required, (auth(status="denied"),)) == [VISIT_AUTH_MISSING]
    # what the payer approved counts once the authorization was checked
    assert kinds(appointment, required, (auth(codes=("97140",), portal_codes=["97110"]),)) == []


def test_a_failed_check_without_an_answer_says_it_could_not_be_done() -> None:
    assert kinds(visit(), None) == []
    drafts = visit_findings(visit(), None, [], "unity: maintenance until 18:00")
    assert [d.kind for d in drafts] == [ELIGIBILITY_UNCHECKED]
    assert "could not be done (unity: maintenance until 18:00)" in drafts[0].message


def test_a_rescheduled_visit_counts_only_answers_for_its_new_day() -> None:
    moved = visit(day=date(2026, 11, 4))
    assert latest_answer(moved, [answer()]) is None
    newer = answer(service_date=date(2026, 11, 4), checked_at=datetime(2026, 11, 3, 21, tzinfo=UTC))
    assert latest_answer(moved, [answer(), newer]) is newer


# --- when a check is due --------------------------------------------------------------------------


def test_the_day_before_check_starts_at_its_time_for_the_next_business_day() -> None:
    schedule = [visit("TUE", TUESDAY), visit("MON", MONDAY, time(17)), visit("WED", date(2026, 11, 4))]

    assert [d.target for d in due_checks(schedule, set(), local(MONDAY, 15, 59), TIMES)] == ["MON"]  # same day
    at_four = due_checks(schedule, set(), local(MONDAY, 16), TIMES)
    assert [d.target for d in at_four] == ["MON", "TUE"]
    assert "day before check" in at_four[1].reason
    assert [d.target for d in due_checks(schedule, {"MON", "TUE"}, local(MONDAY, 16, 30), TIMES)] == []


def test_the_same_day_recheck_starts_at_its_time_and_skips_visits_already_past() -> None:
    schedule = [visit("EARLY", TUESDAY, time(6, 0)), visit("LATER", TUESDAY, time(9, 30))]

    assert due_checks(schedule, set(), local(TUESDAY, 6, 29), TIMES) == []
    due = due_checks(schedule, set(), local(TUESDAY, 6, 30), TIMES)
    assert [d.target for d in due] == ["LATER"] and "same day check" in due[0].reason


def test_a_fridays_check_covers_the_weekend_and_monday_and_weekends_check_nothing() -> None:
    saturday, monday = date(2026, 11, 7), date(2026, 11, 9)
    schedule = [visit("SAT", saturday), visit("MON", monday), visit("TUE", date(2026, 11, 10))]

    assert [d.target for d in due_checks(schedule, set(), local(FRIDAY, 16), TIMES)] == ["SAT", "MON"]
    assert due_checks(schedule, set(), local(saturday, 16), TIMES) == []


def test_a_day_asked_for_by_hand_is_due_whatever_the_time_but_still_once_a_day() -> None:
    schedule = [visit("WED", date(2026, 11, 4)), visit("CANCELLED", date(2026, 11, 4), status="cancelled")]
    by_hand = due_checks(schedule, set(), local(MONDAY, 9), TIMES, day=date(2026, 11, 4))
    assert [d.target for d in by_hand] == ["WED"]
    assert due_checks(schedule, {"WED"}, local(MONDAY, 9), TIMES, day=date(2026, 11, 4)) == []


def test_business_days_are_named_days_and_spans() -> None:
    assert business_days("mon-fri") == frozenset(range(5))
    assert business_days("Mon, wed-thu ,sat") == frozenset({0, 2, 3, 5})
    for bad in ("weekdays", "fri-mon", "mon-"):
        with pytest.raises(ValueError, match=r"mon, tue|backwards"):
            business_days(bad)
