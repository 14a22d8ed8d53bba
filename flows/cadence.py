"""Adaptive cadence: which targets are due for a portal check, why, and how urgent.

Claims (base intervals are claim_status.RECHECK_AFTER, the table `check` uses):
- paid: never again;
- never checked: due, except a claim submitted less than FIRST_LISTING_DAYS ago
  (payers do not list it yet);
- not on file, rejected or never checked within DEADLINE_WATCH_DAYS of timely
  filing: every run (at most every EVERY_RUN_GAP), highest priority;
- an open denial whose next deadline (corrected claim or appeal, as the
  worklist computes it) is within DEADLINE_WATCH_DAYS: every run, high priority;
- pending, received or not on file and submitted less than NEW_SUBMISSION_AGE
  ago: every NEW_SUBMISSION_RECHECK;
- pending, received, info requested: daily; pending more than
  LONG_PENDING_DAYS: daily with a higher priority;
- denied, partially paid, finalized: weekly.
Authorizations: denied, cancelled and expired stop; an approved one past its end
date gets one last look, then stops; pending daily; approved daily within
AUTH_WATCH_DAYS of its end or of the scheduled service, else every 3 days.
Enrollments: in process daily; active, terminated and denied weekly (a provider
may re-apply); a provider with no enrollment on record yet is due on every portal.

"Daily" is 20 hours, so a check that ran a little late yesterday is due again at
today's run. Dates (submitted age, deadlines) are the practice's dates (`tz`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from flows.claim_states import ClaimState
from flows.claim_status import NEVER_AGAIN, NEW_SUBMISSION_AGE, NEW_SUBMISSION_RECHECK, RECHECK_AFTER
from flows.deadlines import RuleBook, timely_filing_deadline
from flows.worklist import work_item
from store.models import Authorization, Claim, Denial, Enrollment, Provider

DAILY = RECHECK_AFTER[ClaimState.PENDING]
EVERY_3_DAYS = timedelta(days=3)
WEEKLY = timedelta(days=7)

FIRST_LISTING_DAYS = 2  # a claim submitted less than this many days ago is not on the payer's portal yet
LONG_PENDING_DAYS = 30  # pending longer than this: the payer is sitting on it, keep asking first
DEADLINE_WATCH_DAYS = 14  # timely filing or a denial deadline this close: check on every run
EVERY_RUN_GAP = timedelta(hours=4)  # "every run" of a twice-a-day schedule, never more often than this
AUTH_WATCH_DAYS = 14  # an approved authorization this close to its end or to the service: daily

# Higher is more urgent. A deadline adds (DEADLINE_WATCH_DAYS - days left), so the nearest comes first.
PRIORITY_FILING_AT_RISK = 100
PRIORITY_DENIAL_DEADLINE = 80
PRIORITY_LONG_PENDING = 50
PRIORITY_FIRST_CHECK = 40
PRIORITY_OPEN = 30
PRIORITY_NEW_SUBMISSION = 20
PRIORITY_SETTLED = 10

NEW_SUBMISSION_STATES = frozenset({ClaimState.PENDING, ClaimState.RECEIVED, ClaimState.NOT_ON_FILE})
STILL_OPEN_STATES = frozenset({ClaimState.PENDING, ClaimState.RECEIVED, ClaimState.INFO_REQUESTED})
FILING_AT_RISK_STATES = frozenset({ClaimState.NOT_ON_FILE, ClaimState.REJECTED, ClaimState.UNCHECKED})

FINAL_AUTH_STATUSES = frozenset({"denied", "cancelled", "expired"})
WEEKLY_ENROLLMENT_STATUSES = frozenset({"active", "terminated", "denied"})
ANY_PAYER = "*"  # Due.payer_id for a provider never checked: ask every portal that offers enrollment


@dataclass(frozen=True)
class Due:
    target: str  # claim id / auth number / npi
    payer_id: str  # to route it to a portal (ANY_PAYER: every portal)
    reason: str  # human words, e.g. "pending 34 days, last checked 2 days ago"
    priority: int  # higher = more urgent; near-deadline claims highest


@dataclass(frozen=True)
class Verdict:
    """Due or not, and why: what `portal-worker schedule` shows for every target."""

    target: str
    payer_id: str
    is_due: bool
    reason: str
    priority: int
    next_check_at: datetime | None  # UTC; when due, the moment it became due; None: never again

    def as_due(self) -> Due:
        return Due(self.target, self.payer_id, self.reason, self.priority)


def today_in(now: datetime, tz: tzinfo | None = None) -> date:
    """The date at `now` in the practice's zone (UTC when tz is None; a naive `now` is taken as UTC)."""
    return as_utc(now).astimezone(tz or UTC).date()


def as_utc(moment: datetime) -> datetime:
    """Stored datetimes may come back naive from SQLite: they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- claims -----------------------------------------------------------------------------------------------------


def due_claims(
    claims: Sequence[Claim], open_denials: Sequence[Denial], rules: RuleBook, now: datetime, *, tz: tzinfo | None = None
) -> list[Due]:
    """The claims to check now, most urgent first."""
    return _due(claim_verdicts(claims, open_denials, rules, now, tz=tz))


def claim_verdicts(
    claims: Sequence[Claim], open_denials: Sequence[Denial], rules: RuleBook, now: datetime, *, tz: tzinfo | None = None
) -> list[Verdict]:
    """A verdict for every claim, due or not, in the order given."""
    denials_by_claim: dict[str, list[Denial]] = defaultdict(list)
    for denial in open_denials:
        if denial.claim_id and denial.status == "open":
            denials_by_claim[denial.claim_id].append(denial)
    return [claim_verdict(claim, denials_by_claim.get(claim.claim_id, []), rules, now, tz=tz) for claim in claims]


def not_due_reason(
    claim: Claim, open_denials: Sequence[Denial], rules: RuleBook, now: datetime, *, tz: tzinfo | None = None
) -> str | None:
    """Why `claim` is not checked now (e.g. "submitted 1 day ago: ..."), or None when it is due."""
    verdict = claim_verdicts([claim], open_denials, rules, now, tz=tz)[0]
    return None if verdict.is_due else verdict.reason


def claim_verdict(
    claim: Claim, open_denials: Sequence[Denial], rules: RuleBook, now: datetime, *, tz: tzinfo | None = None
) -> Verdict:
    """The cadence rules of the module docstring for one claim (denials of other claims, or not open, are ignored)."""
    open_denials = [d for d in open_denials if d.claim_id == claim.claim_id and d.status == "open"]
    now = as_utc(now)
    today = today_in(now, tz)
    state = _state(claim.status)
    verdict = _VerdictFor(claim.claim_id, claim.payer_id, now)
    if state in NEVER_AGAIN:
        return verdict.never(f"{_words(state)}: not checked again")
    age = (today - claim.submitted_date).days
    last = as_utc(claim.last_checked_at) if claim.last_checked_at else None
    if last is None and age < FIRST_LISTING_DAYS:
        listed = _local_midnight(claim.submitted_date + timedelta(days=FIRST_LISTING_DAYS), tz)
        return verdict.later(
            f"submitted {_days(age)} ago: payers list a claim only after {FIRST_LISTING_DAYS} days",
            PRIORITY_FIRST_CHECK,
            listed,
        )
    checked = f"last checked {_ago(now - last)} ago" if last else "never checked"

    filing_due = timely_filing_deadline(rules.for_payer(claim.payer_id), claim.dos_from, claim.dos_to)
    filing_left = (filing_due - today).days
    if state in FILING_AT_RISK_STATES and 0 <= filing_left <= DEADLINE_WATCH_DAYS:
        return verdict.every_run(
            last,
            f"{_words(state)}, timely filing ends {filing_due} ({_left(filing_left)}), {checked}",
            PRIORITY_FILING_AT_RISK + _nearness(filing_left),
        )
    nearest = _nearest_denial_deadline(claim, open_denials, rules, today)
    if nearest is not None:
        action, due_on, days_left = nearest
        return verdict.every_run(
            last,
            f"{action} due {due_on} ({_left(days_left)}), {checked}",
            PRIORITY_DENIAL_DEADLINE + _nearness(days_left),
        )
    if last is None:
        return verdict.due_now(f"never checked, submitted {_days(age)} ago", PRIORITY_FIRST_CHECK)

    interval, priority = RECHECK_AFTER.get(state, DAILY), PRIORITY_SETTLED
    described = f"{_words(state)}, {checked}"
    if state is ClaimState.UNCHECKED:  # the first check failed (see last_error): try again daily
        priority = PRIORITY_FIRST_CHECK
        described = f"no answer yet, submitted {_days(age)} ago, last tried {_ago(now - last)} ago"
    elif state in NEW_SUBMISSION_STATES and age < NEW_SUBMISSION_AGE.days:
        interval, priority = NEW_SUBMISSION_RECHECK, PRIORITY_NEW_SUBMISSION
        described = f"{_words(state)}, submitted {_days(age)} ago, {checked}"
    elif state in STILL_OPEN_STATES or state is ClaimState.NOT_ON_FILE or state is ClaimState.ERROR:
        priority = PRIORITY_LONG_PENDING if age > LONG_PENDING_DAYS else PRIORITY_OPEN
        described = f"{_words(state)} {_days(age)}, {checked}"
    return verdict.after(last, interval, described, priority)


def _nearest_denial_deadline(
    claim: Claim, denials: Sequence[Denial], rules: RuleBook, today: date
) -> tuple[str, date, int] | None:
    """The nearest corrected-claim/appeal deadline within the watch window (computed as the worklist does)."""
    upcoming = []
    for denial in denials:
        item = work_item(denial, claim, rules, today)
        if item.deadline is not None and item.days_left is not None and 0 <= item.days_left <= DEADLINE_WATCH_DAYS:
            upcoming.append((item.days_left, item.deadline.action, item.deadline.due))
    if not upcoming:
        return None
    days_left, action, due_on = min(upcoming)
    return action, due_on, days_left


def _state(status: str) -> ClaimState | str:
    try:
        return ClaimState(status)
    except ValueError:
        return status


# --- authorizations ---------------------------------------------------------------------------------------------


def due_authorizations(auths: Sequence[Authorization], now: datetime, *, tz: tzinfo | None = None) -> list[Due]:
    """The authorizations to check now, most urgent first."""
    return _due(auth_verdicts(auths, now, tz=tz))


def auth_verdicts(auths: Sequence[Authorization], now: datetime, *, tz: tzinfo | None = None) -> list[Verdict]:
    return [auth_verdict(auth, now, tz=tz) for auth in auths]


def auth_verdict(auth: Authorization, now: datetime, *, tz: tzinfo | None = None) -> Verdict:
    now = as_utc(now)
    today = today_in(now, tz)
    verdict = _VerdictFor(auth.auth_number, auth.payer_id, now)
    status = auth.status
    if status in FINAL_AUTH_STATUSES:
        return verdict.never(f"{_words(status)}: not checked again")
    last = as_utc(auth.last_checked_at) if auth.last_checked_at else None
    end = auth.portal_end or auth.end_date
    if status == "approved" and end < today:
        if last is not None and today_in(last, tz) > end:
            return verdict.never(f"approved, ended {end} and checked since: not checked again")
        return verdict.due_now(f"approved, ended {end}: one last look for the final units used", PRIORITY_SETTLED)
    service, bonus = "", 0
    if auth.scheduled_date is not None:
        service_in = (auth.scheduled_date - today).days
        # a service coming up makes it urgent; one already past only while the payer has not approved it
        if service_in <= AUTH_WATCH_DAYS and (service_in >= 0 or status != "approved"):
            service = f", service {auth.scheduled_date} ({_left(service_in)})"
            bonus = _nearness(max(service_in, 0))
    if last is None:
        return verdict.due_now(f"never checked{service}", PRIORITY_FIRST_CHECK + bonus)
    checked = f"last checked {_ago(now - last)} ago"
    if status == "approved":
        ends_in = (end - today).days
        if ends_in <= AUTH_WATCH_DAYS or service:
            ending = f", ends {end} ({_left(ends_in)})" if ends_in <= AUTH_WATCH_DAYS else ""
            return verdict.after(
                last, DAILY, f"approved{ending}{service}, {checked}", PRIORITY_OPEN + max(bonus, _nearness(ends_in))
            )
        return verdict.after(last, EVERY_3_DAYS, f"approved, ends {end}, {checked}", PRIORITY_SETTLED)
    # pending, not on file, or a status this worker does not know: daily
    return verdict.after(last, DAILY, f"{_words(status)}{service}, {checked}", PRIORITY_OPEN + bonus)


# --- enrollments ------------------------------------------------------------------------------------------------


def due_enrollments(providers: Sequence[Provider], enrollments: Sequence[Enrollment], now: datetime) -> list[Due]:
    """Providers to check now, one per payer whose enrollment is due (ANY_PAYER: never checked anywhere)."""
    return _due(enrollment_verdicts(providers, enrollments, now))


def enrollment_verdicts(
    providers: Sequence[Provider], enrollments: Sequence[Enrollment], now: datetime
) -> list[Verdict]:
    """Enrollments of the given providers only (a provider no longer listed is not checked)."""
    now = as_utc(now)
    by_npi: dict[str, list[Enrollment]] = defaultdict(list)
    for enrollment in enrollments:
        by_npi[enrollment.npi].append(enrollment)
    verdicts = []
    for provider in providers:
        rows = by_npi.get(provider.npi)
        if not rows:
            verdicts.append(_VerdictFor(provider.npi, ANY_PAYER, now).due_now("never checked", PRIORITY_FIRST_CHECK))
        verdicts.extend(enrollment_verdict(row, now) for row in sorted(rows or [], key=lambda e: e.payer_id))
    return verdicts


def enrollment_verdict(enrollment: Enrollment, now: datetime) -> Verdict:
    now = as_utc(now)
    status = enrollment.status
    weekly = status in WEEKLY_ENROLLMENT_STATUSES  # in process, or a status we do not know: daily
    interval, priority = (WEEKLY, PRIORITY_SETTLED) if weekly else (DAILY, PRIORITY_OPEN)
    last = as_utc(enrollment.last_checked_at)
    reason = f"{_words(status)} with {enrollment.payer_id}, last checked {_ago(now - last)} ago"
    return _VerdictFor(enrollment.npi, enrollment.payer_id, now).after(last, interval, reason, priority)


# --- shared -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _VerdictFor:
    """Builds the verdicts of one target at one moment."""

    target: str
    payer_id: str
    at: datetime

    def due_now(self, reason: str, priority: int) -> Verdict:
        return Verdict(self.target, self.payer_id, True, reason, priority, self.at)

    def later(self, reason: str, priority: int, next_check_at: datetime) -> Verdict:
        return Verdict(self.target, self.payer_id, False, reason, priority, next_check_at)

    def never(self, reason: str) -> Verdict:
        return Verdict(self.target, self.payer_id, False, reason, 0, None)

    def every_run(self, last: datetime | None, reason: str, priority: int) -> Verdict:
        """Due at every scheduled run, but not twice within EVERY_RUN_GAP (a catch-up or a fast schedule)."""
        return self.due_now(reason, priority) if last is None else self.after(last, EVERY_RUN_GAP, reason, priority)

    def after(self, last: datetime, interval: timedelta, reason: str, priority: int) -> Verdict:
        """Due once `interval` has passed since `last`; otherwise say when."""
        next_check_at = last + interval
        if self.at >= next_check_at:
            return Verdict(self.target, self.payer_id, True, reason, priority, next_check_at)
        return self.later(f"{reason}; next check in {_ago(next_check_at - self.at)}", priority, next_check_at)


def _due(verdicts: Sequence[Verdict]) -> list[Due]:
    """Due ones, most urgent first; ties by target so the order is stable."""
    due = sorted((v for v in verdicts if v.is_due), key=lambda v: (-v.priority, v.target, v.payer_id))
    return [v.as_due() for v in due]


def _nearness(days_left: int) -> int:
    return max(0, DEADLINE_WATCH_DAYS - days_left)


def _local_midnight(day: date, tz: tzinfo | None) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz or UTC).astimezone(UTC)


def _words(status: str) -> str:
    return str(status).replace("_", " ")


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _left(days: int) -> str:
    if days < 0:
        return f"{_days(-days)} ago"
    return "today" if days == 0 else f"{_days(days)} left"


def _ago(delta: timedelta) -> str:
    """Like `check`'s wording: hours under two days, then days."""
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
