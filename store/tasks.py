"""The task queue: idempotent enqueue, leases grouped by portal account, and their release.

Many runners in many processes (on PostgreSQL, many hosts) share one queue. Every
claim is made by a conditional UPDATE or a `FOR UPDATE SKIP LOCKED` select, so the
database's own locking decides who wins; on SQLite, store.db's BEGIN IMMEDIATE
serialises the transactions instead. Functions run in the caller's transaction;
their UPDATEs leave Task objects already loaded in the session stale, so the
readers here reload them.

An account lease is a fencing token: its generation grows at every take, and a holder is
its owner *and* generation. A runner that was slow past its lease while another host took
the account over finds that it no longer holds it (`hold`), and the writes it may still try
with its generation (`renew`, `complete`, `retry_later`, `park`, `release`, `release_account`)
change nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, exists, func, insert, literal, not_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from store.models import AccountLease, Task, UtcDateTime

QUEUED, LEASED, DONE, FAILED = "queued", "leased", "done", "failed"
OPEN_STATES = (QUEUED, LEASED)


@dataclass(frozen=True)
class LeasedTask:
    id: int
    kind: str
    portal: str
    target: str
    attempts: int  # including this lease
    reason: str


@dataclass(frozen=True)
class Lease:
    owner: str
    portal: str
    generation: int  # of the account lease when this owner took it: with `owner`, the fencing token
    tasks: tuple[LeasedTask, ...]
    expires_at: datetime


def open_key(kind: str, portal: str, target: str) -> str:
    return f"{kind}:{portal}:{target}"


# --- enqueue -------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    kind: str,
    portal: str,
    target: str,
    reason: str,
    now: datetime,
    priority: int = 0,
    not_before: datetime | None = None,
    decided_at: datetime | None = None,
) -> bool:
    """Queue a task; False when one is already open for (kind, portal, target).

    An open task is raised to the higher priority. Its `not_before` is pulled earlier
    only while it has never been tried: a task waiting out a retry backoff keeps it.
    `decided_at` is when the caller read that the target is due: a task for it that
    finished since then may have made that reading stale (the claim just got paid),
    so nothing is queued and the next job decides again.
    """
    key = open_key(kind, portal, target)
    not_before = not_before or now
    if _merge_into_open(session, key, priority, not_before):
        return False
    if decided_at is not None and _finished_since(session, kind, portal, target, decided_at):
        return False
    try:
        with session.begin_nested():
            session.exec(
                insert(Task).values(
                    kind=kind,
                    portal=portal,
                    target=target,
                    reason=reason,
                    priority=priority,
                    state=QUEUED,
                    open_key=key,
                    attempts=0,
                    not_before=not_before,
                    enqueued_at=now,
                )
            )
    except IntegrityError:  # another process queued it between our UPDATE and INSERT
        _merge_into_open(session, key, priority, not_before)
        return False
    return True


@dataclass(frozen=True)
class OpenTask:
    """What `enqueue` would merge into: an open task's id, priority, schedule and attempts."""

    id: int
    priority: int
    not_before: datetime
    attempts: int

    def unchanged_by(self, priority: int, not_before: datetime) -> bool:
        """Whether `enqueue(priority, not_before)` would leave this task as it is (see `_merge_into_open`)."""
        return priority <= self.priority and (self.attempts > 0 or self.not_before <= not_before)


def open_tasks(session: Session, *, kind: str) -> dict[tuple[str, str], OpenTask]:
    """Every open task of `kind` by (portal, target), read at once: a planner queues only what this changes."""
    rows = session.exec(select(Task).where(col(Task.kind) == kind, col(Task.state).in_(OPEN_STATES)))
    return {
        (task.portal, task.target): OpenTask(task.id, task.priority, task.not_before, task.attempts)
        for task in rows
        if task.id is not None
    }


def open_task_id(session: Session, *, kind: str, portal: str, target: str) -> int | None:
    """The id of the open (queued or leased) task for this target, if there is one."""
    return session.exec(select(Task.id).where(col(Task.open_key) == open_key(kind, portal, target))).first()


def _finished_since(session: Session, kind: str, portal: str, target: str, since: datetime) -> bool:
    statement = (
        select(Task.id)
        .where(
            col(Task.target) == target,
            col(Task.kind) == kind,
            col(Task.portal) == portal,
            col(Task.state).in_((DONE, FAILED)),
            col(Task.finished_at) >= literal(since, UtcDateTime()),
        )
        .limit(1)
    )
    return session.exec(statement).first() is not None


def _merge_into_open(session: Session, key: str, priority: int, not_before: datetime) -> bool:
    new_not_before = literal(not_before, UtcDateTime())
    result = session.exec(
        update(Task)
        .where(col(Task.open_key) == key)
        .values(
            priority=case((col(Task.priority) < priority, priority), else_=col(Task.priority)),
            not_before=case(
                (and_(col(Task.attempts) == 0, col(Task.not_before) > new_not_before), new_not_before),
                else_=col(Task.not_before),
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount > 0


# --- lease -----------------------------------------------------------------------


def lease_batch(
    session: Session,
    *,
    owner: str,
    now: datetime,
    lease_for: timedelta,
    limit: int,
    skip_portals: Collection[str] = (),
    skip_kinds: Collection[tuple[str, str]] = (),
    only_ids: Collection[int] | None = None,
) -> Lease | None:
    """Take one portal account and up to `limit` of its leasable tasks; None when nothing is leasable.

    Leasable: queued and due, or leased under a lease that has expired (taken over).
    The portal whose best task has the highest priority, then the oldest `not_before`,
    is tried first; a portal whose account another owner holds is passed over.
    `only_ids` limits the lease to those tasks (what one `check` planned).
    """
    expires_at = now + lease_for
    for portal in _candidate_portals(session, now, skip_portals, skip_kinds, only_ids):
        skipped = [kind for (skip_portal, kind) in skip_kinds if skip_portal == portal]
        attempt = session.begin_nested()
        generation = _take_account(session, portal, owner, now, expires_at)
        if generation is None:
            attempt.rollback()
            continue
        tasks = _lease_tasks(session, portal, owner, now, expires_at, limit, skipped, only_ids)
        if not tasks:
            # Undo the account take: also drops its row lock, so no waiting runner deadlocks on it.
            attempt.rollback()
            continue
        attempt.commit()
        return Lease(owner=owner, portal=portal, generation=generation, tasks=tasks, expires_at=expires_at)
    return None


def lease_account(session: Session, *, portal: str, owner: str, now: datetime, lease_for: timedelta) -> Lease | None:
    """The account alone, with no tasks (a login test); None while another owner holds it."""
    expires_at = now + lease_for
    generation = _take_account(session, portal, owner, now, expires_at)
    if generation is None:
        return None
    return Lease(owner=owner, portal=portal, tasks=(), expires_at=expires_at, generation=generation)


def _leasable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(col(Task.state) == QUEUED, col(Task.not_before) <= now),
        and_(col(Task.state) == LEASED, col(Task.lease_expires_at) < now),
    )


def _candidate_portals(
    session: Session,
    now: datetime,
    skip_portals: Collection[str],
    skip_kinds: Collection[tuple[str, str]],
    only_ids: Collection[int] | None,
) -> list[str]:
    statement = (
        select(Task.portal, Task.priority, func.min(Task.not_before))
        .where(_leasable(now))
        .group_by(col(Task.portal), col(Task.priority))
    )
    if only_ids is not None:
        statement = statement.where(col(Task.id).in_(list(only_ids)))
    if skip_portals:
        statement = statement.where(col(Task.portal).not_in(list(skip_portals)))
    for portal, kind in skip_kinds:
        statement = statement.where(not_(and_(col(Task.portal) == portal, col(Task.kind) == kind)))
    best: dict[str, tuple[int, datetime]] = {}
    for portal, priority, oldest in session.exec(statement):
        if portal not in best or priority > best[portal][0]:
            best[portal] = (priority, oldest)
    return sorted(best, key=lambda portal: (-best[portal][0], best[portal][1], portal))


def _take_account(session: Session, portal: str, owner: str, now: datetime, expires_at: datetime) -> int | None:
    """The account's new generation once `owner` took it; None while another owner holds it."""
    taken = session.exec(
        update(AccountLease)
        .where(
            col(AccountLease.portal) == portal,
            or_(
                col(AccountLease.owner).is_(None), col(AccountLease.expires_at) < now, col(AccountLease.owner) == owner
            ),
        )
        .values(owner=owner, expires_at=expires_at, generation=col(AccountLease.generation) + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:
        # Read back in the same transaction, which holds the row (no RETURNING: SQLite before 3.35 lacks it).
        return session.exec(select(AccountLease.generation).where(col(AccountLease.portal) == portal)).one()
    if session.exec(select(AccountLease.portal).where(col(AccountLease.portal) == portal)).first():
        return None  # another owner holds it
    try:
        with session.begin_nested():
            session.exec(insert(AccountLease).values(portal=portal, owner=owner, expires_at=expires_at, generation=1))
    except IntegrityError:  # another process created it first, and holds it
        return None
    return 1


def _lease_tasks(
    session: Session,
    portal: str,
    owner: str,
    now: datetime,
    expires_at: datetime,
    limit: int,
    skipped_kinds: list[str],
    only_ids: Collection[int] | None,
) -> tuple[LeasedTask, ...]:
    # sqlmodel types select() for four columns at most
    statement = (
        select(Task.id, Task.kind, Task.target, Task.attempts, Task.reason)  # type: ignore[call-overload]
        .where(col(Task.portal) == portal, _leasable(now))
        .order_by(col(Task.priority).desc(), col(Task.not_before), col(Task.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if skipped_kinds:
        statement = statement.where(col(Task.kind).not_in(skipped_kinds))
    if only_ids is not None:
        statement = statement.where(col(Task.id).in_(list(only_ids)))
    rows = list(session.exec(statement))
    if not rows:
        return ()
    session.exec(
        update(Task)
        .where(col(Task.id).in_([row[0] for row in rows]))
        .values(
            state=LEASED,
            lease_owner=owner,
            lease_expires_at=expires_at,
            attempts=col(Task.attempts) + 1,
            started_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return tuple(
        LeasedTask(id=task_id, kind=kind, portal=portal, target=target, attempts=attempts + 1, reason=reason)
        for task_id, kind, target, attempts, reason in rows
    )


def hold(session: Session, lease: Lease, *, now: datetime, lease_for: timedelta) -> datetime | None:
    """The fence: whether `lease` is still its owner's, in its generation; if so it is extended to
    `now + lease_for` and the new expiry returned, else None (and nothing changes).

    One conditional UPDATE checks and extends, so no take-over can slip in between. A lease that
    expired while nobody took it is still held: any take would have raised the generation, and
    once extended nobody can take it before the new expiry.
    """
    expires_at = now + lease_for
    held = session.exec(
        update(AccountLease)
        .where(*_holding(lease.portal, lease.owner, lease.generation))
        .values(expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return expires_at if held.rowcount == 1 else None


def renew(session: Session, lease: Lease, *, now: datetime, lease_for: timedelta) -> bool:
    """Extend the account lease and its still-leased tasks; False (and no change) when it is lost (see `hold`)."""
    expires_at = hold(session, lease, now=now, lease_for=lease_for)
    if expires_at is None:
        return False
    session.exec(
        update(Task)
        .where(col(Task.id).in_([task.id for task in lease.tasks]), *_held_by(lease.owner))
        .values(lease_expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return True


def _holding(portal: str | Mapped[str], owner: str, generation: int | None) -> tuple[ColumnElement[bool], ...]:
    """The account lease row of `portal` while `owner` holds it (in `generation`, when given)."""
    conditions = [col(AccountLease.portal) == portal, col(AccountLease.owner) == owner]
    if generation is not None:
        conditions.append(col(AccountLease.generation) == generation)
    return tuple(conditions)


# --- finish ----------------------------------------------------------------------


def _held_by(owner: str, generation: int | None = None) -> tuple[ColumnElement[bool], ...]:
    """Tasks leased by `owner`; with `generation`, only while it still holds their account in it.

    A task is only ever leased with its account, so the account's generation fences the task too.
    """
    held = (col(Task.state) == LEASED, col(Task.lease_owner) == owner)
    if generation is None:
        return held
    return (*held, exists().where(*_holding(col(Task.portal), owner, generation)))


def _finish(session: Session, task_id: int, owner: str, generation: int | None, **values: object) -> bool:
    result = session.exec(
        update(Task)
        .where(col(Task.id) == task_id, *_held_by(owner, generation))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# `generation` (the Lease's) fences each of these: with it, a runner whose account was taken over, even
# one whose task nobody has taken yet, changes nothing. Without it, the task's lease owner alone decides.


def complete(
    session: Session, task_id: int, *, owner: str, now: datetime, outcome: str, generation: int | None = None
) -> bool:
    """Mark the task done; False (and no change) when `owner` no longer holds its lease."""
    return _finish(
        session,
        task_id,
        owner,
        generation,
        state=DONE,
        open_key=None,
        outcome=outcome,
        finished_at=now,
        lease_expires_at=None,
    )


def retry_later(
    session: Session,
    task_id: int,
    *,
    owner: str,
    now: datetime,
    not_before: datetime,
    error: str,
    evidence: str | None = None,
    generation: int | None = None,
) -> bool:
    """Back to the queue until `not_before`; the attempt stays counted."""
    return _finish(
        session,
        task_id,
        owner,
        generation,
        state=QUEUED,
        not_before=not_before,
        last_error=error,
        evidence=evidence,
        lease_owner=None,
        lease_expires_at=None,
    )


def park(
    session: Session,
    task_id: int,
    *,
    owner: str,
    now: datetime,
    error: str,
    evidence: str | None = None,
    generation: int | None = None,
) -> bool:
    """Give up on the task: failed, with its last error and evidence, for a person to look at."""
    return _finish(
        session,
        task_id,
        owner,
        generation,
        state=FAILED,
        open_key=None,
        last_error=error,
        evidence=evidence,
        finished_at=now,
        lease_expires_at=None,
    )


_UNLEASED = {"state": QUEUED, "lease_owner": None, "lease_expires_at": None, "started_at": None}


def release(session: Session, task_ids: Iterable[int], *, owner: str, generation: int | None = None) -> int:
    """Put unstarted tasks back in the queue; their lease does not count as an attempt."""
    ids = list(task_ids)
    if not ids:
        return 0
    result = session.exec(
        update(Task)
        .where(col(Task.id).in_(ids), *_held_by(owner, generation))
        .values(attempts=col(Task.attempts) - 1, **_UNLEASED)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def release_account(session: Session, portal: str, *, owner: str, generation: int | None = None) -> None:
    session.exec(
        update(AccountLease)
        .where(*_holding(portal, owner, generation))
        .values(owner=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )


def release_owner(session: Session, owner: str) -> int:
    """Graceful stop: every task and account lease of `owner` back; returns the tasks released.

    Tasks of an account another owner has taken over since are no longer `owner`'s to give back.
    """
    taken_over = exists().where(
        col(AccountLease.portal) == col(Task.portal),
        col(AccountLease.owner).is_not(None),
        col(AccountLease.owner) != owner,
    )
    result = session.exec(
        update(Task)
        .where(*_held_by(owner), not_(taken_over))
        .values(attempts=col(Task.attempts) - 1, **_UNLEASED)
        .execution_options(synchronize_session=False)
    )
    session.exec(
        update(AccountLease)
        .where(col(AccountLease.owner) == owner)
        .values(owner=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- pacing ------------------------------------------------------------------------


def note_request(session: Session, portal: str, at: datetime) -> None:
    """Remember when the portal was last asked something, for pacing across processes."""
    statement = (
        update(AccountLease)
        .where(col(AccountLease.portal) == portal)
        .values(last_request_at=at)
        .execution_options(synchronize_session=False)
    )
    if session.exec(statement).rowcount == 1:
        return
    try:
        with session.begin_nested():
            session.exec(insert(AccountLease).values(portal=portal, last_request_at=at))
    except IntegrityError:
        session.exec(statement)


def last_request(session: Session, portal: str) -> datetime | None:
    return session.exec(select(AccountLease.last_request_at).where(col(AccountLease.portal) == portal)).first()


# --- reading -------------------------------------------------------------------------


def queue_depth(session: Session) -> dict[tuple[str, str], int]:
    """(kind, state) -> how many tasks."""
    statement = select(Task.kind, Task.state, func.count()).group_by(col(Task.kind), col(Task.state))
    return {(kind, state): count for kind, state, count in session.exec(statement)}


def recent_failures(session: Session, limit: int = 20) -> list[Task]:
    """Parked tasks, newest first."""
    statement = (
        select(Task)
        .where(col(Task.state) == FAILED)
        .order_by(col(Task.finished_at).desc(), col(Task.id).desc())
        .limit(limit)
    )
    return list(session.exec(statement.execution_options(populate_existing=True)))


def open_task_count(session: Session, portal: str | None = None) -> int:
    statement = select(func.count()).select_from(Task).where(col(Task.state).in_(OPEN_STATES))
    if portal is not None:
        statement = statement.where(col(Task.portal) == portal)
    return session.exec(statement).one()


def tasks_of(session: Session, kind: str | None = None, state: str | None = None) -> list[Task]:
    statement = select(Task)
    if kind is not None:
        statement = statement.where(col(Task.kind) == kind)
    if state is not None:
        statement = statement.where(col(Task.state) == state)
    statement = statement.order_by(col(Task.id)).execution_options(populate_existing=True)
    return list(session.exec(statement))


def delete_finished_before(session: Session, before: datetime) -> int:
    """Delete done and failed tasks finished before `before`, so the table stays small over months."""
    result = session.exec(
        delete(Task)
        .where(col(Task.state).in_((DONE, FAILED)), col(Task.finished_at) < before)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
