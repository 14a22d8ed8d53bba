"""APScheduler jobs from config. A job only enqueues tasks (no browser here): runners do the work.

Jobs live in an in-memory job store rebuilt from the config at every start (PITFALLS #7:
never a shared or pickled job store). Catching up after downtime is one run per job whose
scheduled time passed while the worker was down, not one per missed time.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from flows.cadence import Due
from flows.task_work import portal_does
from portals.registry import adapter_class
from store import health, tasks
from store.db import session_scope
from store.evidence import purge_evidence_before
from worker.clock import aware, utcnow
from worker.runtime.planning import JOB_KINDS, Planner
from worker.settings import WORKER_JOBS, Settings, TriggerSettings, cron_fields

log = structlog.get_logger(__name__)

JOBS = (*JOB_KINDS, *WORKER_JOBS)  # WORKER_JOBS: purge, digest (once for the whole worker)
FINISHED_TASKS_KEPT = timedelta(days=30)
DELIVERY_RETRY_MINUTES = 15


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
    if when.cron:
        return CronTrigger(**cron_fields(when.cron), timezone=tz, jitter=jitter_s or None), f"cron {when.cron}"
    assert when.interval_minutes is not None
    return (IntervalTrigger(minutes=when.interval_minutes, timezone=tz, jitter=jitter_s or None),
            f"every {when.interval_minutes:g} min")


def job_specs(settings: Settings) -> list[JobSpec]:
    specs = []
    enabled = [name for name, portal in settings.portals.items() if portal.enabled]
    for job in JOBS:
        schedule = getattr(settings.schedule, job)
        if not schedule.enabled:
            continue
        grace = schedule.misfire_grace_minutes * 60
        kind = JOB_KINDS.get(job)
        able = [p for p in enabled if kind is None or portal_does(adapter_class(settings.portals[p].adapter), kind)]
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
    return spec.trigger.get_next_fire_time(None, after)


def missed_while_down(spec: JobSpec, last_started: datetime | None, now: datetime) -> bool:
    """A run was due between the last start and now (or the job never ran): catch up once."""
    if last_started is None:
        return True
    due = spec.trigger.get_next_fire_time(None, aware(last_started))
    return due is not None and due <= now


class Enqueuer:
    """What each job does: ask the flows what is due, put it in the queue, note the job's run."""

    def __init__(self, settings: Settings, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.settings, self.engine, self.clock = settings, engine, clock
        self.planner = Planner(settings, engine, clock)

    def run_job(self, spec: JobSpec) -> int:
        with structlog.contextvars.bound_contextvars(job=spec.job_id):
            with session_scope(self.engine) as session:
                health.job_started(session, spec.job_id, utcnow())
            try:
                count = self.purge() if spec.job == "purge" else self.digest() if spec.job == "digest" \
                    else self.enqueue(spec.job, spec.portals)
            except Exception as exc:  # noqa: BLE001  (recorded for `status`; the next fire tries again)
                with session_scope(self.engine) as session:
                    health.job_failed(session, spec.job_id, utcnow(), f"{type(exc).__name__}: {exc}")
                log.exception("job_failed")
                return 0
            with session_scope(self.engine) as session:
                health.job_succeeded(session, spec.job_id, utcnow(), count)
            log.info("job_done", enqueued=count)
            return count

    def due(self, job: str) -> list[tuple[str, Due]]:
        """(portal, due target) for every enabled portal that answers for it, most urgent first."""
        return self.planner.due(JOB_KINDS[job])

    def enqueue(self, job: str, portals: tuple[str, ...]) -> int:
        """Queue what is due on `portals`; returns how many tasks were new."""
        return self.planner.enqueue(JOB_KINDS[job], portals).new

    def purge(self) -> int:
        """Evidence past its retention (files and rows), and finished tasks older than a month."""
        now = utcnow()
        cutoff = now - timedelta(days=self.settings.evidence.retention_days)
        with session_scope(self.engine) as session:
            expired = purge_evidence_before(session, cutoff)
            tasks.delete_finished_before(session, now - FINISHED_TASKS_KEPT)
        for evidence in expired:
            for path in (evidence.html_path, evidence.screenshot_path, evidence.trace_path):
                if path:
                    Path(path).unlink(missing_ok=True)
        log.info("evidence_purged", files=len(expired), older_than=cutoff.date().isoformat())
        return len(expired)

    def digest(self) -> int:
        """Refresh the alerts, then send each channel's daily summary (failures are recorded and retried)."""
        from worker.delivery.notify import send_digests

        outcomes = send_digests(self.settings, self.engine, self.clock())
        return sum(outcome.state == "sent" for outcome in outcomes)

    def between_summaries(self) -> None:
        """Every few minutes: a failed summary or notice is tried again, and urgent alerts go out."""
        from worker.delivery.notify import retry_failed_deliveries
        from worker.delivery.urgent import send_urgent

        for step in (retry_failed_deliveries, send_urgent):
            try:
                step(self.settings, self.engine, self.clock())
            except Exception:  # noqa: BLE001  (logged; the next interval tries again)
                log.exception("delivery_step_failed", step=step.__name__)


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
        gaps = [later - earlier for earlier, later in zip(fires, fires[1:])]
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


def build_scheduler(settings: Settings, specs: list[JobSpec], enqueuer: Enqueuer,
                    last_started: dict[str, datetime | None]) -> BackgroundScheduler:
    """A scheduler with one job per spec; a job missed while the worker was down runs once, now."""
    scheduler = BackgroundScheduler(timezone=settings.worker.tzinfo,
                                    executors={"default": {"type": "threadpool", "max_workers": 2}})
    now = utcnow()
    for spec in specs:
        catch_up = missed_while_down(spec, last_started.get(spec.job_id), now)
        scheduler.add_job(enqueuer.run_job, trigger=spec.trigger, args=[spec], id=spec.job_id, name=spec.job_id,
                          misfire_grace_time=spec.misfire_grace_s, coalesce=True, max_instances=1,
                          **({"next_run_time": now} if catch_up else {}))
        if catch_up:
            log.info("job_catch_up", job=spec.job_id)
    if settings.alerts.channels:
        scheduler.add_job(enqueuer.between_summaries, IntervalTrigger(minutes=DELIVERY_RETRY_MINUTES),
                          id="between-summaries", coalesce=True, max_instances=1, misfire_grace_time=300)
    return scheduler
