"""The task queue in store/: enqueue, leases grouped by portal account, takeover, release.

Every test runs on a SQLite file and, when it is reachable, on a fresh PostgreSQL schema
(PORTAL_WORKER_TEST_PG overrides the URL).
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from store.db import create_schema, make_engine, session_scope
from store.models import AccountLease, Task
from store.tasks import (
    Lease,
    complete,
    delete_finished_before,
    enqueue,
    hold,
    last_request,
    lease_batch,
    note_request,
    open_task_count,
    open_tasks,
    park,
    queue_depth,
    recent_failures,
    release,
    release_account,
    release_owner,
    renew,
    retry_later,
    tasks_of,
)
from tests.pg_support import fresh_schema, postgres_unreachable, require_postgres

NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
MINUTES = timedelta(minutes=1)
LEASE_FOR = 5 * MINUTES


@dataclass
class Db:
    url: str
    engine: Engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@pytest.fixture(scope="session")
def postgres_skip_reason() -> str | None:
    return postgres_unreachable()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, postgres_skip_reason: str | None) -> Iterator[Db]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'queue.db'}"
        engine = make_engine(url)
        create_schema(engine)
        yield Db(url, engine)
        engine.dispose()
        return
    require_postgres(postgres_skip_reason)
    with fresh_schema("queue_test") as url:
        engine = make_engine(url)
        try:
            create_schema(engine)
            yield Db(url, engine)
        finally:
            engine.dispose()


# --- helpers -----------------------------------------------------------------------


def add(
    db: Db,
    target: str,
    *,
    portal: str = "summit",
    kind: str = "claim_status",
    priority: int = 0,
    not_before: datetime | None = None,
    now: datetime = NOW,
    decided_at: datetime | None = None,
) -> bool:
    with session_scope(db.engine) as session:
        return enqueue(
            session,
            kind=kind,
            portal=portal,
            target=target,
            reason="due",
            now=now,
            priority=priority,
            not_before=not_before,
            decided_at=decided_at,
        )


def lease(db: Db, owner: str, *, now: datetime = NOW, limit: int = 10, **options: Any) -> Lease | None:
    with session_scope(db.engine) as session:
        return lease_batch(session, owner=owner, now=now, lease_for=LEASE_FOR, limit=limit, **options)


def rows(db: Db, **filters: str) -> list[Task]:
    with session_scope(db.engine) as session:
        return tasks_of(session, **filters)


def row(db: Db, task_id: int) -> Task:
    return next(task for task in rows(db) if task.id == task_id)


def account(db: Db, portal: str) -> AccountLease | None:
    with session_scope(db.engine) as session:
        return session.get(AccountLease, portal)


def targets(leased: Lease | None) -> list[str]:
    assert leased is not None
    return [task.target for task in leased.tasks]


def task_ids(leased: Lease | None) -> list[int]:
    assert leased is not None
    return [task.id for task in leased.tasks]


# --- enqueue ---------------------------------------------------------------------------


def test_enqueue_is_idempotent_and_raises_priority_and_pulls_not_before_earlier(db: Db) -> None:
    assert add(db, "C1", priority=1, not_before=NOW + 60 * MINUTES)
    assert not add(db, "C1", priority=5, not_before=NOW + 30 * MINUTES)
    assert not add(db, "C1", priority=2, not_before=NOW + 90 * MINUTES)

    [task] = rows(db)
    assert (task.state, task.open_key, task.priority) == ("queued", "claim_status:summit:C1", 5)
    assert task.not_before == NOW + 30 * MINUTES
    assert task.not_before.tzinfo is not None and task.enqueued_at == NOW
    # the same target for another kind or another portal is another task
    assert add(db, "C1", kind="authorization")
    assert add(db, "C1", portal="unity")
    assert len(rows(db)) == 3


def test_enqueue_keeps_a_retry_backoff(db: Db) -> None:
    add(db, "C1")
    [task] = task_ids(lease(db, "a"))
    with session_scope(db.engine) as session:
        assert retry_later(session, task, owner="a", now=NOW, not_before=NOW + 20 * MINUTES, error="HTTP 500")

    assert not add(db, "C1", priority=3, now=NOW + MINUTES)

    stored = row(db, task)
    assert (stored.not_before, stored.priority, stored.attempts) == (NOW + 20 * MINUTES, 3, 1)


@pytest.mark.parametrize(
    ("priority", "not_before", "tried"),
    list(itertools.product((0, 2, 5), (NOW - MINUTES, NOW + 30 * MINUTES, NOW + 90 * MINUTES), (False, True))),
)
def test_an_open_task_read_at_once_says_whether_enqueue_would_change_it(
    db: Db, priority: int, not_before: datetime, tried: bool
) -> None:
    """Planners skip the write for targets `open_tasks` says enqueue would leave alone: the two must agree."""
    add(db, "C1", priority=2, not_before=NOW + 60 * MINUTES)
    if tried:
        [task] = task_ids(lease(db, "a", now=NOW + 60 * MINUTES))
        with session_scope(db.engine) as session:
            retry_later(session, task, owner="a", now=NOW, not_before=NOW + 60 * MINUTES, error="HTTP 500")
    with session_scope(db.engine) as session:
        [((portal, target), seen)] = open_tasks(session, kind="claim_status").items()
        assert open_tasks(session, kind="authorization") == {}
    before = row(db, seen.id)

    add(db, "C1", priority=priority, not_before=not_before)

    after = row(db, seen.id)
    assert (portal, target, seen.attempts) == ("summit", "C1", int(tried))
    unchanged = (after.priority, after.not_before) == (before.priority, before.not_before)
    assert seen.unchanged_by(priority, not_before) == unchanged


def test_a_finished_task_does_not_block_a_new_one_for_the_same_target(db: Db) -> None:
    add(db, "C1")
    [first] = task_ids(lease(db, "a"))
    with session_scope(db.engine) as session:
        assert complete(session, first, owner="a", now=NOW, outcome="unchanged")

    assert add(db, "C1", now=NOW + MINUTES)

    done, queued = rows(db)
    assert (done.state, done.open_key, done.outcome, done.finished_at) == ("done", None, "unchanged", NOW)
    assert (queued.state, queued.open_key) == ("queued", "claim_status:summit:C1")


def test_a_target_whose_task_finished_after_the_job_read_it_is_not_queued_again(db: Db) -> None:
    # A job reads "C1 is pending" at NOW, a runner records it paid and finishes its task a minute
    # later, then the job gets to C1: its reading is stale, so it must not check the paid claim again.
    add(db, "C1")
    add(db, "C2")
    first, second = task_ids(lease(db, "a"))
    with session_scope(db.engine) as session:
        assert complete(session, first, owner="a", now=NOW + MINUTES, outcome="changed")
        assert park(session, second, owner="a", now=NOW + MINUTES, error="HTTP 500")

    assert not add(db, "C1", now=NOW + 2 * MINUTES, decided_at=NOW)
    assert not add(db, "C2", now=NOW + 2 * MINUTES, decided_at=NOW)
    # a task that finished before the job read is already in what it read
    assert add(db, "C1", now=NOW + 3 * MINUTES, decided_at=NOW + 2 * MINUTES)
    # another kind or portal for the same target is not affected
    assert add(db, "C2", kind="authorization", now=NOW + 2 * MINUTES, decided_at=NOW)
    assert [task.state for task in rows(db)] == ["done", "failed", "queued", "queued"]


def test_two_processes_enqueueing_the_same_task_make_one_row(db: Db) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE; the insert race needs PostgreSQL")
    first = make_engine(db.url)
    second = make_engine(db.url)
    try:
        with session_scope(first) as session:
            assert enqueue(session, kind="claim_status", portal="summit", target="C1", reason="due", now=NOW)
            with ThreadPoolExecutor(1) as pool:
                # The other process's INSERT waits on our uncommitted row, then hits the unique key.
                racing = pool.submit(_enqueue_with, second, priority=4)
                _wait_until_blocked_on_a_lock(first)
                session.commit()
                assert racing.result() is False
    finally:
        first.dispose()
        second.dispose()

    [task] = rows(db)
    assert task.priority == 4


def _enqueue_with(engine: Engine, priority: int) -> bool:
    with session_scope(engine) as session:
        return enqueue(
            session, kind="claim_status", portal="summit", target="C1", reason="due", now=NOW, priority=priority
        )


def _wait_until_blocked_on_a_lock(engine: Engine) -> None:
    waiting = text(
        "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()"
    )
    with engine.connect() as connection:
        for _ in range(100_000):
            if connection.execute(waiting).scalar_one():
                return
            connection.rollback()
    raise AssertionError("the second enqueue never waited on the first one's row")


# --- leasing -------------------------------------------------------------------------------


def test_a_lease_takes_one_portal_by_priority_up_to_the_limit(db: Db) -> None:
    add(db, "U1", portal="unity", priority=1)
    add(db, "S1", priority=0, not_before=NOW - 3 * MINUTES)
    add(db, "S2", priority=2, not_before=NOW - 1 * MINUTES)
    add(db, "S3", priority=2, not_before=NOW - 2 * MINUTES)
    add(db, "S4", priority=0, not_before=NOW - 4 * MINUTES)
    add(db, "S5", priority=9, not_before=NOW + MINUTES)  # not due yet

    leased = lease(db, "a", limit=3)

    assert leased is not None and leased.portal == "summit" and leased.owner == "a"
    assert targets(leased) == ["S3", "S2", "S4"]
    assert leased.expires_at == NOW + LEASE_FOR
    assert {task.attempts for task in leased.tasks} == {1}
    for task in rows(db, state="leased"):
        assert (task.lease_owner, task.lease_expires_at, task.started_at, task.attempts) == (
            "a",
            NOW + LEASE_FOR,
            NOW,
            1,
        )
    held = account(db, "summit")
    assert held is not None and (held.owner, held.expires_at) == ("a", NOW + LEASE_FOR)
    # the same owner asks again: unity's task is now the best; then what is left of summit, still a's
    assert targets(lease(db, "a", limit=3)) == ["U1"]
    assert targets(lease(db, "a", limit=3)) == ["S1"]


def test_the_portal_with_the_best_task_goes_first(db: Db) -> None:
    add(db, "S1", portal="summit", priority=1, not_before=NOW - 9 * MINUTES)
    add(db, "U1", portal="unity", priority=3, not_before=NOW)
    add(db, "L1", portal="lakeshore", priority=3, not_before=NOW - MINUTES)

    leases = [lease(db, owner) for owner in ("a", "b", "c")]
    assert [None if leased is None else leased.portal for leased in leases] == ["lakeshore", "unity", "summit"]


def test_nothing_due_means_no_lease(db: Db) -> None:
    add(db, "S1", not_before=NOW + MINUTES)

    assert lease(db, "a") is None
    assert account(db, "summit") is None
    assert targets(lease(db, "a", now=NOW + MINUTES)) == ["S1"]


def test_a_second_owner_cannot_share_an_account_and_gets_another_portal(db: Db) -> None:
    for target in ("S1", "S2"):
        add(db, target)
    add(db, "U1", portal="unity")

    first = lease(db, "a", limit=1)
    second = lease(db, "b")
    third = lease(db, "c")

    assert first is not None and first.portal == "summit" and targets(first) == ["S1"]
    assert second is not None and second.portal == "unity"
    assert third is None  # summit's S2 is there, but its account is a's
    assert [task.state for task in rows(db)] == ["leased", "queued", "leased"]
    assert account(db, "summit").owner == "a"  # type: ignore[union-attr]


def test_an_expired_lease_is_taken_over_and_the_old_owner_cannot_finish(db: Db) -> None:
    add(db, "S1")
    add(db, "S2")
    first = lease(db, "a")
    assert lease(db, "b", now=NOW + LEASE_FOR) is None  # expires_at is not yet in the past

    later = NOW + LEASE_FOR + MINUTES
    taken = lease(db, "b", now=later)

    assert taken is not None and targets(taken) == ["S1", "S2"]
    assert {task.attempts for task in taken.tasks} == {2}
    held = account(db, "summit")
    assert held is not None and (held.owner, held.expires_at) == ("b", later + LEASE_FOR)
    before = row(db, taken.tasks[0].id)
    with session_scope(db.engine) as session:
        assert not complete(session, taken.tasks[0].id, owner="a", now=later, outcome="changed")
        assert not retry_later(session, taken.tasks[1].id, owner="a", now=later, not_before=later, error="x")
        assert not park(session, taken.tasks[1].id, owner="a", now=later, error="x")
        assert release(session, [task.id for task in first.tasks], owner="a") == 0  # type: ignore[union-attr]
        assert not renew(session, first, now=later, lease_for=LEASE_FOR)  # type: ignore[arg-type]
    after = row(db, taken.tasks[0].id)
    assert after.model_dump() == before.model_dump()
    assert [task.lease_owner for task in rows(db)] == ["b", "b"]
    with session_scope(db.engine) as session:
        assert complete(session, taken.tasks[0].id, owner="b", now=later, outcome="changed")
    assert row(db, taken.tasks[0].id).state == "done"


def test_renew_extends_the_account_and_its_tasks(db: Db) -> None:
    add(db, "S1")
    add(db, "S2")
    leased = lease(db, "a")
    assert leased is not None
    with session_scope(db.engine) as session:
        assert complete(session, leased.tasks[0].id, owner="a", now=NOW, outcome="unchanged")
        assert renew(session, leased, now=NOW + 4 * MINUTES, lease_for=LEASE_FOR)

    assert lease(db, "b", now=NOW + 6 * MINUTES) is None
    done, open_task = rows(db)
    assert done.lease_expires_at is None
    assert open_task.lease_expires_at == NOW + 9 * MINUTES
    assert account(db, "summit").expires_at == NOW + 9 * MINUTES  # type: ignore[union-attr]


def test_release_puts_tasks_back_without_counting_the_attempt(db: Db) -> None:
    for target in ("S1", "S2", "S3"):
        add(db, target)
    leased = lease(db, "a")
    assert leased is not None
    with session_scope(db.engine) as session:
        assert complete(session, leased.tasks[0].id, owner="a", now=NOW, outcome="unchanged")
        assert release(session, [task.id for task in leased.tasks], owner="a") == 2
        release_account(session, "summit", owner="a")

    done, first_back, second_back = rows(db)
    assert done.state == "done" and done.attempts == 1
    for task in (first_back, second_back):
        assert (task.state, task.attempts, task.lease_owner, task.lease_expires_at, task.started_at) == (
            "queued",
            0,
            None,
            None,
            None,
        )
    held = account(db, "summit")
    assert held is not None and (held.owner, held.expires_at) == (None, None)
    assert targets(lease(db, "b")) == ["S2", "S3"]


def test_release_account_only_frees_an_account_the_owner_holds(db: Db) -> None:
    add(db, "S1")
    lease(db, "a")
    with session_scope(db.engine) as session:
        release_account(session, "summit", owner="b")
    assert account(db, "summit").owner == "a"  # type: ignore[union-attr]


def test_release_owner_hands_back_everything_of_a_stopping_worker(db: Db) -> None:
    add(db, "S1")
    add(db, "U1", portal="unity")
    add(db, "L1", portal="lakeshore")
    lease(db, "a")
    lease(db, "a")
    lease(db, "b")

    with session_scope(db.engine) as session:
        assert release_owner(session, "a") == 2

    by_target = {task.target: task for task in rows(db)}
    assert [by_target[t].state for t in ("S1", "U1", "L1")].count("queued") == 2
    assert {task.lease_owner for task in by_target.values() if task.state == "leased"} == {"b"}
    assert all(task.attempts == 0 for task in by_target.values() if task.state == "queued")
    with session_scope(db.engine) as session:
        owners = {lease.portal: lease.owner for lease in session.exec(select(AccountLease))}
    assert sorted(owners.values(), key=str) == [None, None, "b"]


def test_skip_portals_and_skip_kinds(db: Db) -> None:
    add(db, "S1", priority=5)
    add(db, "S2", kind="enrollment", priority=9)
    add(db, "U1", portal="unity", priority=1)

    skipping_summit = lease(db, "a", skip_portals={"summit"})
    no_enrollment = lease(db, "b", skip_kinds={("summit", "enrollment")})

    assert skipping_summit is not None and skipping_summit.portal == "unity"
    assert no_enrollment is not None and targets(no_enrollment) == ["S1"]
    with session_scope(db.engine) as session:
        release_owner(session, "b")
        # only skipped work left on summit, unity held by a: nothing, and summit's account stays free
        assert (
            lease_batch(
                session,
                owner="c",
                now=NOW,
                lease_for=LEASE_FOR,
                limit=5,
                skip_kinds={("summit", "enrollment"), ("summit", "claim_status")},
            )
            is None
        )
    assert account(db, "summit").owner is None  # type: ignore[union-attr]


# --- the fencing token -------------------------------------------------------------------------


def generation(db: Db, portal: str = "summit") -> int:
    held = account(db, portal)
    assert held is not None
    return held.generation


def test_every_take_of_an_account_raises_its_generation(db: Db) -> None:
    for target in ("S1", "S2", "S3"):
        add(db, target)
    first = lease(db, "a", limit=1)
    assert first is not None and first.generation == generation(db) == 1
    with session_scope(db.engine) as session:
        release_account(session, "summit", owner="a", generation=first.generation)
    again = lease(db, "a", limit=1)  # the same owner, a new take
    assert again is not None and again.generation == generation(db) == 2
    taken_over = lease(db, "b", now=NOW + LEASE_FOR + MINUTES, limit=1)
    assert taken_over is not None and taken_over.generation == generation(db) == 3
    with session_scope(db.engine) as session:
        note_request(session, "summit", NOW)  # pacing leaves the token alone
    assert generation(db) == 3


def test_a_holder_whose_account_was_taken_over_changes_nothing(db: Db) -> None:
    for target in ("S1", "S2", "S3"):
        add(db, target)
    stale = lease(db, "a")
    assert stale is not None
    later = NOW + LEASE_FOR + MINUTES
    current = lease(db, "b", now=later, limit=1)  # b takes the account and only S1; S2, S3 stay a's by name
    assert current is not None and current.generation == stale.generation + 1
    s2, s3 = (task.id for task in stale.tasks[1:])
    before = [task.model_dump() for task in rows(db)]
    held_before = account(db, "summit")

    with session_scope(db.engine) as session:
        assert hold(session, stale, now=later, lease_for=LEASE_FOR) is None
        assert not renew(session, stale, now=later, lease_for=LEASE_FOR)
        assert not complete(session, s2, owner="a", now=later, outcome="changed", generation=stale.generation)
        assert not retry_later(
            session, s2, owner="a", now=later, not_before=later, error="x", generation=stale.generation
        )
        assert not park(session, s3, owner="a", now=later, error="x", generation=stale.generation)
        assert release(session, [s2, s3], owner="a", generation=stale.generation) == 0
        release_account(session, "summit", owner="a", generation=stale.generation)
        assert release_owner(session, "a") == 0  # stopping, a hands back none of b's account

    assert [task.model_dump() for task in rows(db)] == before
    assert account(db, "summit") == held_before
    with session_scope(db.engine) as session:  # the holder's own token still works
        assert hold(session, current, now=later, lease_for=LEASE_FOR) == later + LEASE_FOR
        assert complete(
            session, current.tasks[0].id, owner="b", now=later, outcome="changed", generation=current.generation
        )


def test_an_older_generation_of_the_same_owner_is_stale_too(db: Db) -> None:
    add(db, "S1")
    add(db, "S2")
    old = lease(db, "a", limit=1)
    assert old is not None
    with session_scope(db.engine) as session:
        release_account(session, "summit", owner="a", generation=old.generation)
    new = lease(db, "a", limit=1)
    assert new is not None and new.generation == old.generation + 1

    with session_scope(db.engine) as session:
        assert hold(session, old, now=NOW, lease_for=LEASE_FOR) is None
        assert not complete(session, old.tasks[0].id, owner="a", now=NOW, outcome="x", generation=old.generation)
        release_account(session, "summit", owner="a", generation=old.generation)
    assert account(db, "summit").owner == "a"  # type: ignore[union-attr]


def test_hold_extends_the_lease_even_after_it_expired_while_nobody_took_it(db: Db) -> None:
    add(db, "S1")
    leased = lease(db, "a")
    assert leased is not None
    with session_scope(db.engine) as session:
        assert hold(session, leased, now=NOW + MINUTES, lease_for=LEASE_FOR) == NOW + MINUTES + LEASE_FOR
    assert account(db, "summit").expires_at == NOW + MINUTES + LEASE_FOR  # type: ignore[union-attr]

    late = NOW + 3 * LEASE_FOR  # expired, but no take raised the generation: still a's, extended
    with session_scope(db.engine) as session:
        assert hold(session, leased, now=late, lease_for=LEASE_FOR) == late + LEASE_FOR
    assert lease(db, "b", now=late + MINUTES) is None
    assert account(db, "summit").generation == leased.generation  # type: ignore[union-attr]


def test_a_late_holder_and_a_taker_racing_for_an_expired_account_never_both_win(db: Db) -> None:
    """One thread extends a's expired lease while another takes the account over: exactly one wins."""
    engines = [make_engine(db.url), make_engine(db.url)]
    try:
        for round_ in range(12):
            start = NOW + round_ * 4 * LEASE_FOR
            add(db, f"S{round_}", now=start, not_before=start)
            held = lease(db, "a", now=start)
            assert held is not None
            race_at, both_ready = start + 2 * LEASE_FOR, threading.Barrier(2)
            with ThreadPoolExecutor(2) as pool:
                holding = pool.submit(_hold_when_ready, engines[0], both_ready, held, race_at)
                taking = pool.submit(_take_when_ready, engines[1], both_ready, "b", race_at)
                kept, taken = holding.result(timeout=60), taking.result(timeout=60)

            assert (kept is None) != (taken is None), (round_, kept, taken)
            winner = held if kept is not None else taken
            assert winner is not None and account(db, "summit").generation == winner.generation  # type: ignore[union-attr]
            with session_scope(db.engine) as session:
                assert complete(
                    session,
                    winner.tasks[0].id,
                    owner=winner.owner,
                    now=race_at,
                    outcome="x",
                    generation=winner.generation,
                )
                release_account(session, "summit", owner=winner.owner, generation=winner.generation)
    finally:
        for engine in engines:
            engine.dispose()


def _hold_when_ready(engine: Engine, ready: threading.Barrier, held: Lease, now: datetime) -> datetime | None:
    ready.wait()
    with session_scope(engine) as session:
        return hold(session, held, now=now, lease_for=LEASE_FOR)


def _take_when_ready(engine: Engine, ready: threading.Barrier, owner: str, now: datetime) -> Lease | None:
    ready.wait()
    with session_scope(engine) as session:
        return lease_batch(session, owner=owner, now=now, lease_for=LEASE_FOR, limit=5)


# --- finishing and reading --------------------------------------------------------------------


def test_retry_later_park_and_the_counts(db: Db) -> None:
    for target in ("S1", "S2", "S3"):
        add(db, target)
    add(db, "A1", kind="authorization", portal="unity")
    leased = lease(db, "a")
    assert leased is not None
    retried, parked, finished = (task.id for task in leased.tasks)

    with session_scope(db.engine) as session:
        assert retry_later(
            session,
            retried,
            owner="a",
            now=NOW,
            not_before=NOW + 10 * MINUTES,
            error="PortalUnavailable: HTTP 503",
            evidence="summit-1.png",
        )
        assert park(
            session, parked, owner="a", now=NOW + MINUTES, error="NotFound after 5 tries", evidence="summit-2.png"
        )
        assert complete(session, finished, owner="a", now=NOW, outcome="changed")

    again = row(db, retried)
    assert (again.state, again.not_before, again.attempts, again.lease_owner, again.last_error, again.evidence) == (
        "queued",
        NOW + 10 * MINUTES,
        1,
        None,
        "PortalUnavailable: HTTP 503",
        "summit-1.png",
    )
    gone = row(db, parked)
    assert (gone.state, gone.open_key, gone.finished_at, gone.evidence) == (
        "failed",
        None,
        NOW + MINUTES,
        "summit-2.png",
    )
    with session_scope(db.engine) as session:
        assert queue_depth(session) == {
            ("claim_status", "queued"): 1,
            ("claim_status", "failed"): 1,
            ("claim_status", "done"): 1,
            ("authorization", "queued"): 1,
        }
        assert [task.id for task in recent_failures(session)] == [parked]
        assert open_task_count(session) == 2
        assert open_task_count(session, "summit") == 1
        assert open_task_count(session, "lakeshore") == 0
    assert add(db, "S2")  # a parked task does not block the next enqueue


def test_recent_failures_newest_first(db: Db) -> None:
    for index in range(3):
        add(db, f"S{index}")
    leased = lease(db, "a")
    assert leased is not None
    with session_scope(db.engine) as session:
        for index, task in enumerate(leased.tasks):
            park(session, task.id, owner="a", now=NOW + index * MINUTES, error="gone")
        assert [task.target for task in recent_failures(session, limit=2)] == ["S2", "S1"]


def test_pacing_is_shared_through_the_account_row(db: Db) -> None:
    with session_scope(db.engine) as session:
        assert last_request(session, "summit") is None
        note_request(session, "summit", NOW)  # no account row yet
        note_request(session, "summit", NOW + MINUTES)
    add(db, "S1")
    lease(db, "a")
    with session_scope(db.engine) as session:
        assert last_request(session, "summit") == NOW + MINUTES
    assert account(db, "summit").owner == "a"  # type: ignore[union-attr]


def test_times_in_another_zone_are_the_same_instant(db: Db) -> None:
    elsewhere = timezone(timedelta(hours=-5))
    add(db, "S1", not_before=(NOW + MINUTES).astimezone(elsewhere))
    assert lease(db, "a", now=NOW.astimezone(elsewhere)) is None
    leased = lease(db, "a", now=(NOW + MINUTES).astimezone(elsewhere))
    assert leased is not None
    assert row(db, leased.tasks[0].id).lease_expires_at == NOW + MINUTES + LEASE_FOR


def test_naive_times_are_refused(db: Db) -> None:
    with pytest.raises(Exception, match="timezone-aware"):
        add(db, "S1", now=NOW.replace(tzinfo=None))


def test_delete_finished_before_keeps_open_and_recent_tasks(db: Db) -> None:
    for target in ("S1", "S2", "S3"):
        add(db, target)
    leased = lease(db, "a", limit=2)
    assert leased is not None
    with session_scope(db.engine) as session:
        complete(session, leased.tasks[0].id, owner="a", now=NOW, outcome="unchanged")
        park(session, leased.tasks[1].id, owner="a", now=NOW + 10 * MINUTES, error="gone")
        assert delete_finished_before(session, NOW + 5 * MINUTES) == 1
    assert [task.target for task in rows(db)] == ["S2", "S3"]


# --- several runners at once -------------------------------------------------------------------------


def test_four_runners_complete_every_task_once(db: Db) -> None:
    portals = ("summit", "unity", "lakeshore")
    with session_scope(db.engine) as session:
        for index in range(60):
            enqueue(
                session, kind="claim_status", portal=portals[index % 3], target=f"C{index:03}", reason="due", now=NOW
            )
    journal = Journal()

    with ThreadPoolExecutor(4) as pool:
        for runner in [pool.submit(_run_until_empty, db.url, f"runner-{n}", journal) for n in range(4)]:
            runner.result()

    assert len(journal.completed) == 60 and set(journal.completed.values()) == {1}
    assert all(task.state == "done" and task.attempts == 1 for task in rows(db))
    _assert_no_overlap(journal.account_holds)
    _assert_no_overlap(journal.task_holds)
    assert len({owner for _, owner, _, _ in journal.task_holds}) >= 2  # the work was shared


class Journal:
    """What the runners did, each event stamped with a sequence number taken under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sequence = itertools.count()
        self.completed: Counter[int] = Counter()
        self.account_holds: list[tuple[str, str, int, int]] = []  # (portal, owner, start, end)
        self.task_holds: list[tuple[int, str, int, int]] = []  # (task id, owner, start, end)
        self.first_holders: set[str] = set()
        self.two_hold = threading.Condition(self.lock)

    def stamp(self) -> int:
        with self.lock:
            return next(self.sequence)

    def hold_until_another_runner_holds(self, owner: str) -> None:
        """Keep a runner's first batch until a second runner holds one too.

        Without this a busy machine may let one thread drain the queue before the
        others start, and the test would prove nothing about runners sharing it.
        Another portal's account is always free while this one waits, so it ends.
        """
        with self.two_hold:
            self.first_holders.add(owner)
            self.two_hold.notify_all()
            assert self.two_hold.wait_for(lambda: len(self.first_holders) >= 2, timeout=120)


def _run_until_empty(url: str, owner: str, journal: Journal) -> None:
    """A runner: lease a batch, complete it, free the account, until nothing is leasable.

    A hold is stamped after the commit that takes it and before the commit that frees
    it, so the stamped interval lies inside the real one: overlapping stamps would mean
    two owners really held the same thing at once.
    """
    engine = make_engine(url)
    first_batch = True
    try:
        while True:
            with session_scope(engine) as session:
                leased = lease_batch(session, owner=owner, now=NOW, lease_for=timedelta(hours=1), limit=3)
            if leased is None:
                return
            taken = journal.stamp()
            assert 1 <= len(leased.tasks) <= 3
            if first_batch:
                journal.hold_until_another_runner_holds(owner)
                first_batch = False
            for task in leased.tasks:
                with session_scope(engine) as session:
                    assert complete(
                        session, task.id, owner=owner, now=NOW, outcome="unchanged", generation=leased.generation
                    )
                    ended = journal.stamp()
                with journal.lock:
                    journal.completed[task.id] += 1
                    journal.task_holds.append((task.id, owner, taken, ended))
            with session_scope(engine) as session:
                release_account(session, leased.portal, owner=owner, generation=leased.generation)
                freed = journal.stamp()
            with journal.lock:
                journal.account_holds.append((leased.portal, owner, taken, freed))
    finally:
        engine.dispose()


def _assert_no_overlap(holds: list[tuple[Any, str, int, int]]) -> None:
    by_thing: dict[Any, list[tuple[int, int, str]]] = {}
    for thing, owner, start, end in holds:
        by_thing.setdefault(thing, []).append((start, end, owner))
    for thing, spans in by_thing.items():
        spans.sort()
        for (_, earlier_end, earlier), (later_start, _, later) in itertools.pairwise(spans):
            assert earlier_end < later_start, f"{thing} held by {earlier} and {later} at once"
