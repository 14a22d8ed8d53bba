"""Engine and session setup: SQLite (WAL, one writer at a time) by default, PostgreSQL to share."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from store import models  # noqa: F401  (registers the tables)
from store.migrate import upgrade


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'portal-worker.db'}"


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file is created private (0600) and put in WAL mode."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:":
        _create_private(Path(path))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy issue BEGIN itself: pysqlite's implicit transactions
        # lose updates between processes (docs/architecture.md, "SQLite by default").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # Take the write lock up front so read-then-write transactions never interleave.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def create_schema(engine: Engine) -> None:
    """Bring the schema to the newest revision (see store/migrate.py); one query when it is there."""
    upgrade(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
