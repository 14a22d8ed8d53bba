"""APScheduler jobs from config. A job only enqueues tasks (no browser here): runners do the work.

Jobs live in an in-memory job store rebuilt from the config at every start (never a shared or
pickled job store: docs/architecture.md, "Decisions and their reasons"). Catching up after
downtime is one run per job whose scheduled time passed while the worker was down, not one
per missed time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from flows.cadence import Due
from store import feed, health, tasks
from store.db import session_scope
from store.evidence import purge_evidence_before
from worker.clock import utcnow
from worker.runtime.evidence import is_record
from worker.runtime.jobs import JobSpec, missed_while_down
from worker.runtime.planning import JOB_KINDS, Planner
from worker.settings import Settings

log = structlog.get_logger(__name__)

FINISHED_TASKS_KEPT = timedelta(days=30)
DELIVERY_RETRY_MINUTES = 15


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
                count = (
                    self.purge()
                    if spec.job == "purge"
                    else self.digest()
                    if spec.job == "digest"
                    else self.enqueue(spec.job, spec.portals)
                )
            except Exception as exc:
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
        kept, kept_events = self.settings.evidence, self.settings.feed.keep_days
        cutoff = now - timedelta(days=kept.retention_days)
        with session_scope(self.engine) as session:
            expired = purge_evidence_before(
                session, cutoff, now - timedelta(days=kept.records_days), lambda e: is_record(e.html_path)
            )
            tasks.delete_finished_before(session, now - FINISHED_TASKS_KEPT)
            events = feed.purge_delivered(session, list(self.settings.feed.channels), now - timedelta(days=kept_events))
        for evidence in expired:
            files = (
                evidence.html_path,
                evidence.screenshot_path,
                evidence.trace_path,
                evidence.pdf_path,
                evidence.archive_path,
            )
            for path in files:
                if path:
                    Path(path).unlink(missing_ok=True)
            if evidence.html_path:  # a confirmation's PDF, beside its HTML (runtime/evidence.save_confirmation)
                Path(evidence.html_path).with_suffix(".pdf").unlink(missing_ok=True)
        log.info("evidence_purged", files=len(expired), older_than=cutoff.date().isoformat(), feed_events=events)
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
            except Exception:
                log.exception("delivery_step_failed", step=step.__name__)


def build_scheduler(
    settings: Settings, specs: list[JobSpec], enqueuer: Enqueuer, last_started: dict[str, datetime | None]
) -> BackgroundScheduler:
    """A scheduler with one job per spec; a job missed while the worker was down runs once, now."""
    scheduler = BackgroundScheduler(
        timezone=settings.worker.tzinfo, executors={"default": {"type": "threadpool", "max_workers": 2}}
    )
    now = utcnow()
    for spec in specs:
        catch_up = missed_while_down(spec, last_started.get(spec.job_id), now)
        scheduler.add_job(
            enqueuer.run_job,
            trigger=spec.trigger,
            args=[spec],
            id=spec.job_id,
            name=spec.job_id,
            misfire_grace_time=spec.misfire_grace_s,
            coalesce=True,
            max_instances=1,
            **({"next_run_time": now} if catch_up else {}),
        )
        if catch_up:
            log.info("job_catch_up", job=spec.job_id)
    if settings.alerts.channels:
        scheduler.add_job(
            enqueuer.between_summaries,
            IntervalTrigger(minutes=DELIVERY_RETRY_MINUTES),
            id="between-summaries",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
        )
    return scheduler
