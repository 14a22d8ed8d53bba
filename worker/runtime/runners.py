"""Runner threads: lease a batch of one portal account's tasks, work it in one browser session.

Each runner owns one sync Playwright and one browser (PITFALLS #1), recycled after N tasks
or past a memory limit. Errors map to four outcomes (LESSONS #10): the portal changed
(pause that flow there, alert), transient (retry with backoff, then park), the account
needs a person (stop using it), the portal is down (circuit breaker pauses the portal).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.exc import OperationalError

from flows.claim_listing import ClaimListing
from flows.task_work import TaskKind, work_task
from portals.base import PortalAdapter
from portals.errors import LayoutChanged, PortalError, PortalUnavailable, RateLimited
from portals.registry import ADAPTERS
from store import accounts, health, tasks
from store.db import session_scope
from store.tasks import Lease, LeasedTask
from worker.runtime.browser import account_context
from worker.runtime.browser_slot import BrowserSlot, RecyclePolicy
from worker.runtime.evidence import FailureTrace
from worker.runtime.fence import LeaseFence, LeaseLost
from worker.security.redaction import register_credentials
from worker.clock import utcnow
from worker.runtime.check import NEEDS_A_PERSON
from worker.runtime.context import WorkerContext

log = structlog.get_logger(__name__)


def error_text(exc: BaseException) -> str:
    if isinstance(exc, PortalError):
        return f"{type(exc).__name__}: {exc.message}"
    # Browser errors can echo what was typed: their details go to the scrubbed log only.
    return f"{type(exc).__name__}: unexpected browser error (details in the log)"


@dataclass
class Batch:
    lease: Lease
    remaining: list[LeasedTask]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    lost: bool = False  # another runner took the lease over: its tasks are not ours to release


class Runner:
    """One thread, one browser, one portal account at a time."""

    def __init__(self, name: str, ctx: WorkerContext) -> None:
        self.name, self.ctx = name, ctx
        self.owner = f"{ctx.worker_id}/{name}"
        run = ctx.settings.run
        self.slot = BrowserSlot(ctx.chromium, data_dir=ctx.data_dir, runner=f"{ctx.worker_id}/{name}",
                                policy=RecyclePolicy(run.browser_recycle_tasks, run.browser_max_rss_mb),
                                headless=ctx.settings.browser.headless,
                                extra_args=tuple(ctx.settings.browser.extra_args))
        self.state = "starting"
        self.task_started: float | None = None  # monotonic start of the task in hand (the watchdog reads it)
        self.tasks_done = 0
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    # --- the loop ----------------------------------------------------------

    def _run(self) -> None:
        structlog.contextvars.bind_contextvars(runner=self.name, worker=self.ctx.worker_id)
        try:
            while not self.ctx.stop.is_set():
                lease = self._lease()
                if lease is None:
                    self.state = "idle"
                    self.ctx.stop.wait(self.ctx.settings.run.poll_seconds)
                    continue
                self._work(Batch(lease, list(lease.tasks)))
                self.slot.recycle_if_due()
        except Exception:  # noqa: BLE001  (the pool restarts a dead runner; its leases go back first)
            log.exception("runner_crashed")
        finally:
            self.state = "stopped"
            with session_scope(self.ctx.engine) as session:
                released = tasks.release_owner(session, self.owner)
            self.slot.close()
            log.info("runner_stopped", released=released, tasks_done=self.tasks_done)

    def _lease(self) -> Lease | None:
        now = utcnow()
        blocked = self.ctx.blocked_portals(now)
        run = self.ctx.settings.run
        try:
            with session_scope(self.ctx.engine) as session:
                paused = {(p.portal, p.kind) for p in health.active_pauses(session, now)}
                return tasks.lease_batch(session, owner=self.owner, now=now,
                                         lease_for=timedelta(seconds=run.lease_seconds), limit=run.batch_size,
                                         skip_portals=blocked, skip_kinds=paused)
        except OperationalError as exc:  # e.g. PostgreSQL ended a deadlock between two leasers: next poll
            log.warning("lease_failed", detail=str(exc.orig))
            return None

    def _work(self, batch: Batch) -> None:
        portal = batch.lease.portal
        self.state = f"working {portal}"
        structlog.contextvars.bind_contextvars(portal=portal, run_id=batch.run_id)
        try:
            stored = self.ctx.usable_credentials(portal)
            if stored is None:
                return  # the gate closed since the lease was taken: the finally hands the tasks back
            register_credentials(stored.credentials)
            settings = self.ctx.settings.portals[portal]
            with account_context(self.slot.browser(), self.ctx.state_file(portal)) as context:
                # The session on the account lives from here to the context's close (`batch_finished`).
                log.info("batch_started", tasks=len(batch.remaining))
                fence = LeaseFence(self.ctx.engine, batch.lease,
                                   lease_for=timedelta(seconds=self.ctx.settings.run.lease_seconds))
                fence.guard(context)
                adapter = ADAPTERS[settings.adapter](context.new_page(), portal=portal, base_url=settings.base_url,
                                                     credentials=stored.credentials,
                                                     timeouts=self.ctx.timeouts(portal))
                adapter.before_fetch = fence.ensure_held  # downloads outside the page, which routes miss
                self._work_tasks(adapter, batch, fence)
            log.info("batch_finished", left=len(batch.remaining))
        except LeaseLost:
            # Stop at once, record nothing; the new holder's sign-in ended this session, so its saved state goes.
            batch.lost = True
            self.ctx.state_file(portal).unlink(missing_ok=True)
            log.warning("batch_finished", left=len(batch.remaining), lease_lost=True)
        except Exception:  # noqa: BLE001  (a browser that died under us: tasks go back, the slot relaunches)
            log.exception("batch_aborted")
            self.slot.close()
            self.ctx.stop.wait(self.ctx.settings.run.poll_seconds)  # a browser that cannot start: no tight loop
        finally:
            with session_scope(self.ctx.engine) as session:
                if batch.remaining and not batch.lost:
                    tasks.release(session, [task.id for task in batch.remaining], owner=self.owner,
                                  generation=batch.lease.generation)
                tasks.release_account(session, portal, owner=self.owner, generation=batch.lease.generation)
            structlog.contextvars.unbind_contextvars("portal", "run_id")

    def _work_tasks(self, adapter: PortalAdapter, batch: Batch, fence: LeaseFence) -> None:
        payer_ids = set(self.ctx.settings.portals[batch.lease.portal].payers)
        logged_in = False
        # A traced task (evidence.trace) is traced from after the login to its end; kept only if it fails.
        # A re-login mid-task (session expired) first ends the trace: a login types the password.
        trace = FailureTrace(adapter.page.context)
        adapter.on_login = trace.discard
        listing = ClaimListing(adapter, self.ctx.engine,
                               [t.target for t in batch.remaining if t.kind == TaskKind.CLAIM_STATUS])
        while batch.remaining and not self.ctx.stop.is_set():
            task = batch.remaining[0]
            if not self._renew(batch):
                raise LeaseLost(batch.lease)
            self._pace(batch.lease.portal)
            self.state = f"{batch.lease.portal}: {task.kind} {task.target}"
            self.task_started = time.monotonic()
            log.info("task_started", task=task.id, kind=task.kind, attempt=task.attempts)
            try:
                if not logged_in:
                    adapter.ensure_logged_in()
                    logged_in = True
                if self._traced(task):
                    trace.start()
                with structlog.contextvars.bound_contextvars(task=task.id, kind=task.kind):
                    outcome = work_task(adapter, TaskKind(task.kind), task.target, self.ctx.engine,
                                        run_id=batch.run_id, now=self.ctx.clock, payer_ids=payer_ids,
                                        listing=listing)
            except Exception as exc:  # noqa: BLE001  (classified below)
                batch.remaining.pop(0)
                fence.ensure_held()  # a request the fence refused is no failure of the task's
                if not self._failed(adapter, batch, task, exc, trace):
                    return
                continue
            finally:
                trace.discard()  # unless a failure just saved it with the evidence
                self.task_started = None
                self.slot.task_done()
            batch.remaining.pop(0)
            self.tasks_done += 1
            with session_scope(self.ctx.engine) as session:
                if not tasks.complete(session, task.id, owner=self.owner, now=utcnow(), outcome=outcome,
                                      generation=batch.lease.generation):
                    log.warning("lease_lost_before_complete", task=task.id)
                    raise LeaseLost(batch.lease)
                accounts.mark_success(session, batch.lease.portal, utcnow())
            log.info("task_done", task=task.id, kind=task.kind, outcome=outcome)

    def _traced(self, task: LeasedTask) -> bool:
        when = self.ctx.settings.evidence.trace
        return when == "always" or (when == "retries" and task.attempts > 1)

    def _renew(self, batch: Batch) -> bool:
        with session_scope(self.ctx.engine) as session:
            batch.lost = not tasks.renew(session, batch.lease, now=utcnow(),
                                         lease_for=timedelta(seconds=self.ctx.settings.run.lease_seconds))
        if batch.lost:
            log.warning("lease_lost", portal=batch.lease.portal)
        return not batch.lost

    def _pace(self, portal: str) -> None:
        """Politeness: at least the portal's pace between two tasks on it, across every runner and host."""
        interval = self.ctx.settings.portals[portal].pace_seconds
        with session_scope(self.ctx.engine) as session:
            last = tasks.last_request(session, portal)
        if last is not None and interval > 0:
            wait = (last + timedelta(seconds=interval) - utcnow()).total_seconds()
            if wait > 0:
                self.ctx.stop.wait(wait)
        with session_scope(self.ctx.engine) as session:
            tasks.note_request(session, portal, utcnow())

    # --- what a failure means ------------------------------------------------

    def _failed(self, adapter: PortalAdapter, batch: Batch, task: LeasedTask, exc: Exception,
                trace: FailureTrace) -> bool:
        """Record what the failure means; returns whether the batch goes on."""
        portal, message, now = batch.lease.portal, error_text(exc), utcnow()
        if isinstance(exc, NEEDS_A_PERSON):
            evidence = self.ctx.save_evidence(adapter, None, message)
            with session_scope(self.ctx.engine) as session:
                accounts.mark_needs_attention(session, portal, message, now)
                tasks.release(session, [task.id], owner=self.owner)
            self.ctx.state_file(portal).unlink(missing_ok=True)
            self.ctx.forget_credentials(portal)
            log.error("account_needs_attention", error=type(exc).__name__, detail=message, evidence=evidence)
            return False
        if isinstance(exc, LayoutChanged):
            return self._layout_changed(adapter, batch, task, exc, message, trace)
        if isinstance(exc, PortalUnavailable):
            return self._portal_unavailable(batch, task, exc, message)
        browser_alive = self.slot.connected()
        evidence = self.ctx.save_evidence(adapter, _claim_of(task), message, trace) if browser_alive else None
        self._retry_or_park(task, message, evidence)
        log.error("task_failed", task=task.id, kind=task.kind, error=type(exc).__name__, detail=message,
                  attempts=task.attempts, exc_info=exc if not isinstance(exc, (PortalError, PlaywrightError)) else None)
        return browser_alive

    def _layout_changed(self, adapter: PortalAdapter, batch: Batch, task: LeasedTask, exc: LayoutChanged,
                        message: str, trace: FailureTrace) -> bool:
        portal, now = batch.lease.portal, utcnow()
        evidence = self.ctx.save_evidence(adapter, _claim_of(task), message, trace)
        until = now + timedelta(hours=self.ctx.settings.run.layout_recheck_hours)
        same_kind = [t for t in batch.remaining if t.kind == task.kind]
        batch.remaining = [t for t in batch.remaining if t.kind != task.kind]
        with session_scope(self.ctx.engine) as session:
            health.pause_flow(session, portal=portal, kind=task.kind, reason=message, evidence=evidence, now=now,
                              until=until)
            tasks.release(session, [task.id] + [t.id for t in same_kind], owner=self.owner)
            accounts.note_error(session, portal, message)
        self.ctx.layout_changed(portal, task.kind, message, evidence)
        log.error("layout_changed", kind=task.kind, target_task=task.id, detail=message, evidence=evidence,
                  paused_until=until.isoformat())
        return True

    def _portal_unavailable(self, batch: Batch, task: LeasedTask, exc: PortalUnavailable, message: str) -> bool:
        portal, now, run = batch.lease.portal, utcnow(), self.ctx.settings.run
        with session_scope(self.ctx.engine) as session:
            failures = accounts.note_failure(session, portal, message)
        self._retry_or_park(task, message, None)
        if not (isinstance(exc, RateLimited) or exc.retry_after or failures >= run.breaker_failures):
            log.warning("portal_error", error=type(exc).__name__, detail=message, failures=failures)
            return True
        check = self.ctx.settings.check
        trips = max(failures - run.breaker_failures, 0)
        minutes = min(check.backoff_minutes * 2 ** trips, check.max_backoff_minutes)
        until = max(exc.retry_after or now, now + timedelta(minutes=minutes))
        with session_scope(self.ctx.engine) as session:
            accounts.pause(session, portal, until)
        log.warning("portal_paused", error=type(exc).__name__, detail=message, failures=failures,
                    until=until.isoformat())
        return False

    def _retry_or_park(self, task: LeasedTask, message: str, evidence: str | None) -> None:
        run, now = self.ctx.settings.run, utcnow()
        with session_scope(self.ctx.engine) as session:
            if task.attempts >= run.max_attempts:
                tasks.park(session, task.id, owner=self.owner, now=now, error=message, evidence=evidence)
                log.error("task_parked", task=task.id, kind=task.kind, attempts=task.attempts, detail=message)
                return
            delay = min(run.retry_base_seconds * 2 ** (task.attempts - 1), run.retry_max_seconds)
            delay *= random.uniform(0.8, 1.2)  # noqa: S311  (jitter, not cryptography)
            tasks.retry_later(session, task.id, owner=self.owner, now=now,
                              not_before=now + timedelta(seconds=delay), error=message, evidence=evidence)


def _claim_of(task: LeasedTask) -> str | None:
    return task.target if task.kind == TaskKind.CLAIM_STATUS else None

