"""Alerts: what a person must act on, and by when.

Rules produce the alerts that hold *now* (AlertDraft); `sync_alerts` opens the
new ones, updates those still true (escalating along the ladder as a deadline
nears), and resolves those whose condition ended, like findings. One row per
(kind, target), never repeated.

The escalation ladder counts days left to a deadline: with (30, 14, 7, 3, 1) an
alert appears 30 days out on rung "30d", moves to "14d" at 14 days, ... "1d"
from 1 day out to the day itself, then "overdue". Severity rises with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType

from sqlmodel import Session

from flows.cadence import as_utc
from flows.deadlines import RuleBook, timely_filing_deadline
from flows.eligibility import ELIGIBILITY_FINDINGS, TO_DO, VISIT_PROBLEM_TITLES
from flows.worklist import work_item
from store import alerts as store
from store.models import Alert, Claim, Denial, FeedChannelState, Finding, JobRun, PortalAccount

DEFAULT_LADDER = (30, 14, 7, 3, 1)  # days before a deadline; then "overdue"
OVERDUE = "overdue"
SEVERITY_BY_RUNG = {"30d": "info", "14d": "low", "7d": "medium", "3d": "high", "1d": "critical", "overdue": "critical"}
SEVERITIES = ("info", "low", "medium", "high", "critical")

DEADLINE_KINDS = ("timely_filing", "denial_deadline")
HEALTH_KINDS = ("account_needs_attention", "portal_paused", "job_stale", "feed_failing")
LAYOUT_CHANGED = "layout_changed"
# Nothing is being checked somewhere: these go out as soon as they open, not only in the next summary.
URGENT_KINDS = (*HEALTH_KINDS, LAYOUT_CHANGED)
# Claims the payer does not have, or never answered for: only a (re)submission stops the filing clock.
NOT_ON_FILE_STATES = frozenset({"not_on_file", "rejected", "unchecked", "error"})


class AlertNotFound(LookupError):
    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no alert with id {alert_id} (see `portal-worker alerts`)")
        self.alert_id = alert_id


@dataclass(frozen=True)
class AlertDraft:
    kind: str
    subject: str
    title: str  # one line, minimum necessary: ids, payer, amount, dates, codes; never a patient name
    action: str
    owner: str
    payer_id: str | None = None
    claim_id: str | None = None
    amount: Decimal | None = None
    due: date | None = None
    codes: str | None = None
    severity: str = "medium"
    rung: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.subject}"


@dataclass(frozen=True)
class AlertRules:
    ladders: Mapping[str, Sequence[int]] = field(default_factory=lambda: MappingProxyType({}))
    portal_paused_hours: float = 4  # a portal paused longer than this raises portal_paused
    job_grace: float = 2.0  # a job is stale when not succeeded within grace x its interval
    feed_failing_minutes: float = 60  # a feed channel failing this long raises feed_failing (feed.alert_after_minutes)

    def ladder(self, kind: str) -> Sequence[int]:
        return self.ladders.get(kind, DEFAULT_LADDER)


# --- the ladder ------------------------------------------------------------------------


def rung_for(days_left: int, ladder: Sequence[int]) -> str | None:
    """The rung reached `days_left` days before a deadline; None while further out than the first step."""
    if days_left < 0:
        return OVERDUE
    reached = [step for step in ladder if days_left <= step]
    return f"{min(reached)}d" if reached else None


def rung_rank(rung: str | None) -> float:
    """Higher is more urgent: off the ladder < 30d < 14d < ... < 1d < overdue (any ladder)."""
    if rung is None:
        return float("-inf")
    if rung == OVERDUE:
        return float("inf")
    return -int(rung.removesuffix("d"))


def severity_for(rung: str | None) -> str:
    """Severity of a rung; a custom ladder's step takes the severity of the default rung it falls on (10d: 14d)."""
    if rung is None:
        return "info"
    if rung in SEVERITY_BY_RUNG:
        return SEVERITY_BY_RUNG[rung]
    days = int(rung.removesuffix("d"))
    steps = [step for step in DEFAULT_LADDER if step >= days]
    return SEVERITY_BY_RUNG[f"{min(steps)}d"] if steps else "info"


def rung_words(rung: str) -> str:
    """'3d' -> '3 days', '1d' -> '1 day', 'overdue' -> 'overdue'."""
    if rung == OVERDUE:
        return OVERDUE
    days = int(rung.removesuffix("d"))
    return f"{days} day" if days == 1 else f"{days} days"


def money(amount: Decimal | None) -> str:
    return f"${amount:,.2f}" if amount is not None else ""


def _by(due: date, today: date) -> str:
    return f"by {due}" if due >= today else f"was due {due}"


# --- deadlines: timely filing and denials --------------------------------------------------


def deadline_alerts(
    claims: Sequence[Claim],
    open_denials: Sequence[Denial],
    rules: RuleBook,
    today: date,
    alert_rules: AlertRules,
    *,
    appeals: Mapping[int, int] | None = None,
    decision_dates: Mapping[int, date] | None = None,
) -> list[AlertDraft]:
    """Timely-filing alerts for claims the payer does not have, and deadline alerts for open denials.

    `appeals`: denial id -> appeals already filed (0 when missing), as flows.worklist takes it;
    `decision_dates`: denial id -> the last filed level's upheld decision (flows.appeal_progress).
    """
    drafts = [d for claim in claims if (d := _timely_filing(claim, rules, today, alert_rules)) is not None]
    by_id = {c.claim_id: c for c in claims}
    appeals, decided = appeals or {}, decision_dates or {}
    for denial in open_denials:
        draft = _denial_deadline(
            denial,
            by_id.get(denial.claim_id or ""),
            rules,
            today,
            alert_rules,
            appeals.get(denial.id or 0, 0),
            decided.get(denial.id or 0),
        )
        if draft is not None:
            drafts.append(draft)
    return drafts


def _timely_filing(claim: Claim, rules: RuleBook, today: date, alert_rules: AlertRules) -> AlertDraft | None:
    if claim.status not in NOT_ON_FILE_STATES:
        return None
    deadline = timely_filing_deadline(rules.for_payer(claim.payer_id), claim.dos_from, claim.dos_to)
    rung = rung_for((deadline - today).days, alert_rules.ladder("timely_filing"))
    if rung is None:
        return None
    state = {
        "not_on_file": "not on file",
        "rejected": "rejected",
        "unchecked": "not yet checked",
        "error": "payer could not answer",
    }[claim.status]
    if rung == OVERDUE:
        action = (
            f"Timely filing passed on {deadline}: appeal with proof of timely filing "
            "(e.g. the clearinghouse acceptance report), or write off"
        )
    elif claim.status == "rejected":
        action = f"Correct and resubmit the claim by {deadline}"
    else:
        action = f"Confirm the payer has the claim, or submit it, by {deadline}"
    return AlertDraft(
        "timely_filing",
        claim.claim_id,
        f"Claim {claim.claim_id} ({claim.payer_id}, {money(claim.billed_amount)}, DOS {claim.dos_from}) "
        f"{state}: timely filing ends {deadline}",
        action,
        "billing",
        payer_id=claim.payer_id,
        claim_id=claim.claim_id,
        amount=claim.billed_amount,
        due=deadline,
        severity=severity_for(rung),
        rung=rung,
    )


def _denial_deadline(
    denial: Denial,
    claim: Claim | None,
    rules: RuleBook,
    today: date,
    alert_rules: AlertRules,
    appeals_filed: int,
    decision_date: date | None = None,
) -> AlertDraft | None:
    item = work_item(denial, claim, rules, today, appeals_filed, decision_date=decision_date)
    if item.deadline is None or item.days_left is None:
        return None
    rung = rung_for(item.days_left, alert_rules.ladder("denial_deadline"))
    if rung is None:
        return None
    claim_id = denial.claim_id or denial.reported_claim_id
    codes = "/".join([f"{denial.group_code}-{denial.carc}", *denial.rarcs])
    action = item.action[:1].upper() + item.action[1:]
    on = f" on {denial.denial_date}" if denial.denial_date else ""
    return AlertDraft(
        "denial_deadline",
        str(denial.id),
        f"Claim {claim_id} ({denial.payer_id or 'payer unknown'}, {money(denial.amount)}) denied {codes}{on}",
        f"{action} ({_by(item.deadline.due, today)})",
        denial.owner,
        payer_id=denial.payer_id,
        claim_id=denial.claim_id,
        amount=denial.amount,
        due=item.deadline.due,
        codes=item.codes,
        severity=severity_for(rung),
        rung=rung,
    )


# --- findings (authorizations, credentialing, layout changes) -----------------------------------


FINDING_OWNERS = {
    "auth_expiring": "front_desk",
    "auth_units_high": "front_desk",
    "auth_denied": "front_desk",
    "auth_pending_overdue": "front_desk",
    "claim_outside_auth": "front_desk",
    **dict.fromkeys(ELIGIBILITY_FINDINGS, "front_desk"),  # before the visit: flows.eligibility
    "auth_request_refused": "front_desk",  # whoever owns prior authorizations fixes and re-queues it
    "appeal_refused": "billing",  # whoever works denials corrects the appeal and queues it again
    "enrollment_inactive": "credentialing",
    "revalidation_due": "credentialing",
    "caqh_due": "credentialing",
    LAYOUT_CHANGED: "it",
    "appeal_upheld": "billing",  # flows.appeal_follow_up: file the next level
    "appeal_upheld_final": "billing",
    "appeal_no_answer": "billing",
}
HIGH_FINDINGS = frozenset({"auth_denied", "enrollment_inactive"})  # never below high, whatever the date
# kind -> (title, action); {subject} {payer} {due} {amount} filled in. The finding's message has the detail.
FINDING_TEXT = {
    "auth_expiring": (
        "Authorization {subject} ({payer}) ends {due} with units unused",
        "Request an extension or schedule the remaining visits",
    ),
    "auth_units_high": (
        "Authorization {subject} ({payer}) is nearly used up",
        "Request more units before the next visit",
    ),
    "auth_denied": (
        "Authorization {subject} ({payer}) was denied",
        "Do not provide the service without an approval; appeal or request again with records",
    ),
    "auth_pending_overdue": (
        "Authorization {subject} ({payer}) still pending, service scheduled {due}",
        "Call the payer or reschedule",
    ),
    "claim_outside_auth": (
        "Claim {subject} ({payer}, {amount}) is billed outside its authorization",
        "Get the authorization amended or correct the claim (expect CO-197/198)",
    ),
    "auth_request_refused": (
        "Prior-auth request {subject} ({payer}) was refused by the portal",
        "Correct it as the portal says, then `portal-worker auth requeue {subject}`",
    ),
    "appeal_refused": (
        "Appeal {subject} ({payer}, {amount}) was refused by the portal",
        "Correct it as the portal says, then `portal-worker appeal requeue {subject}`",
    ),
    "enrollment_inactive": (
        "Provider {subject}: enrollment not active, {amount} of unpaid claims",
        "Fix the enrollment (retroactive effective date) before more claims go out",
    ),
    **{
        kind: (f"Appointment {{subject}} ({{payer}}) on {{due}}: {problem}", TO_DO[kind].capitalize())
        for kind, problem in VISIT_PROBLEM_TITLES.items()
    },
    "revalidation_due": ("Provider {subject}: revalidation due {due}", "Revalidate with the payer"),
    "caqh_due": ("Provider {subject}: CAQH re-attestation due {due}", "Re-attest in CAQH ProView"),
    LAYOUT_CHANGED: (
        "Portal {subject}: pages changed, that work is paused",
        "Update the portal adapter, then `portal-worker resume PORTAL`",
    ),
    "appeal_upheld": ("Appeal {subject} ({payer}, {amount}) upheld: the next level is due {due}", "{message}"),
    "appeal_upheld_final": ("Appeal {subject} ({payer}, {amount}) upheld at the payer's last level", "{message}"),
    "appeal_no_answer": ("Appeal {subject} ({payer}, {amount}): no answer from the payer", "{message}"),
}


def finding_alerts(findings: Sequence[Finding], today: date, alert_rules: AlertRules) -> list[AlertDraft]:
    """Every open finding becomes an alert of the same kind and subject."""
    return [_from_finding(f, today, alert_rules) for f in findings if f.status == "open"]


def _from_finding(finding: Finding, today: date, alert_rules: AlertRules) -> AlertDraft:
    kind = finding.kind
    rung = rung_for((finding.due - today).days, alert_rules.ladder(kind)) if finding.due else None
    severity = severity_for(rung) if finding.due else "medium"
    if kind in HIGH_FINDINGS and SEVERITIES.index(severity) < SEVERITIES.index("high"):
        severity = "high"
    title, action = FINDING_TEXT.get(kind, ("{message}", "See `portal-worker findings`"))
    values = {
        "subject": finding.subject,
        "payer": finding.payer_id or "payer unknown",
        "due": finding.due,
        "amount": money(finding.amount_at_risk),
        "message": finding.message,
    }
    action = action.format(**values)
    if kind == LAYOUT_CHANGED:
        action = action.replace("PORTAL", finding.subject.split(":", 1)[0])
    if finding.due and kind not in ("auth_denied", "auth_pending_overdue"):
        action += f" ({_by(finding.due, today)})"
    claims = finding.claims_at_risk or []
    return AlertDraft(
        kind,
        finding.subject,
        title.format(**values),
        action,
        FINDING_OWNERS.get(kind, "billing"),
        payer_id=finding.payer_id,
        claim_id=claims[0] if len(claims) == 1 else None,
        amount=finding.amount_at_risk,
        due=finding.due,
        severity=severity,
        rung=rung,
    )


# --- worker health ------------------------------------------------------------------------


def health_alerts(
    accounts: Sequence[PortalAccount],
    job_runs: Mapping[str, JobRun],
    expected_intervals: Mapping[str, timedelta],
    now: datetime,
    alert_rules: AlertRules,
    *,
    up_since: datetime | None = None,
    feed_channels: Sequence[FeedChannelState] = (),
) -> list[AlertDraft]:
    """Accounts needing a person, portals paused for long, scheduler jobs that stopped succeeding, feed channels
    whose receiver has failed for long.

    `up_since`: when this worker started; a job that never succeeded is stale once the worker has been
    up grace x its interval (without it, once its first start is that old).
    """
    now = as_utc(now)
    drafts: list[AlertDraft] = []
    for account in accounts:
        if account.state == "needs_attention":
            drafts.append(
                AlertDraft(
                    "account_needs_attention",
                    account.portal,
                    f"Portal account {account.portal} needs attention: {_short(account.attention_reason)}",
                    f"Fix the password/MFA on the portal, then `portal-worker credentials set {account.portal}`",
                    "it",
                    severity="high",
                )
            )
        if (paused := _long_pause(account, now, alert_rules)) is not None:
            drafts.append(paused)
    for job, interval in expected_intervals.items():
        if (stale := _stale_job(job, job_runs.get(job), interval, now, alert_rules, up_since)) is not None:
            drafts.append(stale)
    drafts += [draft for channel in feed_channels if (draft := _feed_failing(channel, now, alert_rules))]
    return drafts


def _short(text: str | None, limit: int = 120) -> str:
    text = " ".join((text or "no reason recorded").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _long_pause(account: PortalAccount, now: datetime, alert_rules: AlertRules) -> AlertDraft | None:
    if account.unavailable_until is None:
        return None
    until = as_utc(account.unavailable_until)
    # Between two pauses of the circuit breaker `until` has passed but the failures have not ended:
    # still paused, so the alert does not resolve and reopen around every retry.
    if until <= now and account.consecutive_failures == 0:
        return None
    long = timedelta(hours=alert_rules.portal_paused_hours)
    # The failing streak began after the last success: that bounds how long the portal has been paused.
    since = as_utc(account.last_success_at) if account.last_success_at else None
    if not ((since is not None and now - since >= long) or until - now >= long):
        return None
    last_ok = f"{since:%Y-%m-%d %H:%M} UTC" if since else "never"
    return AlertDraft(
        "portal_paused",
        account.portal,
        f"Portal {account.portal} paused until {until:%Y-%m-%d %H:%M} UTC after {account.consecutive_failures} "
        f"failure(s) in a row (last success {last_ok}): {_short(account.last_error)}",
        "Nothing is checked on this portal meanwhile: check the payer's status page; "
        f"`portal-worker resume {account.portal}` once it is back",
        "it",
        severity="medium",
    )


def _stale_job(
    job: str, run: JobRun | None, interval: timedelta, now: datetime, alert_rules: AlertRules, up_since: datetime | None
) -> AlertDraft | None:
    limit = interval * alert_rules.job_grace
    last_success = as_utc(run.last_success_at) if run and run.last_success_at else None
    if last_success is not None:
        if now - last_success <= limit:
            return None
        when = f"since {last_success:%Y-%m-%d %H:%M} UTC"
    else:
        started = up_since or (run.last_started_at if run else None)
        if started is None or now - as_utc(started) <= limit:
            return None
        when = "yet"
    error = f": {_short(run.last_error)}" if run and run.last_error else ""
    return AlertDraft(
        "job_stale",
        job,
        f"Job {job} has not succeeded {when} (expected every {_duration(interval)}){error}",
        "Check `portal-worker status` and the worker log",
        "it",
        severity="high",
    )


def _feed_failing(channel: FeedChannelState, now: datetime, alert_rules: AlertRules) -> AlertDraft | None:
    """A channel whose receiver has not acknowledged anything for `feed_failing_minutes`; it resolves at the
    next delivery (which clears failing_since)."""
    if channel.failing_since is None:
        return None
    failing = now - as_utc(channel.failing_since)
    if failing < timedelta(minutes=alert_rules.feed_failing_minutes):
        return None
    return AlertDraft(
        "feed_failing",
        channel.name,
        f"Feed channel {channel.name} has failed for {_how_long(failing)} ({channel.consecutive_failures} "
        f"tries in a row): {_short(channel.last_error)}",
        "Nothing is lost (events wait in the store) but the PM system is not updated: check the receiver, its "
        f"address or the drop folder; `portal-worker feed status` shows the backlog, `portal-worker feed send "
        f"--channel {channel.name}` tries again now (docs/feed.md)",
        "it",
        severity="high",
    )


def _how_long(interval: timedelta) -> str:
    minutes = int(interval.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} days"


def _duration(interval: timedelta) -> str:
    minutes = round(interval.total_seconds() / 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} day(s)"
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


# --- sync ------------------------------------------------------------------------------


@dataclass
class AlertChanges:
    opened: list[Alert] = field(default_factory=list)
    escalated: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


def sync_alerts(session: Session, kinds: Sequence[str], drafts: Iterable[AlertDraft], now: datetime) -> AlertChanges:
    """Make the unresolved alerts of `kinds` exactly `drafts`: one row per key, updated, never repeated."""
    changes, keys = AlertChanges(), set()
    wake_snoozed(session, now)
    for draft in drafts:
        if draft.kind not in kinds:
            raise ValueError(f"alert kind {draft.kind!r} is not among the kinds being synced ({', '.join(kinds)})")
        if draft.key in keys:
            continue  # the same target twice in one pass: the first draft wins
        keys.add(draft.key)
        alert = store.find_by_key(session, draft.key)
        if alert is None:
            alert = Alert(
                key=draft.key,
                kind=draft.kind,
                subject=draft.subject,
                title=draft.title,
                action=draft.action,
                owner=draft.owner,
                severity=draft.severity,
                opened_at=now,
                updated_at=now,
                amount=None,
            )
            changes.opened.append(alert)
        elif alert.status == "resolved":
            _reopen(alert, now)
            changes.opened.append(alert)
        elif rung_rank(draft.rung) > rung_rank(alert.rung):
            if alert.status != "open":  # acknowledged or snoozed: a higher rung is worth a person's look again
                alert.status, alert.snoozed_until = "open", None
                alert.acknowledged_at = alert.acknowledged_by = None
            changes.escalated.append(alert)
        _update(alert, draft, now)
        store.save(session, alert)
    for alert in store.unresolved_alerts(session, kinds):
        if alert.key not in keys:
            alert.status, alert.resolved_at, alert.resolution_reported = "resolved", now, False
            alert.updated_at = now
            store.save(session, alert)
            changes.resolved.append(alert)
    return changes


def _reopen(alert: Alert, now: datetime) -> None:
    alert.status, alert.opened_at, alert.resolved_at = "open", now, None
    alert.acknowledged_at = alert.snoozed_until = alert.acknowledged_by = None
    # Back again: news for the next summary, and its earlier resolution no longer worth saying.
    alert.reported_at = alert.reported_rung = None
    alert.resolution_reported = False


def _update(alert: Alert, draft: AlertDraft, now: datetime) -> None:
    alert.title, alert.action, alert.owner = draft.title, draft.action, draft.owner
    alert.payer_id, alert.claim_id, alert.amount = draft.payer_id, draft.claim_id, draft.amount
    alert.due, alert.codes, alert.severity, alert.rung = draft.due, draft.codes, draft.severity, draft.rung
    alert.updated_at = now


def wake_snoozed(session: Session, now: datetime) -> list[Alert]:
    """Snoozed alerts whose snooze ended are open again."""
    woken = store.snoozes_ended(session, now)
    for alert in woken:
        alert.status, alert.snoozed_until, alert.updated_at = "open", None, now
        store.save(session, alert)
    return woken


def acknowledge(session: Session, alert_id: int, now: datetime, snooze: timedelta | None = None, *, by: str) -> Alert:
    """`by` is on it: acknowledged (out of the summaries until it escalates), or snoozed for `snooze`.

    A resolved alert stays resolved.
    """
    alert = store.get(session, alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    if alert.status == "resolved":
        return alert
    alert.acknowledged_at, alert.acknowledged_by, alert.updated_at = now, by, now
    if snooze is not None:
        if snooze <= timedelta(0):
            raise ValueError("a snooze must be longer than zero")
        alert.status, alert.snoozed_until = "snoozed", now + snooze
    else:
        alert.status, alert.snoozed_until = "acknowledged", None
    store.save(session, alert)
    return alert
