"""What the admin pages show, built from settings and the store: schedules in words, accounts without
secrets, and the loaded config with every password or token in it masked."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from store.models import PortalAccount
from worker.clock import aware
from worker.runtime.jobs import eligibility_words, job_specs
from worker.settings import DEFAULT_CRON, WORKER_JOBS, EligibilitySchedule, Settings, TriggerSettings, cron_fields

DAY_WORDS = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday"}  # fmt: skip
JOB_WORDS = {
    "claims": "Check claim statuses",
    "remittances": "Fetch remittances (ERAs)",
    "auths": "Check authorizations",
    "enrollments": "Check provider enrollments",
    "auth_requests": "Submit queued prior-auth requests",
    "appeals": "File queued appeals online",
    "appeal_status": "Follow filed appeals' status",
    "purge": "Purge old evidence",
    "digest": "Send the daily summary",
    "eligibility": "Check appointments' eligibility",
}
MASK = "****"
NO_PORTAL = "none: no enabled portal's site does this"


@dataclass(frozen=True)
class ScheduledJob:
    job: str
    what: str
    when: str
    portals: str
    next_run: datetime | None
    enabled: bool


@dataclass(frozen=True)
class AccountRow:
    portal: str
    adapter: str
    enabled: bool
    state: str  # in words
    needs_credentials: bool
    paused_until: datetime | None
    last_success: datetime | None
    failures: int


def _days(spec: str) -> str:
    if spec == "*":
        return "every day"
    parts = []
    for piece in spec.split(","):
        first, _, last = piece.partition("-")
        first_word, last_word = DAY_WORDS.get(first, first), DAY_WORDS.get(last, last)
        parts.append(f"{first_word} to {last_word}" if last else first_word)
    return ", ".join(parts)


def cron_in_words(cron: str) -> str:
    """'0 6,13 * * mon-fri' -> 'at 06:00 and 13:00, Monday to Friday'; the crontab itself when unusual."""
    minute, hour, day, month, weekday = cron.split()
    if not (minute.isdigit() and all(h.isdigit() for h in hour.split(",")) and day == "*" and month == "*"):
        return f"cron {cron}"
    times = [f"{int(h):02d}:{int(minute):02d}" for h in hour.split(",")]
    at = times[0] if len(times) == 1 else ", ".join(times[:-1]) + " and " + times[-1]
    return f"at {at}, {_days(weekday)}"


def trigger_in_words(cron: str | None, interval_minutes: float | None) -> str:
    if cron:
        return cron_in_words(cron)
    return f"every {interval_minutes:g} minutes"


def _next_run(when: TriggerSettings, settings: Settings, now: datetime) -> datetime | None:
    """The trigger's next time, without the jitter the worker adds (the page says runs may start late)."""
    tz = settings.worker.tzinfo
    trigger: BaseTrigger = (
        CronTrigger(**cron_fields(when.cron), timezone=tz)
        if when.cron
        else IntervalTrigger(minutes=when.interval_minutes or 1, timezone=tz)
    )
    upcoming: datetime | None = trigger.get_next_fire_time(None, now)
    return upcoming


def scheduled_jobs(settings: Settings, now: datetime) -> list[ScheduledJob]:
    """Every job of [schedule] (a portal with its own trigger is its own row), switched-off ones included,
    each with the portals the worker runs it for: job_specs, which the scheduler itself reads, leaves out a
    portal whose site cannot do the job (remittance files, authorizations, enrollments)."""
    specs = job_specs(settings)
    rows = []
    for job, schedule in settings.schedule.jobs().items():
        if not schedule.enabled:
            rows.append(ScheduledJob(job, JOB_WORDS[job], "switched off", "", None, False))
            continue
        runs = [spec for spec in specs if spec.job == job]
        if not runs:
            words = trigger_in_words(schedule.cron, schedule.interval_minutes)
            rows.append(ScheduledJob(job, JOB_WORDS[job], words, NO_PORTAL, None, True))
        for spec in runs:
            _, _, own_portal = spec.job_id.partition(":")
            when = schedule.portals[own_portal] if own_portal else schedule
            portals = "the whole worker" if job in WORKER_JOBS else ", ".join(spec.portals)
            if isinstance(when, EligibilitySchedule):  # two times a day: the spec's own trigger and words
                jitterless = copy.copy(spec.trigger)
                jitterless.jitter = None
                next_run = jitterless.get_next_fire_time(None, now)
                rows.append(ScheduledJob(spec.job_id, JOB_WORDS[job], spec.schedule, portals, next_run, True))
                continue
            words = trigger_in_words(when.cron, when.interval_minutes)
            rows.append(ScheduledJob(spec.job_id, JOB_WORDS[job], words, portals, _next_run(when, settings, now), True))
    return rows


def account_rows(settings: Settings, stored: list[PortalAccount], now: datetime) -> list[AccountRow]:
    """Each configured portal account's health, as the worker last recorded it. No secret is read here."""
    by_portal = {account.portal: account for account in stored}
    rows = []
    for name, portal in settings.portals.items():
        account = by_portal.get(name)
        paused = account.unavailable_until if account and account.unavailable_until else None
        paused = paused if paused and aware(paused) > now else None
        needs = account is not None and account.state == "needs_attention"
        if not portal.enabled:
            state = "switched off in the config"
        elif needs:
            state = "needs new credentials"
        elif paused:
            state = "paused (portal unavailable)"
        elif account is None or account.last_success_at is None:
            state = "not checked yet"
        else:
            state = "working"
        rows.append(
            AccountRow(
                name,
                portal.adapter,
                portal.enabled,
                state,
                needs,
                paused,
                account.last_success_at if account else None,
                account.consecutive_failures if account else 0,
            )
        )
    return rows


def masked_notification_url(url: str) -> str:
    """Where an Apprise URL sends, as Apprise shows it privately (passwords, tokens and keys starred)."""
    from apprise import Apprise

    service = Apprise.instantiate(url)
    if service is None:
        return MASK
    masked = str(service.url(privacy=True))  # type: ignore[no-untyped-call]  # apprise leaves url() unannotated
    # The query is Apprise's own defaults (retry, overflow...) plus any secret arguments: the address is enough.
    shown = masked.split("?", 1)[0]
    # Belt and braces: any piece of the URL Apprise did not repeat in its private form is not shown either.
    hidden = {part for part in re.split(r"[:/@?&=#,]+", url) if len(part) >= 3 and part not in masked}
    for part in sorted(hidden, key=len, reverse=True):
        shown = shown.replace(part, MASK)
    return shown


def masked_database_url(url: str) -> str:
    if not url:
        return "(SQLite file in the data directory)"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return MASK


def settings_view(settings: Settings) -> dict[str, Any]:
    """The loaded config as nested sections for a read-only page; secrets masked, defaults included."""
    data = settings.model_dump(mode="json")
    data["database"]["url"] = masked_database_url(settings.database.url)
    for name, channel in settings.alerts.channels.items():
        data["alerts"]["channels"][name]["urls"] = [masked_notification_url(str(url)) for url in channel.urls]
    data["schedule"] = {
        job: {**table, "in words": trigger_in_words(table.get("cron"), table.get("interval_minutes"))}
        for job, table in data["schedule"].items()
        if job in DEFAULT_CRON
    }
    eligibility = settings.schedule.eligibility  # two times of day, not a cron of its own
    shown = eligibility.model_dump(mode="json", exclude={"cron", "interval_minutes", "portals"})
    data["schedule"]["eligibility"] = {**shown, "in words": eligibility_words(eligibility)}
    return data
