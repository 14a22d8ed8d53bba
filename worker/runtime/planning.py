"""What is due, on which portal, and putting it in the queue: the one planner of `run`'s jobs and of `check`.

The cadence (flows.cadence) says which claims, authorizations and providers are due; the
config says which enabled portal answers for each payer and which adapters can do a kind of
work at all. `run`'s scheduled jobs enqueue what is due; `check` enqueues the same, or
everything (`--force`) or the claims it is given, and then drains it in the foreground.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.engine import Engine

from flows.appeals import due_appeals, status_read_due_before
from flows.auth_requests import due_requests
from flows.cadence import (
    ANY_PAYER,
    Due,
    as_utc,
    auth_verdicts,
    claim_verdicts,
    due_authorizations,
    due_claims,
    due_enrollments,
)
from flows.deadlines import load_payer_rules
from flows.eligibility import due_checks
from flows.task_work import TaskKind, portal_does
from portals.registry import adapter_capabilities
from store import appeals as appeals_store
from store import auth_requests as requests_store
from store import tasks
from store.appointments import appointments_between, checked_on
from store.authorizations import list_authorizations
from store.claims import list_claims
from store.db import session_scope
from store.denials import OPEN_STATES, list_denials
from store.observations import all_enrollments
from store.providers import list_providers
from worker.clock import utcnow
from worker.settings import Settings

# The scheduled jobs that find work for portals, and the kind of task each enqueues.
JOB_KINDS: dict[str, TaskKind] = {
    "claims": TaskKind.CLAIM_STATUS,
    "remittances": TaskKind.REMITTANCES,
    "auths": TaskKind.AUTHORIZATION,
    "enrollments": TaskKind.ENROLLMENT,
    "eligibility": TaskKind.ELIGIBILITY,
    "auth_requests": TaskKind.AUTH_REQUEST,
    "appeals": TaskKind.APPEAL,
    "appeal_status": TaskKind.APPEAL_STATUS,
}
NEW_ERA_FILES = "new ERA files"
NEW_TASKS_PER_WRITE = 50  # new tasks queued per transaction (see Planner._enqueue)


@dataclass
class Planned:
    """What one planning pass put in the queue (or found already there)."""

    task_ids: list[int] = field(default_factory=list)
    new: int = 0  # tasks queued now (the others were already open)
    per_portal: Counter[tuple[str, TaskKind]] = field(default_factory=Counter)  # (portal, kind) -> tasks
    unrouted: Counter[str] = field(default_factory=Counter)  # payer id -> claims no enabled portal answers for
    unknown_claims: list[str] = field(default_factory=list)  # claim ids asked for that were never imported


class Planner:
    def __init__(self, settings: Settings, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.settings, self.engine, self.clock = settings, engine, clock
        self.rules = load_payer_rules()

    def able(self, kind: TaskKind) -> list[str]:
        """Enabled portals whose adapter can do this kind of work."""
        return able_portals(self.settings, kind)

    def due(
        self, kind: TaskKind, *, everything: bool = False, claim_ids: Sequence[str] = (), day: date | None = None
    ) -> list[tuple[str, Due]]:
        """(portal, target) for every enabled portal that answers for it, most urgent first.

        `everything` ignores the cadence (`check --force`); `claim_ids` asks for those claims only; `day`, for
        eligibility, asks about that day's appointments whatever the time."""
        return self._route(kind, self._targets(kind, everything, claim_ids, day))[0]

    def enqueue(
        self,
        kind: TaskKind,
        portals: Collection[str],
        *,
        everything: bool = False,
        claim_ids: Sequence[str] = (),
        planned: Planned | None = None,
        day: date | None = None,
    ) -> Planned:
        """Queue a task for every due target on `portals` (never two open tasks for one target)."""
        planned = planned if planned is not None else Planned()
        targets = self._targets(kind, everything, claim_ids, day)
        if claim_ids:
            found = {item.target for item in targets}
            planned.unknown_claims += [claim_id for claim_id in claim_ids if claim_id not in found]
        routed, unrouted = self._route(kind, targets)
        if kind in (TaskKind.CLAIM_STATUS, TaskKind.ELIGIBILITY):
            planned.unrouted.update(unrouted)
        now = utcnow()  # the queue runs on the wall clock; the cadence above on the practice's clock
        with session_scope(self.engine) as session:
            already_open = tasks.open_tasks(session, kind=kind.value)
        new: list[tuple[str, Due]] = []
        for portal, item in routed:
            if portal not in portals:
                continue
            queued = already_open.get((portal, item.target))
            if queued is None:
                new.append((portal, item))
            elif queued.unchanged_by(item.priority, now):
                # Queued already, as urgent and as soon: no write, so a plan of thousands of open claims
                # does not queue behind the runners for the write lock once per claim.
                self._note(kind, portal, queued.id, planned)
            else:
                self._enqueue(kind, [(portal, item)], now, planned)
        for start in range(0, len(new), NEW_TASKS_PER_WRITE):
            self._enqueue(kind, new[start : start + NEW_TASKS_PER_WRITE], now, planned)
        return planned

    def _enqueue(self, kind: TaskKind, items: list[tuple[str, Due]], now: datetime, planned: Planned) -> None:
        # A task already open is raised in a transaction of its own: a job holding many open task rows at once
        # would deadlock with runners renewing their batch (PostgreSQL locks a multi-row UPDATE's rows in no
        # set order). New tasks go NEW_TASKS_PER_WRITE to a transaction: rows nobody else can see yet lock
        # nothing a runner holds, and a transaction per claim cost a first import of 500 claims 7 s of CPU.
        with session_scope(self.engine) as session:
            for portal, item in items:
                planned.new += tasks.enqueue(
                    session,
                    kind=kind.value,
                    portal=portal,
                    target=item.target,
                    reason=item.reason,
                    now=now,
                    priority=item.priority,
                    decided_at=now,
                )
                task_id = tasks.open_task_id(session, kind=kind.value, portal=portal, target=item.target)
                self._note(kind, portal, task_id, planned)

    @staticmethod
    def _note(kind: TaskKind, portal: str, task_id: int | None, planned: Planned) -> None:
        if task_id is not None and task_id not in planned.task_ids:
            planned.task_ids.append(task_id)
            planned.per_portal[(portal, kind)] += 1

    # --- targets --------------------------------------------------------------------

    def _targets(
        self, kind: TaskKind, everything: bool, claim_ids: Sequence[str], day: date | None = None
    ) -> list[Due]:
        now, tz = self.clock(), self.settings.worker.tzinfo
        if kind is TaskKind.REMITTANCES:
            return [Due("", ANY_PAYER, NEW_ERA_FILES, 0)]
        if kind is TaskKind.ELIGIBILITY:
            return self._eligibility_targets(day)
        with session_scope(self.engine) as session:
            if kind is TaskKind.AUTH_REQUEST:  # every open request, each time: the flow looks before it writes
                rows = requests_store.list_requests(session, requests_store.OPEN_STATES)
                return [Due(request_id, payer_id, why, 0) for request_id, payer_id, why in due_requests(rows)]
            if kind is TaskKind.APPEAL:  # every open appeal, each time: the flow looks before it files
                appeals = appeals_store.list_appeals(session, appeals_store.OPEN_STATES)
                return [Due(appeal_id, payer_id, why, 0) for appeal_id, payer_id, why in due_appeals(appeals)]
            if kind is TaskKind.APPEAL_STATUS:  # once a practice day, or now with --force
                before = None if everything else status_read_due_before(now, tz)
                return [
                    Due(a.appeal_id, a.payer_id, "filed, no decision yet", 0)
                    for a in appeals_store.status_due(session, before)
                ]
            if kind is TaskKind.CLAIM_STATUS:
                claims = list_claims(session, claim_ids=list(claim_ids) or None)
                denials = list_denials(session, statuses=list(OPEN_STATES))
                if everything or claim_ids:
                    return [_forced(v.as_due()) for v in claim_verdicts(claims, denials, self.rules, now, tz=tz)]
                return due_claims(claims, denials, self.rules, now, tz=tz)
            if kind is TaskKind.AUTHORIZATION:
                auths = list_authorizations(session)
                if everything:
                    return [_forced(v.as_due()) for v in auth_verdicts(auths, now, tz=tz)]
                return due_authorizations(auths, now, tz=tz)
            providers = list_providers(session)
            if everything:
                return [Due(p.npi, ANY_PAYER, "asked for now (--force)", 0) for p in providers]
            return due_enrollments(providers, all_enrollments(session), now)

    def _eligibility_targets(self, day: date | None) -> list[Due]:
        local_now = as_utc(self.clock()).astimezone(self.settings.worker.tzinfo)
        times = self.settings.schedule.eligibility.times
        first = day or local_now.date()
        last = day or times.next_business_day(local_now.date())
        with session_scope(self.engine) as session:
            appointments = appointments_between(session, first, last)
            checked = checked_on(session, [a.appointment_id for a in appointments], local_now.date())
        return due_checks(appointments, checked, local_now, times, day=day)

    def _route(self, kind: TaskKind, targets: list[Due]) -> tuple[list[tuple[str, Due]], Counter[str]]:
        able = self.able(kind)
        routed: list[tuple[str, Due]] = []
        unrouted: Counter[str] = Counter()
        for item in targets:
            if item.payer_id == ANY_PAYER:
                routed += [(portal, item) for portal in able]
                continue
            portal = self.settings.portal_for_payer(item.payer_id)
            if portal in able:
                routed.append((portal, item))
            elif portal is None or not self.settings.portals[portal].enabled:
                unrouted[item.payer_id] += 1
        return sorted(routed, key=lambda pair: -pair[1].priority), unrouted


def able_portals(settings: Settings, kind: TaskKind) -> list[str]:
    """Enabled portals whose adapter can do this kind of work (asked of the registry: no browser code)."""
    return [
        name
        for name, portal in settings.portals.items()
        if portal.enabled and portal_does(adapter_capabilities(portal.adapter), kind)
    ]


def portal_taking(settings: Settings, kind: TaskKind, payer_id: str) -> str | None:
    """The enabled portal serving `payer_id` whose adapter does this kind of work, if there is one."""
    portal = settings.portal_for_payer(payer_id)
    return portal if portal in able_portals(settings, kind) else None


def _forced(item: Due) -> Due:
    return Due(item.target, item.payer_id, f"asked for now ({item.reason})", item.priority)
