"""Runners: lease a batch of one portal account's tasks, work it in one browser session, apply the failure policy.

`run` starts runners as threads that work until the worker stops; `check` drains what it
planned with the same runners (threads, or one in the caller's thread with the caller's
browser) until nothing it planned can be worked now. The runners of a process share one
browser (browser_host.py), each batch in a context of its own; the browser is recycled after N
tasks or past a memory limit. What a failure means is decided in failures.py.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Protocol

import structlog
from playwright.sync_api import Browser
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.exc import OperationalError

from flows.claim_listing import ClaimListing
from flows.findings import FindingChanges
from flows.plausibility import MissingClaims, TooManyMissing
from flows.task_work import TaskKind, TaskResult, settle_missing, work_task
from portals.base import PortalAdapter
from portals.errors import PortalError, PortalUnavailable, RateLimited
from portals.registry import adapter_class
from store import accounts, health, tasks
from store.db import session_scope
from store.observations import mark_checked
from store.tasks import Lease, LeasedTask
from worker.clock import utcnow
from worker.runtime import failures
from worker.runtime.browser_slot import BrowserLost, BrowserSlot, CallerSlot, HostedSlot
from worker.runtime.context import WorkerContext
from worker.runtime.evidence import FailureTrace
from worker.runtime.failures import Failure, Outcome, TaskDeadlinePassed
from worker.runtime.fence import RECHECK_S, LeaseFence, LeaseLost
from worker.security.redaction import register_credentials

log = structlog.get_logger(__name__)

# Kinds of work whose results feed the authorization and enrollment findings.
PROGRAM_KINDS = frozenset({TaskKind.AUTHORIZATION, TaskKind.ENROLLMENT, TaskKind.ELIGIBILITY})


class RunnerEvents(Protocol):
    """What a runner reports as it goes (`check` turns it into its progress bar and report)."""

    def task_done(self, task: LeasedTask, result: TaskResult) -> None: ...
    def task_failed(self, task: LeasedTask, failure: Failure) -> None: ...
    def batch_done(self, portal: str, logins: int, seconds: float, findings: FindingChanges | None) -> None: ...
    def printing(self) -> None: ...


class NoEvents:
    def task_done(self, task: LeasedTask, result: TaskResult) -> None:
        pass

    def task_failed(self, task: LeasedTask, failure: Failure) -> None:
        pass

    def batch_done(self, portal: str, logins: int, seconds: float, findings: FindingChanges | None) -> None:
        pass

    def printing(self) -> None:
        pass


@dataclass
class Batch:
    lease: Lease
    remaining: list[LeasedTask]
    run_id: str
    lost: bool = False  # another runner took the lease over: its tasks are not ours to release
    kinds_done: set[str] = field(default_factory=set)
    # Found claims missing now: their tasks wait for the batch's end (`_settle_missing`), or go back.
    missing: MissingClaims = field(default_factory=MissingClaims)
    held: list[LeasedTask] = field(default_factory=list)
    renewed_at: float = field(default_factory=time.monotonic)  # taking the lease was its first renewal


class Runner:
    """One browser, one portal account at a time: a thread of `run`, or `check`'s drain."""

    def __init__(
        self,
        name: str,
        ctx: WorkerContext,
        *,
        events: RunnerEvents | None = None,
        only_ids: Collection[int] | None = None,
        until_idle: bool = False,
        run_id: str | None = None,
        browser: Browser | None = None,
    ) -> None:
        """`run`'s runners work until the worker stops. `check`'s work only the tasks it planned (`only_ids`)
        until none can be worked now (`until_idle`), record under its run id, and may drive the caller's
        `browser` from the caller's thread."""
        self.name, self.ctx = name, ctx
        self.owner = f"{ctx.worker_id}/{name}"
        self.events: RunnerEvents = events or NoEvents()
        self.only_ids, self.until_idle, self.run_id = only_ids, until_idle, run_id
        # the worker's one browser, a context per batch; or the browser a caller drives from its own thread
        self.slot: BrowserSlot = CallerSlot(browser) if browser is not None else HostedSlot(ctx.browser_host)
        self.state = "starting"
        self.task_started: float | None = None  # monotonic start of the task in hand (the watchdog reads it)
        self.tasks_done = 0
        self.thread = threading.Thread(target=self.work, name=name, daemon=True)

    def start(self) -> None:
        """Work in a thread of its own (`run`)."""
        self.thread.start()

    # --- the loop ----------------------------------------------------------

    def work(self) -> None:
        """Lease and work batches until the worker stops, or (`until_idle`) until nothing is leasable now."""
        structlog.contextvars.bind_contextvars(runner=self.name, worker=self.ctx.worker_id)
        try:
            while not self.ctx.stop.is_set():
                lease = self._lease()
                if lease is None:
                    if self._print_kept_pages():
                        continue  # new work comes first: look for it between every few pages printed
                    if self.until_idle:
                        return
                    self.state = "idle"
                    self.ctx.stop.wait(self.ctx.settings.run.poll_seconds)
                    continue
                with self.ctx.printer.batch_in_hand():
                    self._work(Batch(lease, list(lease.tasks), self.run_id or uuid.uuid4().hex[:12]))
                self.slot.recycle_if_due()
        except Exception:  # the pool restarts a dead runner; its leases go back first
            log.exception("runner_crashed")
        finally:
            self.state = "stopped"
            with session_scope(self.ctx.engine) as session:
                released = tasks.release_owner(session, self.owner)
            log.info("runner_stopped", released=released, tasks_done=self.tasks_done)
            structlog.contextvars.unbind_contextvars("runner", "worker")

    def _print_kept_pages(self) -> int:
        """Print a few of the pages checks kept as archives, in a context of this runner's browser."""
        self.state = "printing kept pages"
        try:
            return self.ctx.printer.print_some(lambda: self.slot.context(None), starting=self.events.printing)
        except BrowserLost:
            return 0
        except Exception:  # a browser that cannot start now: the pages wait, the checks go on
            log.exception("evidence_printing_failed")
            return 0

    def _lease(self) -> Lease | None:
        now = utcnow()
        blocked = self.ctx.blocked_portals(now)
        run = self.ctx.settings.run
        try:
            with session_scope(self.ctx.engine) as session:
                paused = {(p.portal, p.kind) for p in health.active_pauses(session, now)}
                return tasks.lease_batch(
                    session,
                    owner=self.owner,
                    now=now,
                    lease_for=timedelta(seconds=run.lease_seconds),
                    limit=run.batch_size,
                    skip_portals=blocked,
                    skip_kinds=paused,
                    only_ids=self.only_ids,
                )
        except OperationalError as exc:  # e.g. PostgreSQL ended a deadlock between two leasers: next poll
            log.warning("lease_failed", detail=str(exc.orig))
            return None

    def _work(self, batch: Batch) -> None:
        portal = batch.lease.portal
        self.state = f"working {portal}"
        structlog.contextvars.bind_contextvars(portal=portal, run_id=batch.run_id)
        logins, started = 0, time.monotonic()
        try:
            stored = self.ctx.usable_credentials(portal)
            if stored is None:
                return  # the gate closed since the lease was taken: the finally hands the tasks back
            register_credentials(stored.credentials)
            settings = self.ctx.settings.portals[portal]
            with self.slot.context(self.ctx.state_file(portal)) as context:
                # The session on the account lives from here to the context's close (`batch_finished`).
                log.info("batch_started", tasks=len(batch.remaining))
                fence = LeaseFence(
                    self.ctx.engine, batch.lease, lease_for=timedelta(seconds=self.ctx.settings.run.lease_seconds)
                )
                fence.guard(context)
                adapter = adapter_class(settings.adapter)(
                    context.new_page(),
                    portal=portal,
                    base_url=settings.base_url,
                    credentials=stored.credentials,
                    timeouts=self.ctx.timeouts(portal),
                )
                adapter.before_fetch = fence.ensure_held  # downloads outside the page, which routes miss
                try:
                    self._work_tasks(adapter, batch, fence)
                finally:
                    logins = adapter.logins
            log.info("batch_finished", left=len(batch.remaining))
        except LeaseLost:
            # Stop at once, record nothing; the new holder's sign-in ended this session, so its saved state goes.
            batch.lost = True
            self.ctx.state_file(portal).unlink(missing_ok=True)
            log.warning("batch_finished", left=len(batch.remaining), lease_lost=True)
        except BrowserLost as exc:
            log.warning("batch_aborted", detail=str(exc), left=len(batch.remaining))
        except Exception:  # a browser that died under us: tasks go back, the next batch's context relaunches it
            log.exception("batch_aborted")
            self.ctx.stop.wait(self.ctx.settings.run.poll_seconds)  # a browser that cannot start: no tight loop
        finally:
            with session_scope(self.ctx.engine) as session:
                if (batch.remaining or batch.held) and not batch.lost:
                    tasks.release(
                        session,
                        [task.id for task in batch.remaining + batch.held],
                        owner=self.owner,
                        generation=batch.lease.generation,
                    )
                tasks.release_account(session, portal, owner=self.owner, generation=batch.lease.generation)
            findings = self.ctx.sync_program_findings(batch.kinds_done) if batch.kinds_done & PROGRAM_KINDS else None
            self.events.batch_done(portal, logins, time.monotonic() - started, findings)
            structlog.contextvars.unbind_contextvars("portal", "run_id")

    def _work_tasks(self, adapter: PortalAdapter, batch: Batch, fence: LeaseFence) -> None:
        payer_ids = set(self.ctx.settings.portals[batch.lease.portal].payers)
        logged_in = False
        # A traced task (evidence.trace) is traced from after the login to its end; kept only if it fails.
        # A re-login mid-task (session expired) first ends the trace: a login types the password.
        trace = FailureTrace(adapter.page.context)
        adapter.on_login = trace.discard
        listing = ClaimListing(
            adapter,
            self.ctx.engine,
            [t.target for t in batch.remaining if t.kind == TaskKind.CLAIM_STATUS],
            self.ctx.claim_lists,
            open_unchanged=self.ctx.open_every_claim,
            look_ahead=not self.ctx.settings.portals[batch.lease.portal].pace_seconds,
        )
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
                    result = work_task(
                        adapter,
                        TaskKind(task.kind),
                        task.target,
                        self.ctx.engine,
                        run_id=batch.run_id,
                        now=self.ctx.clock,
                        payer_ids=payer_ids,
                        listing=listing,
                        missing=batch.missing,
                        tz=self.ctx.settings.worker.tzinfo,
                        keep_evidence=self.ctx.keep_evidence,
                        playbook=self.ctx.settings.playbook(),
                    )
            except Exception as exc:  # classified below
                if self.slot.taken_away():  # still in batch.remaining: handed back with the rest, unworked
                    raise BrowserLost(f"the browser went away during task {task.id}") from exc
                if self.slot.cut_off():  # whatever the browser said as its page was torn away
                    exc = TaskDeadlinePassed(batch.lease.portal, self.ctx.settings.run.task_deadline_seconds)
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
            if result.held:
                batch.held.append(task)
                continue
            self._complete(batch, task, result)
        if batch.held and not self.ctx.stop.is_set():
            self._settle_missing(adapter, batch, trace)

    def _settle_missing(self, adapter: PortalAdapter, batch: Batch, trace: FailureTrace) -> None:
        """The batch's found claims missing now: recorded as not on file if few, else refused as a layout change."""
        try:
            results = settle_missing(
                batch.lease.portal, batch.missing, self.ctx.engine, run_id=batch.run_id, now=self.ctx.clock
            )
        except TooManyMissing as exc:
            first, batch.remaining, batch.held = batch.held[0], batch.held[1:] + batch.remaining, []
            self._failed(adapter, batch, first, exc, trace)  # hands every held claim back, pauses the flow
            return
        held, batch.held = batch.held, []
        for task, result in zip(held, results, strict=True):
            self._complete(batch, task, result)

    def _complete(self, batch: Batch, task: LeasedTask, result: TaskResult) -> None:
        batch.kinds_done.add(task.kind)
        self.tasks_done += 1
        with session_scope(self.ctx.engine) as session:
            if not tasks.complete(
                session,
                task.id,
                owner=self.owner,
                now=utcnow(),
                outcome=result.words,
                generation=batch.lease.generation,
            ):
                log.warning("lease_lost_before_complete", task=task.id)
                raise LeaseLost(batch.lease)
            accounts.mark_success(session, batch.lease.portal, utcnow())
        log.info("task_done", task=task.id, kind=task.kind, outcome=result.words)
        self.events.task_done(task, result)

    def _traced(self, task: LeasedTask) -> bool:
        when = self.ctx.settings.evidence.trace
        return when == "always" or (when == "retries" and task.attempts > 1)

    def _renew(self, batch: Batch) -> bool:
        """Extend the batch's lease (account and tasks) before a task, at most once per RECHECK_S (or a quarter of
        the lease): a claim takes a tenth of a second, and a lease of minutes needs no commit per claim. A lease
        lost meanwhile is still seen before the next request, by the fence."""
        lease_s = self.ctx.settings.run.lease_seconds
        if time.monotonic() - batch.renewed_at < min(RECHECK_S, lease_s / 4):
            return True
        batch.renewed_at = time.monotonic()
        with session_scope(self.ctx.engine) as session:
            batch.lost = not tasks.renew(session, batch.lease, now=utcnow(), lease_for=timedelta(seconds=lease_s))
        if batch.lost:
            log.warning("lease_lost", portal=batch.lease.portal)
        return not batch.lost

    def _pace(self, portal: str) -> None:
        """Politeness: at least the portal's pace between two tasks on it, across every runner and host."""
        interval = self.ctx.settings.portals[portal].pace_seconds
        if not interval:  # unpaced: no request times to keep (a read and a write a task, for nothing)
            return
        with session_scope(self.ctx.engine) as session:
            last = tasks.last_request(session, portal)
        if last is not None:
            wait = (last + timedelta(seconds=interval) - utcnow()).total_seconds()
            if wait > 0:
                self.ctx.stop.wait(wait)
        with session_scope(self.ctx.engine) as session:
            tasks.note_request(session, portal, utcnow())

    # --- what a failure means (failures.py), applied ----------------------------

    def _failed(
        self, adapter: PortalAdapter, batch: Batch, task: LeasedTask, exc: Exception, trace: FailureTrace
    ) -> bool:
        """Apply the failure policy to one failed task; returns whether the batch goes on."""
        outcome = failures.classify(exc)
        if task.kind == TaskKind.ELIGIBILITY:
            batch.kinds_done.add(task.kind)  # a visit whose check keeps failing gets a finding saying so
        failure = Failure(
            batch.lease.portal,
            task.kind,
            task.target,
            outcome,
            failures.error_text(exc),
            failures.words(exc),
            rate_limited=isinstance(exc, RateLimited),
        )
        if task.kind == TaskKind.CLAIM_STATUS:
            with session_scope(self.ctx.engine) as session:
                mark_checked(session, task.target, utcnow(), error=failure.error)
        if outcome is Outcome.NEEDS_A_PERSON:
            failure, goes_on = self._needs_a_person(adapter, batch, task, failure), False
        elif outcome is Outcome.LAYOUT_CHANGED:
            failure, goes_on = self._layout_changed(adapter, batch, task, failure, trace), True
        elif outcome is Outcome.PORTAL_DOWN:
            assert isinstance(exc, PortalUnavailable)
            failure, goes_on = self._portal_down(batch, task, exc, failure)
        else:
            goes_on = self.slot.connected()
            evidence = self.ctx.save_evidence(adapter, _claim_of(task), failure.error, trace) if goes_on else None
            failure = self._retry_or_park(task, replace(failure, evidence=evidence))
            log.error(
                "task_failed",
                task=task.id,
                kind=task.kind,
                error=type(exc).__name__,
                detail=failure.error,
                attempts=task.attempts,
                exc_info=exc if not isinstance(exc, (PortalError, PlaywrightError)) else None,
            )
        self.events.task_failed(task, failure)
        return goes_on and not self.slot.cut_off()  # a cut-off batch's context is closed

    def _needs_a_person(self, adapter: PortalAdapter, batch: Batch, task: LeasedTask, failure: Failure) -> Failure:
        portal = batch.lease.portal
        evidence = self.ctx.save_evidence(adapter, None, failure.error)
        with session_scope(self.ctx.engine) as session:
            accounts.mark_needs_attention(session, portal, failure.error, utcnow())
            tasks.release(session, [task.id], owner=self.owner)
        self.ctx.state_file(portal).unlink(missing_ok=True)
        self.ctx.forget_credentials()
        log.error("account_needs_attention", detail=failure.error, evidence=evidence)
        return replace(failure, evidence=evidence)

    def _layout_changed(
        self, adapter: PortalAdapter, batch: Batch, task: LeasedTask, failure: Failure, trace: FailureTrace
    ) -> Failure:
        portal, now = batch.lease.portal, utcnow()
        evidence = self.ctx.save_evidence(adapter, _claim_of(task), failure.error, trace)
        until = now + timedelta(hours=self.ctx.settings.run.layout_recheck_hours)
        same_kind = [t for t in batch.remaining + batch.held if t.kind == task.kind]
        batch.remaining = [t for t in batch.remaining if t.kind != task.kind]
        batch.held = [t for t in batch.held if t.kind != task.kind]  # held missing claims go back unrecorded
        with session_scope(self.ctx.engine) as session:
            health.pause_flow(
                session, portal=portal, kind=task.kind, reason=failure.error, evidence=evidence, now=now, until=until
            )
            tasks.release(session, [task.id] + [t.id for t in same_kind], owner=self.owner)
            accounts.note_error(session, portal, failure.error)
        self.ctx.layout_changed(portal, task.kind, failure.error, evidence)
        log.error(
            "layout_changed",
            kind=task.kind,
            target_task=task.id,
            detail=failure.error,
            evidence=evidence,
            paused_until=until.isoformat(),
        )
        return replace(failure, evidence=evidence, paused_until=until)

    def _portal_down(
        self, batch: Batch, task: LeasedTask, exc: PortalUnavailable, failure: Failure
    ) -> tuple[Failure, bool]:
        portal, now, settings = batch.lease.portal, utcnow(), self.ctx.settings
        with session_scope(self.ctx.engine) as session:
            in_a_row = accounts.note_failure(session, portal, failure.error)
        failure = self._retry_or_park(task, failure)
        if not failures.breaker_trips(exc, in_a_row, settings.run):
            log.warning("portal_error", error=type(exc).__name__, detail=failure.error, failures=in_a_row)
            return failure, True
        until = failures.breaker_pause_until(exc, in_a_row, settings.run, settings.check, now)
        with session_scope(self.ctx.engine) as session:
            accounts.pause(session, portal, until)
        log.warning(
            "portal_paused", error=type(exc).__name__, detail=failure.error, failures=in_a_row, until=until.isoformat()
        )
        return replace(failure, paused_until=until), False

    def _retry_or_park(self, task: LeasedTask, failure: Failure) -> Failure:
        run, now = self.ctx.settings.run, utcnow()
        with session_scope(self.ctx.engine) as session:
            if task.attempts >= run.max_attempts:
                tasks.park(session, task.id, owner=self.owner, now=now, error=failure.error, evidence=failure.evidence)
                log.error("task_parked", task=task.id, kind=task.kind, attempts=task.attempts, detail=failure.error)
                return replace(failure, parked=True)
            retry_at = now + failures.retry_delay(task.attempts, run)
            tasks.retry_later(
                session,
                task.id,
                owner=self.owner,
                now=now,
                not_before=retry_at,
                error=failure.error,
                evidence=failure.evidence,
            )
        return replace(failure, retry_at=retry_at)


def watch_deadlines(runners: list[Runner], deadline_seconds: float) -> None:
    """A task past its deadline has its browser work ended (browser_slot.HostedSlot.kill), so the hung Playwright
    call fails at once."""
    for runner in runners:
        started = runner.task_started
        if started is not None and time.monotonic() - started > deadline_seconds:
            log.error("task_deadline_passed", runner=runner.name, seconds=deadline_seconds, state=runner.state)
            runner.slot.kill()


def _claim_of(task: LeasedTask) -> str | None:
    return task.target if task.kind == TaskKind.CLAIM_STATUS else None
