"""Engine and session setup: SQLite (WAL, one writer at a time) by default, PostgreSQL to share.

A SQLite file that is damaged (truncated, overwritten, emptied) or that this user cannot write is
told apart here, where its path is known, as StoreDamaged or StoreNotWritable: every command then says
what happened in words instead of a driver's traceback. A store that cannot be written is opened
read-only, so the commands that only read still work.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlmodel import Session, create_engine

import store.outbox  # noqa: F401  (every flush writes its feed events: the outbox)
from store import models  # noqa: F401  (registers the tables)
from store.migrate import upgrade

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
# What SQLite says of a file that is not (any longer) a whole database.
DAMAGE_WORDS = ("file is not a database", "database disk image is malformed")


class StoreDamaged(RuntimeError):
    """The SQLite file is not a whole database: say where it is and how to restore it."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        aside = f"{path}.damaged"
        super().__init__(
            f"The database {path} is damaged ({why}); it was left as it is.\n"
            "To restore it: stop every portal-worker using it; move the damaged file aside "
            f"(mv {path} {aside}), and its -wal and -shm files too if they exist (mv {path}-wal {aside}-wal; "
            f"mv {path}-shm {aside}-shm); copy your latest backup of it to {path}; then run `portal-worker status`.\n"
            "Without a backup: move the files aside the same way and `portal-worker import claims FILE` "
            "starts a new database from your practice management export."
        )


class StoreNotWritable(RuntimeError):
    """The data directory (or the database in it) cannot be written by this user."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        super().__init__(
            f"The data directory {folder} is not writable by this user: commands that only read work, "
            "this one writes (fix its owner or permissions, or run as the worker's user)."
        )


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'portal-worker.db'}"


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file is created private (0600) and put in WAL mode, or opened
    read-only when this user cannot write it."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    raw = url.split(":///", 1)[1] if ":///" in url else ""
    path = Path(raw) if raw and raw != ":memory:" and not raw.startswith("file:") else None
    writable = True
    if path is not None:
        writable = _writable(path)
        if writable:
            _create_private(path)
        elif not path.exists():
            raise StoreNotWritable(path.parent)
        check_sqlite_file(path)
        if not writable:
            # Read-only SQLite reads a WAL database through its -wal and -shm files when a worker left
            # them; without them it needs `immutable`, as a read-only folder cannot hold a new -shm file.
            wal = path.with_name(path.name + "-wal").exists()
            url = f"sqlite:///file:{quote(str(path))}?{'mode=ro' if wal else 'immutable=1'}&uri=true"
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy issue BEGIN itself: pysqlite's implicit transactions
        # lose updates between processes (docs/architecture.md, "SQLite by default").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if writable:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
        except sqlite3.DatabaseError as exc:
            _raise_store_error(path, exc)
            raise
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # Take the write lock up front so read-then-write transactions never interleave.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writable else "BEGIN")

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        if isinstance(context.original_exception, sqlite3.DatabaseError):
            _raise_store_error(path, context.original_exception)

    return engine


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that cannot be a whole SQLite database, before SQLite itself fails on it mid-command.

    A new store is never empty (see _create_private), so an empty file is one that lost its content."""
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            header = file.read(HEADER_SIZE)
    except PermissionError:
        return  # SQLite will say it cannot open it
    if size == 0:
        raise StoreDamaged(path, "the file is empty")
    if len(header) < HEADER_SIZE or not header.startswith(SQLITE_MAGIC):
        raise StoreDamaged(path, "the file does not start with a SQLite header")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise StoreDamaged(path, "its header names an impossible page size")
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid only when the change counter matches "version valid for" (the SQLite file format).
    counted = pages > 0 and header[24:28] == header[92:96]
    if size % page_size or (counted and size < pages * page_size):
        raise StoreDamaged(path, f"it is {size} bytes, shorter than its header says: truncated")


def _raise_store_error(path: Path | None, exc: sqlite3.DatabaseError) -> None:
    text = str(exc)
    if path is not None and any(words in text for words in DAMAGE_WORDS):
        raise StoreDamaged(path, text) from exc
    if path is not None and "readonly database" in text:
        raise StoreNotWritable(path.parent) from exc


def _writable(path: Path) -> bool:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _create_private(path: Path) -> None:
    """A new store appears whole: made (0600, with its header) under another name, then linked in place,
    so no process ever sees an empty database file that is not a damaged one."""
    if path.exists():
        return
    scratch = path.with_name(f".{path.name}.new-{os.getpid()}")
    fd = os.open(scratch, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        connection = sqlite3.connect(scratch)
        try:
            connection.execute("PRAGMA journal_mode=WAL")  # writes the header
        finally:
            connection.close()
        with suppress(FileExistsError):  # another process made it meanwhile: theirs is as good
            os.link(scratch, path)
    finally:
        for leftover in (scratch, scratch.with_name(scratch.name + "-wal"), scratch.with_name(scratch.name + "-shm")):
            leftover.unlink(missing_ok=True)


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
