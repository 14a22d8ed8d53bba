"""PostgreSQL in tests: the server on 127.0.0.1:5432, one throwaway schema per test.

Each test process (each pytest-xdist worker) works in a database of its own, created on first use
and dropped when its session ends: a test that looks at the whole database (who waits on a lock)
sees only its own process's tests, and test runs side by side on one server never meet.

CI has PostgreSQL (`.ci/run` sets CI=true): not reaching it there fails the test. Elsewhere
a test that needs it is skipped with the reason.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection

from store import postgres

PG_URL = os.environ.get("PORTAL_WORKER_TEST_PG", postgres.DEFAULT_URL)


def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can."""
    return postgres.unreachable(PG_URL)


def require_postgres(reason: str | None) -> None:
    """Skip (or, in CI, fail) the calling test when `reason` says PostgreSQL is unusable."""
    if reason is None:
        return
    if os.environ.get("CI"):  # CI has PostgreSQL: not reaching it is a failure, not a skip
        pytest.fail(f"CI must reach PostgreSQL: {reason}")
    pytest.skip(reason)


WORKER_DATABASE = f"pw_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


@functools.cache
def worker_database_url() -> str:
    """This test process's own database on the server, created the first time a test needs it."""
    with _server() as server:
        server.execute(text(f'CREATE DATABASE "{WORKER_DATABASE}"'))
    return make_url(PG_URL).set(database=WORKER_DATABASE).render_as_string(hide_password=False)


def drop_worker_database() -> None:
    """At the end of the session: drop this process's database, if it made one."""
    if worker_database_url.cache_info().currsize == 0:
        return
    with _server() as server:
        server.execute(text(f'DROP DATABASE IF EXISTS "{WORKER_DATABASE}" WITH (FORCE)'))
    worker_database_url.cache_clear()


@contextmanager
def _server() -> Iterator[Connection]:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")  # CREATE/DROP DATABASE refuse a transaction
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


@contextmanager
def fresh_schema(prefix: str = "pw_test") -> Iterator[str]:
    """A database URL whose every connection works in a new, empty schema of this process's database, dropped
    afterwards."""
    with postgres.fresh_schema(worker_database_url(), prefix) as url:
        yield url
