"""`portal-worker run`: the scheduler, N runner threads, a heartbeat and a watchdog, until told to stop.

Every worker process runs runners; only the one holding the database's scheduler lock
(store.scheduler_lock) runs the scheduler. The others ask for the lock at every heartbeat,
so when its holder dies another takes the role over and catches up on the jobs it missed.

Stopping (SIGTERM/SIGINT, or `request_stop()`): the scheduler stops enqueueing, each runner
finishes the page in hand, hands its unstarted tasks back and closes its browser. A runner
that does not finish within `run.stop_timeout_seconds` has its Chromium killed, so `run`
always ends within a bounded time and leaves no browser behind.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from store import health, tasks
from store.db import create_schema, make_engine, session_scope
from store.scheduler_lock import SchedulerLock, scheduler_lock
from worker.clock import utcnow
from worker.runtime.browser import find_chromium
from worker.runtime.check_runs import mark_interrupted_checks
from worker.runtime.context import WorkerContext
from worker.runtime.evidence import sweep_expired
from worker.runtime.heartbeat import ROLE, RUNNERS_ONLY, SCHEDULER
from worker.runtime.jobs import JobSpec, job_specs
from worker.runtime.processes import reap_orphans
from worker.runtime.runners import Runner, watch_deadlines
from worker.runtime.scheduler import Enqueuer, build_scheduler
from worker.security.credentials import CredentialStore, open_store
from worker.settings import Settings

if TYPE_CHECKING:
    from worker.feed.service import FeedThread

log = structlog.get_logger(__name__)

FORCED_STOP_GRACE_S = 10  # after killing a stuck runner's browser, how long its thread gets to notice
EVIDENCE_SWEEP_EVERY_S = 3600


class Worker:
    def __init__(
        self,
        settings: Settings,
        *,
        credentials: CredentialStore | None = None,
        engine: Engine | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url())
        # Fails here, at start-up, with what to install or set, when no safe keyring is usable.
        self.credentials = credentials or open_store(settings.worker.data_dir)
        self.clock = clock
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.started_at = utcnow()
        self.ctx: WorkerContext | None = None
        self.runners: list[Runner] = []
        self._stop_requested = False
        self._next_sweep = 0.0  # monotonic time of the next evidence sweep

    def request_stop(self) -> None:
        """Safe from a signal handler: only sets flags."""
        self._stop_requested = True
        if self.ctx is not None:
            self.ctx.stop.set()

    def run(self) -> int:
        """Work until stopped; returns the process exit code (0: every runner stopped cleanly)."""
        settings, run = self.settings, self.settings.run
        structlog.contextvars.bind_contextvars(worker=self.worker_id)
        reap_orphans(settings.worker.data_dir)
        create_schema(self.engine)
        mark_interrupted_checks(self.engine)  # checks killed on this host before this worker started
        self.ctx = ctx = WorkerContext(
            settings,
            self.engine,
            self.credentials,
            clock=self.clock,
            chromium=find_chromium(settings.browser.executable_path or None),
            worker_id=self.worker_id,
        )
        ctx.record_credentials()
        if self._stop_requested:
            ctx.stop.set()
        specs = job_specs(settings)
        enqueuer = Enqueuer(settings, self.engine, self.clock)
        self.runners = [Runner(f"runner-{n}", ctx) for n in range(1, run.runners + 1)]
        log.info(
            "worker_started", runners=run.runners, jobs=[spec.job_id for spec in specs], chromium=ctx.chromium.source
        )
        for runner in self.runners:
            runner.start()
        feed = self._start_feed(ctx.stop)
        role = scheduler_lock(self.engine)
        scheduler: BackgroundScheduler | None = None
        try:
            while not ctx.stop.is_set():
                scheduler = self._schedule_if_elected(role, scheduler, specs, enqueuer)
                self._beat(scheduling=scheduler is not None)
                self._watch()
                ctx.sync_layout_findings()
                self._sweep_evidence()
                ctx.stop.wait(run.heartbeat_seconds)
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            role.release()
            ctx.stop.set()
            clean = self._stop_runners()
            self.ctx.browser_host.close()
            if feed is not None:
                feed.join(self.settings.run.stop_timeout_seconds)
            with session_scope(self.engine) as session:
                health.mark_stopped(session, self.worker_id, utcnow())
            log.info("worker_stopped", clean=clean)
        return 0 if clean else 1

    def _start_feed(self, stop: threading.Event) -> FeedThread | None:
        """The feed's thread, when the config has channels (docs/feed.md)."""
        if not self.settings.feed.channels:
            return None
        from worker.feed.service import FeedThread

        thread = FeedThread(self.settings, self.engine, self.worker_id, stop)
        thread.start()
        return thread

    def _schedule_if_elected(
        self, role: SchedulerLock, scheduler: BackgroundScheduler | None, specs: list[JobSpec], enqueuer: Enqueuer
    ) -> BackgroundScheduler | None:
        """The running scheduler while this process holds the role; one started when it just got it."""
        if scheduler is not None:
            if role.still_held():
                return scheduler
            log.error("scheduler_role_lost")
            scheduler.shutdown(wait=False)
            return None
        if not role.try_acquire():
            return None
        with session_scope(self.engine) as session:
            last_started = {job: run_.last_started_at for job, run_ in health.job_runs(session).items()}
        scheduler = build_scheduler(self.settings, specs, enqueuer, last_started)
        scheduler.start()
        log.info("scheduler_role_taken")
        return scheduler

    def _beat(self, *, scheduling: bool) -> None:
        detail = {ROLE: SCHEDULER if scheduling else RUNNERS_ONLY}
        detail.update({runner.name: runner.state for runner in self.runners})
        with session_scope(self.engine) as session:
            health.beat(
                session,
                worker_id=self.worker_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                started_at=self.started_at,
                now=utcnow(),
                runners=len(self.runners),
                detail=detail,
            )

    def _sweep_evidence(self) -> None:
        """This host's expired evidence files, at start and then hourly (see evidence.sweep_expired)."""
        if not self.settings.schedule.purge.enabled or time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + EVIDENCE_SWEEP_EVERY_S
        now, kept = utcnow(), self.settings.evidence
        try:
            sweep_expired(
                self.settings.worker.data_dir,
                now - timedelta(days=kept.retention_days),
                now - timedelta(days=kept.records_days),
            )
        except OSError:  # logged; the next sweep tries again
            log.exception("evidence_sweep_failed")

    def _watch(self) -> None:
        """A task past its deadline gets its browser killed; a runner that died is replaced."""
        assert self.ctx is not None
        watch_deadlines(self.runners, self.settings.run.task_deadline_seconds)
        for index, runner in enumerate(self.runners):
            if not runner.thread.is_alive() and not self.ctx.stop.is_set():
                log.warning("runner_restarted", runner=runner.name)
                self.runners[index] = replacement = Runner(runner.name, self.ctx)
                replacement.start()

    def _stop_runners(self) -> bool:
        deadline = time.monotonic() + self.settings.run.stop_timeout_seconds
        while (left := deadline - time.monotonic()) > 0 and (busy := [r for r in self.runners if r.thread.is_alive()]):
            # A task past its deadline is still cut off while the worker stops: a hung page would else hold the
            # stop until its timeout and end it as stuck.
            watch_deadlines(self.runners, self.settings.run.task_deadline_seconds)
            busy[0].thread.join(min(left, 1.0))
        stuck = [runner for runner in self.runners if runner.thread.is_alive()]
        for runner in stuck:
            log.error("runner_stuck_at_stop", runner=runner.name, state=runner.state)
            runner.slot.kill()
            runner.thread.join(FORCED_STOP_GRACE_S)
        with session_scope(self.engine) as session:
            for runner in self.runners:
                tasks.release_owner(session, runner.owner)
        return not stuck
