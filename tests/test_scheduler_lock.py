"""The scheduler election: one holder per database (and schema), released when the holder goes."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from store.db import make_engine
from store.scheduler_lock import LOCK_NAMESPACE, FileSchedulerLock, PostgresSchedulerLock, scheduler_lock
from tests.pg_support import fresh_schema, postgres_unreachable, require_postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_postgres(postgres_unreachable())
    with fresh_schema("lock_test") as url:
        yield url


def test_sqlite_elects_one_holder_and_the_next_takes_over_after_release(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'portal-worker.db'}")
    first, second = scheduler_lock(engine), scheduler_lock(engine)
    assert isinstance(first, FileSchedulerLock)
    assert first.try_acquire() and first.still_held()
    assert not second.try_acquire()
    first.release()
    assert not first.still_held()
    assert second.try_acquire()
    second.release()


@pytest.mark.slow  # a real process holds the lock, then kill -9
def test_sqlite_holder_killed_releases_the_lock(tmp_path: Path) -> None:
    lock_file = tmp_path / "portal-worker.db.scheduler-lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from store.scheduler_lock import "
            "FileSchedulerLock; lock = FileSchedulerLock(Path(sys.argv[1])); assert lock.try_acquire(); "
            "print('held', flush=True); sys.stdin.read()",
            str(lock_file),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        waiting = FileSchedulerLock(lock_file)
        assert not waiting.try_acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        assert waiting.try_acquire()
        waiting.release()
    finally:
        if holder.poll() is None:
            holder.kill()


def test_postgres_elects_one_holder_per_schema(pg_url: str) -> None:
    engine = make_engine(pg_url)
    first, second = scheduler_lock(engine), scheduler_lock(engine)
    assert isinstance(first, PostgresSchedulerLock)
    try:
        assert first.try_acquire() and first.still_held()
        assert not second.try_acquire()
        with fresh_schema("lock_test_other") as other_url:  # another install on the same server
            other = scheduler_lock(make_engine(other_url))
            assert other.try_acquire()
            other.release()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()
        engine.dispose()


def test_postgres_holder_whose_session_ends_loses_the_role_to_the_next(pg_url: str) -> None:
    engine = make_engine(pg_url)
    holder, waiting = scheduler_lock(engine), scheduler_lock(engine)
    try:
        assert holder.try_acquire()
        assert not waiting.try_acquire()
        # What a kill -9 of the holder's process (or a lost network) does: its session ends.
        with engine.begin() as connection:
            ended = (
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND classid = :namespace AND objid::bigint = "
                        "(hashtext(current_database() || '.' || current_schema())::bigint & 4294967295)"
                    ),
                    {"namespace": LOCK_NAMESPACE},
                )
                .scalars()
                .all()
            )
        assert ended == [True]
        assert not holder.still_held()
        assert waiting.try_acquire()
    finally:
        holder.release()
        waiting.release()
        engine.dispose()
