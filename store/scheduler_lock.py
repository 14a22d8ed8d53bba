"""Which worker process runs the scheduler: exactly one per database at a time.

Every worker leases tasks, but only the holder of this lock enqueues them (schedulers that
share work duplicate or lose jobs: docs/architecture.md). The database itself elects the holder:

- PostgreSQL: a session-level advisory lock on a connection of its own, held for as long as
  the process lives. When the holder dies, even by `kill -9`, its connection closes and the
  server releases the lock; the next worker to ask gets it. TCP keepalives make a holder
  whose host vanished from the network lose it too.
- SQLite (one machine): an exclusive `flock` on a file beside the database, which the
  kernel releases when the process dies.

The lock is namespaced by database and schema, so installs sharing one server never contend.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlmodel import create_engine

# The first key of the two-key advisory lock: "portal-worker scheduler", as a 32-bit number.
LOCK_NAMESPACE = 0x70775343
# The second key: this database and schema.
LOCK_KEY = "hashtext(current_database() || '.' || current_schema())"
# A holder whose host vanished is noticed after about idle + interval * count seconds.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 20, "keepalives_interval": 5, "keepalives_count": 3}


class SchedulerLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True while this process holds it."""

    def still_held(self) -> bool:
        """Whether the lock is still ours (a PostgreSQL connection may have dropped)."""

    def release(self) -> None:
        """Give the lock up (it is given up anyway when the process ends)."""


def scheduler_lock(engine: Engine) -> SchedulerLock:
    if engine.dialect.name == "postgresql":
        return PostgresSchedulerLock(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        return ProcessLocal()
    return FileSchedulerLock(Path(f"{database}.scheduler-lock"))


class PostgresSchedulerLock:
    def __init__(self, engine: Engine) -> None:
        # A connection outside the pool: closing it must really end the session (and so the lock).
        self._engine = create_engine(engine.url, poolclass=NullPool, connect_args=KEEPALIVES)
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            return self.still_held()
        try:
            connection = self._engine.connect()
        except DBAPIError:
            return False
        try:
            taken = connection.execute(
                text(f"SELECT pg_try_advisory_lock(:namespace, {LOCK_KEY})"),
                {"namespace": LOCK_NAMESPACE},
            ).scalar()
            connection.commit()  # the lock is the session's, not the transaction's
        except DBAPIError:
            connection.close()
            return False
        if taken:
            self._connection = connection
            return True
        connection.close()
        return False

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except DBAPIError:  # the session ended, and the server released the lock with it
            self._close()
            return False

    def release(self) -> None:
        # Unlocked before the connection closes: the server ends a closed session a moment after the client has
        # moved on, and until then the next worker to ask is refused.
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.execute(
                    text(f"SELECT pg_advisory_unlock(:namespace, {LOCK_KEY})"), {"namespace": LOCK_NAMESPACE}
                )
                self._connection.commit()
        self._close()
        self._engine.dispose()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError):
                connection.close()


class FileSchedulerLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


class ProcessLocal:
    """An in-memory database is this process's alone: it is always the scheduler."""

    def __init__(self) -> None:
        self._held = False

    def try_acquire(self) -> bool:
        self._held = True
        return True

    def still_held(self) -> bool:
        return self._held

    def release(self) -> None:
        self._held = False
