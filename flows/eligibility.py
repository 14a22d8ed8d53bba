"""Before the visit: when each appointment's coverage is due for a check, and what a portal's answer means
for the front desk (pure rules over the stored appointment, its latest check and the authorizations).

When (the practice's time zone, `[schedule.eligibility]`):
- the day-before check, from `day_before` (16:00) on a business day: the appointments of the next business
  day, and of any day before it (a Friday's check covers Saturday, Sunday and Monday);
- the same-day re-check, from `same_day` (06:30) on a business day: that day's appointments still ahead,
  which catches coverage that ended overnight.
Each appointment is checked at most once per practice day, so the two checks are on different days and a
job that runs twice (a catch-up, a retry, `check` by hand) asks the portal nothing more.

What (one finding per problem, subject = the appointment id, never a name, member id or date of birth;
due = the appointment's day, the message says the time):
- payer_changed: the payer answers with another payer or member id (a plan change);
- coverage_inactive: coverage ended, or the member was not found (the portal's words say why, e.g. a
  date of birth that does not match);
- other_insurance_primary: coordination of benefits names another primary payer;
- out_of_network: the rendering provider is out of network for the member's plan;
- visit_auth_missing: a planned code needs prior authorization and no authorization on file covers it
  (its codes and dates, as the payer approved them once checked);
- eligibility_unchecked: the check failed (a portal down) and has not succeeded since.
A plan change or inactive coverage is the whole story (the rest is moot under that plan); the others
may come together. A clean answer resolves the appointment's earlier findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flows.authorizations import outside_of
from flows.cadence import Due
from flows.findings import FindingDraft
from portals.identifiers import normal_id
from store.models import Appointment, Authorization, EligibilityCheck

PAYER_CHANGED = "payer_changed"
COVERAGE_INACTIVE = "coverage_inactive"
OTHER_INSURANCE_PRIMARY = "other_insurance_primary"
OUT_OF_NETWORK = "out_of_network"
VISIT_AUTH_MISSING = "visit_auth_missing"
ELIGIBILITY_UNCHECKED = "eligibility_unchecked"
ELIGIBILITY_FINDINGS = (
    PAYER_CHANGED,
    COVERAGE_INACTIVE,
    OTHER_INSURANCE_PRIMARY,
    OUT_OF_NETWORK,
    VISIT_AUTH_MISSING,
    ELIGIBILITY_UNCHECKED,
)
# What the front desk does about each, before the patient arrives.
TO_DO = {
    PAYER_CHANGED: "ask the patient for the new insurance card and update the PM system before the visit",
    COVERAGE_INACTIVE: (
        "confirm the patient's insurance (current card, date of birth as the payer has it) or arrange self-pay "
        "before the visit"
    ),
    OTHER_INSURANCE_PRIMARY: "get the primary insurance's details and update the coordination of benefits",
    OUT_OF_NETWORK: "move the visit to an in-network provider, or get the patient's consent to out-of-network costs",
    VISIT_AUTH_MISSING: "request the prior authorization (or reschedule) before the visit",
    ELIGIBILITY_UNCHECKED: "verify coverage by phone or on the payer's portal before the visit",
}
# An alert's title: the finding's message has the detail.
VISIT_PROBLEM_TITLES = {
    PAYER_CHANGED: "plan change (payer or member id)",
    COVERAGE_INACTIVE: "coverage inactive or not found",
    OTHER_INSURANCE_PRIMARY: "other insurance is primary",
    OUT_OF_NETWORK: "provider out of network",
    VISIT_AUTH_MISSING: "prior authorization missing",
    ELIGIBILITY_UNCHECKED: "eligibility could not be checked",
}
DAY_BEFORE, SAME_DAY = "day before", "same day"
PRIORITY_SAME_DAY = 90  # the patient is on the way: ahead of everything else
PRIORITY_DAY_BEFORE = 60
NO_AUTH_STATES = frozenset({"denied", "cancelled", "expired", "not_on_file"})
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class CheckTimes:
    """The two checks' times of day and the practice's business days (0 = Monday), in the practice's zone."""

    day_before: time = time(16, 0)
    same_day: time = time(6, 30)
    business_days: frozenset[int] = frozenset(range(5))

    def next_business_day(self, day: date) -> date:
        following = day + timedelta(days=1)
        while following.weekday() not in self.business_days:
            following += timedelta(days=1)
        return following


def business_days(spec: str) -> frozenset[int]:
    """'mon-fri' or 'mon,wed,fri' as weekday numbers; ValueError names what is wrong."""
    days: set[int] = set()
    for piece in spec.replace(" ", "").lower().split(","):
        first, dash, last = piece.partition("-")
        if first not in WEEKDAYS or (dash and last not in WEEKDAYS):
            raise ValueError(f"{piece!r} is not a day or a span of days (use mon, tue, ... sun, like mon-fri)")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if end < start:
            raise ValueError(f"{piece!r} runs backwards (write the days from Monday on, like mon-fri)")
        days.update(range(start, end + 1))
    return frozenset(days)


def window_of(appointment: Appointment, local_now: datetime, times: CheckTimes) -> str | None:
    """Which check is due for the appointment at `local_now` (the practice's time), or None."""
    today, now = local_now.date(), local_now.time()
    if today.weekday() not in times.business_days:
        return None
    day = appointment.appointment_date
    if day == today and now >= times.same_day and appointment.appointment_time > now:
        return SAME_DAY
    if today < day <= times.next_business_day(today) and now >= times.day_before:
        return DAY_BEFORE
    return None


def due_checks(
    appointments: Iterable[Appointment],
    checked_today: set[str],
    local_now: datetime,
    times: CheckTimes,
    *,
    day: date | None = None,
) -> list[Due]:
    """The appointments to check now, the patients nearest to arriving first. `day`: that day's appointments
    whatever the time (`check --what eligibility --date`), still once per practice day."""
    due = []
    for appointment in appointments:
        if appointment.status != "scheduled" or appointment.appointment_id in checked_today:
            continue
        if day is not None:
            window: str | None = "asked for now" if appointment.appointment_date == day else None
        else:
            window = window_of(appointment, local_now, times)
        if window is None:
            continue
        priority = PRIORITY_SAME_DAY if appointment.appointment_date == local_now.date() else PRIORITY_DAY_BEFORE
        reason = f"visit {appointment.appointment_date} {appointment.appointment_time:%H:%M}: {window} check"
        due.append(Due(appointment.appointment_id, appointment.payer_id, reason, priority))
    return sorted(due, key=lambda item: (-item.priority, item.reason, item.target))


# --- what an answer means -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitProblem:
    kind: str
    problem: str  # what is wrong, in ids and codes
    to_do: str

    def draft(self, appointment: Appointment) -> FindingDraft:
        visit = f"{appointment.appointment_date} {appointment.appointment_time:%H:%M}"
        return FindingDraft(
            self.kind,
            appointment.appointment_id,
            appointment.payer_id,
            f"appointment {appointment.appointment_id} ({visit}, {appointment.payer_id}): {self.problem}; "
            f"{self.to_do} (the patient arrives {visit})",
            due=appointment.appointment_date,
        )


def latest_answer(appointment: Appointment, checks: Sequence[EligibilityCheck]) -> EligibilityCheck | None:
    """The newest check of the appointment on its current date (a rescheduled visit's older answers do not count)."""
    current = [check for check in checks if check.service_date == appointment.appointment_date]
    return max(current, key=lambda check: check.checked_at, default=None)


def visit_problems(
    appointment: Appointment,
    answer: EligibilityCheck | None,
    auths: Sequence[Authorization],
    failed_attempt: str | None = None,
) -> list[VisitProblem]:
    """What the front desk must fix before this visit, from the latest answer (none: only a failed attempt counts)."""
    if answer is None:
        if failed_attempt is None:
            return []
        return [_problem(ELIGIBILITY_UNCHECKED, f"the eligibility check could not be done ({failed_attempt})")]
    changed = _plan_change(appointment, answer)
    if changed:
        return [_problem(PAYER_CHANGED, changed)]
    if answer.coverage != "active":
        state = "not found" if answer.coverage == "not_found" else "inactive"
        ended = f", ended {answer.coverage_end}" if answer.coverage_end else ""
        words = f'; the portal says "{_quoted(answer.portal_words, appointment)}"' if answer.portal_words else ""
        return [_problem(COVERAGE_INACTIVE, f"coverage {state}{ended}{words}")]
    problems = []
    if answer.other_insurance_primary:
        primary = _quoted(answer.other_insurance_primary, appointment)
        problems.append(_problem(OTHER_INSURANCE_PRIMARY, f"other insurance is primary ({primary})"))
    if answer.in_network is False:
        problems.append(
            _problem(OUT_OF_NETWORK, f"provider {appointment.rendering_npi} is out of network for the member's plan")
        )
    missing = _auth_problem(appointment, answer, auths)
    if missing:
        problems.append(_problem(VISIT_AUTH_MISSING, missing))
    return problems


def visit_findings(
    appointment: Appointment,
    answer: EligibilityCheck | None,
    auths: Sequence[Authorization],
    failed_attempt: str | None = None,
) -> list[FindingDraft]:
    return [problem.draft(appointment) for problem in visit_problems(appointment, answer, auths, failed_attempt)]


def _problem(kind: str, problem: str) -> VisitProblem:
    return VisitProblem(kind, problem, TO_DO[kind])


def _plan_change(appointment: Appointment, answer: EligibilityCheck) -> str | None:
    if answer.new_payer_id and answer.new_payer_id != appointment.payer_id:
        return f"the coverage moved from payer {appointment.payer_id} to payer {answer.new_payer_id} (a plan change)"
    member_now = answer.new_member_id or answer.member_id
    if member_now and normal_id(member_now) != normal_id(appointment.member_id):
        return f"payer {appointment.payer_id} now has another member id for the patient (a plan change)"
    return None


def _auth_problem(appointment: Appointment, answer: EligibilityCheck, auths: Sequence[Authorization]) -> str | None:
    required = sorted(set(answer.auth_required_codes))
    if not required:
        return None
    day = appointment.appointment_date
    on_file = [auth for auth in auths if _for_this_visit(auth, appointment)]
    covered: set[str] = set()
    for auth in on_file:
        outside_codes, outside_dates = outside_of(auth, required, day, day)
        if not outside_dates:
            covered |= set(required) - set(outside_codes)
    uncovered = [code for code in required if code not in covered]
    if not uncovered:
        return None
    codes = ", ".join(uncovered)
    if not on_file:
        number = f" (the schedule names {appointment.auth_number})" if appointment.auth_number else ""
        return f"prior authorization required for {codes} and none is on file{number}"
    numbers = ", ".join(sorted(auth.auth_number for auth in on_file))
    return f"prior authorization required for {codes}: authorization {numbers} on file does not cover it on {day}"


def _for_this_visit(auth: Authorization, appointment: Appointment) -> bool:
    if auth.status in NO_AUTH_STATES or auth.payer_id != appointment.payer_id:
        return False
    if appointment.auth_number and normal_id(auth.auth_number) == normal_id(appointment.auth_number):
        return True
    return normal_id(auth.member_id) == normal_id(appointment.member_id)


def _quoted(words: str, appointment: Appointment) -> str:
    """The portal's words with the patient's identifiers taken out (a portal may echo what it was asked)."""
    text = " ".join(words.split())
    born = appointment.date_of_birth
    secrets = [appointment.member_id, born.isoformat(), f"{born:%m/%d/%Y}", f"{born.month}/{born.day}/{born.year}"]
    secrets += [part for part in re.split(r"[\s,]+", appointment.patient_name) if len(part) > 2]
    for secret in secrets:
        text = re.sub(re.escape(secret), "[withheld]", text, flags=re.IGNORECASE)
    return text[:200]
