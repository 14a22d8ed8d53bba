"""The jobs the config schedules, each with its trigger: what `run` schedules, and what `status`,
`schedule` and the health check read (next runs, how often each job should succeed)."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from flows.task_work import portal_does
from portals.registry import adapter_capabilities
from worker.clock import aware
from worker.runtime.planning import JOB_KINDS
from worker.settings import WORKER_JOBS, EligibilitySchedule, Settings, TriggerSettings, cron_fields

JOBS = (*JOB_KINDS, *WORKER_JOBS)  # WORKER_JOBS: purge, digest (once for the whole worker)


@dataclass(frozen=True)
class JobSpec:
    job_id: str  # "claims", or "claims:lakeshore" for a portal with its own schedule
    job: str
    portals: tuple[str, ...]
    trigger: BaseTrigger
    misfire_grace_s: int
    schedule: str  # the config's words, for `schedule` and `status`


def make_trigger(when: TriggerSettings, jitter_s: int, settings: Settings) -> tuple[BaseTrigger, str]:
    tz = settings.worker.tzinfo
    if isinstance(when, EligibilitySchedule):
        checks = [CronTrigger(**cron_fields(cron), timezone=tz) for cron in when.crons()]
        return OrTrigger(checks, jitter=jitter_s or None), eligibility_words(when)
    if when.cron:
        return CronTrigger(**cron_fields(when.cron), timezone=tz, jitter=jitter_s or None), f"cron {when.cron}"
    assert when.interval_minutes is not None
    return (
        IntervalTrigger(minutes=when.interval_minutes, timezone=tz, jitter=jitter_s or None),
        f"every {when.interval_minutes:g} min",
    )


def eligibility_words(when: EligibilitySchedule) -> str:
    return f"{when.same_day} that day's visits, {when.day_before} the next business day's ({when.days})"


def job_specs(settings: Settings) -> list[JobSpec]:
    specs = []
    enabled = [name for name, portal in settings.portals.items() if portal.enabled]
    for job in JOBS:
        schedule = getattr(settings.schedule, job)
        if not schedule.enabled:
            continue
        grace = schedule.misfire_grace_minutes * 60
        kind = JOB_KINDS.get(job)
        able = [
            p for p in enabled if kind is None or portal_does(adapter_capabilities(settings.portals[p].adapter), kind)
        ]
        own = {p: when for p, when in schedule.portals.items() if p in able}
        shared = tuple(p for p in able if p not in own)
        if shared or job in WORKER_JOBS:
            trigger, words = make_trigger(schedule, schedule.jitter_seconds, settings)
            specs.append(JobSpec(job, job, shared, trigger, grace, words))
        for portal, when in own.items():
            trigger, words = make_trigger(when, schedule.jitter_seconds, settings)
            specs.append(JobSpec(f"{job}:{portal}", job, (portal,), trigger, grace, words))
    return specs


def next_fire(spec: JobSpec, after: datetime) -> datetime | None:
    upcoming: datetime | None = spec.trigger.get_next_fire_time(None, after)
    return upcoming


def missed_while_down(spec: JobSpec, last_started: datetime | None, now: datetime) -> bool:
    """A run was due between the last start and now (or the job never ran): catch up once."""
    if last_started is None:
        return True
    due = spec.trigger.get_next_fire_time(None, aware(last_started))
    return due is not None and due <= now


def expected_intervals(settings: Settings, now: datetime) -> dict[str, timedelta]:
    """How often each enabled job should succeed: the longest gap between its runs over the next two weeks
    (a weekday job's weekend gap included), by job id."""
    intervals = {}
    for spec in job_specs(settings):
        if isinstance(spec.trigger, IntervalTrigger):
            intervals[spec.job_id] = spec.trigger.interval
            continue
        trigger = copy.copy(spec.trigger)
        trigger.jitter = None  # the schedule's own rhythm, not this run's random delay
        fires = _fires_between(trigger, now, now + timedelta(days=15))  # two fires of a weekly job
        gaps = [later - earlier for earlier, later in itertools.pairwise(fires)]
        if gaps:
            intervals[spec.job_id] = max(gaps)
    return intervals


def _fires_between(trigger: BaseTrigger, start: datetime, end: datetime) -> list[datetime]:
    fires: list[datetime] = []
    upcoming = trigger.get_next_fire_time(None, start)
    while upcoming is not None and upcoming <= end:
        fires.append(upcoming)
        upcoming = trigger.get_next_fire_time(upcoming, upcoming + timedelta(seconds=1))
    return fires
