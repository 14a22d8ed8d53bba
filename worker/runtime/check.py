"""`portal-worker check`: the foreground form of `run`.

It plans the due work into the same task queue `run`'s jobs fill (planning.py), then drains
what it planned with the same runners (runners.py) and so the same failure policy, the same
gates (portal hours, the circuit breaker, stored credentials, an account waiting for a
person), the same pacing and the same single session per portal account; a `run` worker
sharing the database may take part of the work. Then it reports, per portal, what was found
and what went wrong, in words a person acts on. Work it could not do now (a portal paused
or closed, a task waiting to retry) stays queued for `run` or the next `check`.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import structlog
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from flows.findings import FindingChanges, merge
from flows.task_work import TaskKind, TaskResult
from store import health
from store.db import create_schema, make_engine, session_scope
from store.runs import finish_run, start_run
from store.tasks import LeasedTask
from worker.clock import aware, utcnow
from worker.runtime.browser import ChromiumChoice, find_chromium
from worker.runtime.check_runs import mark_interrupted_checks, this_process
from worker.runtime.context import WorkerContext
from worker.runtime.failures import Failure, Outcome
from worker.runtime.gates import PortalGate
from worker.runtime.planning import Planned, Planner
from worker.runtime.runners import Runner, watch_deadlines
from worker.security.credentials import CredentialStore, open_store
from worker.settings import Settings

log = structlog.get_logger(__name__)

WORK_KINDS = ("claims", "auths", "providers")  # what `check` does unless told
KINDS_OF_WORK: dict[str, tuple[TaskKind, ...]] = {
    "claims": (TaskKind.CLAIM_STATUS, TaskKind.REMITTANCES),
    "auths": (TaskKind.AUTHORIZATION,),
    "providers": (TaskKind.ENROLLMENT,),
    "eligibility": (TaskKind.ELIGIBILITY,),  # only when asked: the scheduled job owns its times
    "auth-requests": (TaskKind.AUTH_REQUEST,),  # only when asked: a plain check only reads
    "appeals": (TaskKind.APPEAL, TaskKind.APPEAL_STATUS),  # only when asked: files queued appeals, reads the due
}
# A failure that stops a portal's work for this check outranks one that only retries a task.
STOPPING = (Outcome.NEEDS_A_PERSON, Outcome.LAYOUT_CHANGED, Outcome.PORTAL_DOWN)


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, portal: str, claims: int = 1) -> None: ...
    def describe(self, doing: str) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, portal: str, claims: int = 1) -> None:
        pass

    def describe(self, doing: str) -> None:
        pass


NO_PROGRESS = NoProgress()


@dataclass
class PortalReport:
    portal: str
    claims: int = 0  # claims this check meant to check on the portal
    states: Counter[str] = field(default_factory=Counter)  # answers recorded, by state
    changed: int = 0
    new_denials: int = 0  # from claim detail pages and ERAs
    eras: int = 0  # ERA files imported
    auths_checked: int = 0
    auths_changed: int = 0
    enrollments_checked: int = 0
    enrollments_changed: int = 0
    eligibility_checked: int = 0  # appointments whose coverage the portal answered
    auth_requests: list[str] = field(default_factory=list)  # "PA-1F2E3D4C: submitted as UA800001"
    appeals: list[str] = field(default_factory=list)  # "AP-1F2E3D4C: filed as UAP-100001", "...: in review"
    errors: int = 0  # claims left without an answer
    logins: int = 0
    problem: str | None = None  # what went wrong, what the worker did, what a person should do
    seconds: float = 0.0
    tasks: int = 0  # tasks planned on the portal, of every kind
    stopped_by: Outcome | None = None

    @property
    def checked(self) -> int:
        return sum(self.states.values())


@dataclass
class RunReport:
    run_id: str
    portals: list[PortalReport]
    unrouted: dict[str, int]  # payer id -> claims no configured portal answers for
    unknown_claims: list[str]
    seconds: float
    findings: FindingChanges = field(default_factory=FindingChanges)


class Check:
    """Plan, drain and report, with the runners `run` uses."""

    def __init__(
        self,
        settings: Settings,
        *,
        credentials: CredentialStore | None = None,
        engine: Engine | None = None,
        clock: Callable[[], datetime] = utcnow,
        browser: Browser | None = None,
    ) -> None:
        """`browser`: a browser the caller owns, driven from the caller's thread by one runner (tests share
        theirs); without one, runners launch their own, in threads, as `run`'s do."""
        self.settings, self.clock, self.browser = settings, clock, browser
        self.engine = engine or make_engine(settings.database_url())
        create_schema(self.engine)
        self._credentials = credentials

    def run(
        self,
        *,
        portals: Sequence[str] = (),
        claim_ids: Sequence[str] = (),
        force: bool = False,
        what: Sequence[str] = WORK_KINDS,
        progress: Progress = NO_PROGRESS,
        day: date | None = None,
    ) -> RunReport:
        """Check `what` (claims, auths, providers, eligibility) on the configured portals, or only `claim_ids`.
        `day`: the eligibility of that day's appointments (else what the schedule makes due now)."""
        started, run_id = time.monotonic(), uuid.uuid4().hex[:12]
        structlog.contextvars.bind_contextvars(run_id=run_id)
        try:
            mark_interrupted_checks(self.engine)
            me = this_process()
            with session_scope(self.engine) as session:
                start_run(session, run_id, utcnow(), host=me.host, pid=me.pid, process_started=me.started)
            ctx = self._context(force)
            ctx.open_every_claim = bool(claim_ids)
            kinds = KINDS_OF_WORK["claims"] if claim_ids else tuple(k for w in what for k in KINDS_OF_WORK[w])
            planned = self._plan(kinds, portals, claim_ids, force, day)
            tally = Tally(planned, progress)
            progress.start(len(planned.task_ids))
            self._explain_waiting(ctx, tally)
            self._drain(ctx, planned, tally, run_id)
            findings = tally.findings
            if {TaskKind.AUTHORIZATION, TaskKind.ENROLLMENT, TaskKind.ELIGIBILITY} & set(kinds):
                findings = merge(findings, ctx.sync_program_findings({kind.value for kind in kinds}))
        finally:
            structlog.contextvars.unbind_contextvars("run_id")
        reports = tally.finish()
        report = RunReport(
            run_id, reports, dict(planned.unrouted), planned.unknown_claims, time.monotonic() - started, findings
        )
        summary = [_summary_row(r) for r in reports]
        with session_scope(self.engine) as session:
            finish_run(session, run_id, utcnow(), summary)
        log.info("check_finished", run_id=run_id, seconds=round(report.seconds, 1), portals=summary)
        return report

    # --- the steps -------------------------------------------------------------------

    def _context(self, force: bool) -> WorkerContext:
        chromium = (
            ChromiumChoice(None, "the caller's browser")
            if self.browser is not None
            else find_chromium(self.settings.browser.executable_path or None)
        )
        credentials = self._credentials or open_store(self.settings.worker.data_dir)
        worker_id = f"check:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        ctx = WorkerContext(
            self.settings, self.engine, credentials, clock=self.clock, chromium=chromium, worker_id=worker_id
        )
        ctx.gates.ignore_backoff = force  # `--force` also ignores the circuit breaker's pause
        ctx.record_credentials()
        return ctx

    def _plan(
        self, kinds: Sequence[TaskKind], only: Sequence[str], claim_ids: Sequence[str], force: bool, day: date | None
    ) -> Planned:
        planner = Planner(self.settings, self.engine, self.clock)
        scope = [
            name for name, portal in self.settings.portals.items() if portal.enabled and (not only or name in only)
        ]
        planned = Planned()
        for kind in kinds:
            planner.enqueue(
                kind,
                scope,
                everything=force,
                planned=planned,
                claim_ids=claim_ids if kind is TaskKind.CLAIM_STATUS else (),
                day=day if kind is TaskKind.ELIGIBILITY else None,
            )
        return planned

    def _explain_waiting(self, ctx: WorkerContext, tally: Tally) -> None:
        """A portal that cannot be worked now says why; its tasks wait in the queue."""
        now = utcnow()
        with session_scope(self.engine) as session:
            paused = {(p.portal, p.kind): p for p in health.active_pauses(session, now)}
        for portal in tally.portals():
            gate = ctx.gate(portal, now)
            if not gate.open:
                tally.waiting(portal, _gate_problem(gate))
                continue
            for (paused_portal, kind), pause in paused.items():
                if paused_portal == portal and tally.planned_kind(portal, kind):
                    tally.waiting(
                        portal,
                        f"{kind.replace('_', ' ')} work is paused after a layout change "
                        f"({pause.reason}) until {aware(pause.until):%Y-%m-%d %H:%M} UTC; "
                        f"`portal-worker resume {portal}` once the adapter is fixed",
                        kind=kind,
                    )

    def _drain(self, ctx: WorkerContext, planned: Planned, tally: Tally, run_id: str) -> None:
        """Work what was planned until nothing of it can be worked now."""
        if not planned.task_ids:
            return
        if self.browser is not None:
            Runner(
                "check",
                ctx,
                events=tally,
                only_ids=planned.task_ids,
                until_idle=True,
                run_id=run_id,
                browser=self.browser,
            ).work()
            return
        count = max(1, min(self.settings.run.runners, len(tally.portals())))
        runners = [
            Runner(f"check-{n}", ctx, events=tally, only_ids=planned.task_ids, until_idle=True, run_id=run_id)
            for n in range(1, count + 1)
        ]
        for runner in runners:
            runner.start()
        try:
            while any(runner.thread.is_alive() for runner in runners):
                watch_deadlines(runners, self.settings.run.task_deadline_seconds)
                ctx.stop.wait(0.5)
        finally:  # Ctrl-C included: each runner hands its tasks back, then the browser closes
            ctx.stop.set()
            for runner in runners:
                runner.thread.join(self.settings.run.stop_timeout_seconds)
            ctx.browser_host.close()


class Tally:
    """`check`'s progress bar and per-portal report, from what its runners say (from their threads)."""

    def __init__(self, planned: Planned, progress: Progress) -> None:
        self.progress = progress
        self._lock = threading.Lock()
        self._reports: dict[str, PortalReport] = {}
        self._planned: Counter[tuple[str, str]] = Counter()
        for (portal, kind), count in planned.per_portal.items():
            report = self._reports.setdefault(portal, PortalReport(portal))
            report.tasks += count
            report.claims += count if kind is TaskKind.CLAIM_STATUS else 0
            self._planned[(portal, kind.value)] = count
        self._left = Counter({portal: report.tasks for portal, report in self._reports.items()})
        self.findings = FindingChanges()

    def portals(self) -> list[str]:
        return list(self._reports)

    def planned_kind(self, portal: str, kind: str) -> int:
        return self._planned[(portal, kind)]

    def waiting(self, portal: str, problem: str, kind: str | None = None) -> None:
        """Work that will not be done now: all of the portal's, or one kind of it."""
        with self._lock:
            self._note(self._reports[portal], problem)
            self._advance(portal, self._planned[(portal, kind)] if kind else self._left[portal])

    # --- RunnerEvents -------------------------------------------------------------

    def task_done(self, task: LeasedTask, result: TaskResult) -> None:
        with self._lock:
            report = self._reports.setdefault(task.portal, PortalReport(task.portal))
            report.new_denials += result.new_denials
            if task.kind == TaskKind.CLAIM_STATUS:
                report.changed += result.changed
                if result.claim_state is not None:
                    report.states[result.claim_state.value] += 1
            elif task.kind == TaskKind.AUTHORIZATION:
                report.auths_checked += result.checked
                report.auths_changed += result.changed
            elif task.kind == TaskKind.ENROLLMENT:
                report.enrollments_checked += result.checked
                report.enrollments_changed += result.changed
            elif task.kind == TaskKind.ELIGIBILITY:
                report.eligibility_checked += result.checked
            elif task.kind == TaskKind.AUTH_REQUEST:
                report.auth_requests.append(f"{task.target}: {result.words}")
            elif task.kind in (TaskKind.APPEAL, TaskKind.APPEAL_STATUS):
                report.appeals.append(f"{task.target}: {result.words}")
            elif task.kind == TaskKind.REMITTANCES:
                report.eras += result.eras
                for file_id, why in result.rejected_eras:
                    self._note(report, f"ERA {file_id} rejected: {why}")
            self._advance(task.portal, 1)

    def task_failed(self, task: LeasedTask, failure: Failure) -> None:
        with self._lock:
            report = self._reports.setdefault(task.portal, PortalReport(task.portal))
            if report.stopped_by is None or failure.outcome in STOPPING:
                report.problem = failure.problem()
                report.stopped_by = failure.outcome if failure.outcome in STOPPING else None
            self._advance(task.portal, 1)

    def printing(self) -> None:
        """After the last claim, the pages its checks kept are printed (runtime/evidence_printer.py): say so."""
        with self._lock:
            self.progress.describe("printing the pages kept as evidence")

    def batch_done(self, portal: str, logins: int, seconds: float, findings: FindingChanges | None) -> None:
        with self._lock:
            report = self._reports.setdefault(portal, PortalReport(portal))
            report.logins += logins
            report.seconds += seconds
            if findings is not None:
                self.findings = merge(self.findings, findings)

    # --- the end ------------------------------------------------------------------------

    def finish(self) -> list[PortalReport]:
        """The reports, with what was not answered counted as errors; the bar run to its end."""
        with self._lock:
            for portal, left in self._left.items():
                self._advance(portal, left)
            reports = list(self._reports.values())
        for report in reports:
            report.errors = report.claims - report.checked
        return reports

    @staticmethod
    def _note(report: PortalReport, problem: str) -> None:
        if report.problem is None:
            report.problem = problem
        elif problem not in report.problem:
            report.problem = f"{report.problem}; {problem}"

    def _advance(self, portal: str, count: int) -> None:
        count = min(count, self._left[portal])
        if count > 0:
            self._left[portal] -= count
            self.progress.advance(portal, count)


def _gate_problem(gate: PortalGate) -> str:
    if gate.state == "no credentials":
        return f"no credentials stored: {gate.detail}"
    if gate.state == "needs a person":
        return f"waiting for a person: {gate.detail}"
    if gate.state == "paused":
        return f"backing off {gate.detail}"
    return f"{gate.state} now ({gate.detail}); its work waits in the queue"


def _summary_row(report: PortalReport) -> dict[str, object]:
    return {
        "portal": report.portal,
        "claims": report.claims,
        "checked": report.checked,
        "states": dict(report.states),
        "changed": report.changed,
        "new_denials": report.new_denials,
        "eras": report.eras,
        "auths_checked": report.auths_checked,
        "auths_changed": report.auths_changed,
        "enrollments_checked": report.enrollments_checked,
        "enrollments_changed": report.enrollments_changed,
        "eligibility_checked": report.eligibility_checked,
        "errors": report.errors,
        "logins": report.logins,
        "problem": report.problem,
        "seconds": round(report.seconds, 2),
    }
