"""PostgreSQL in tests: the server on 127.0.0.1:5432, one throwaway schema per test.

CI has PostgreSQL (`.ci/run` sets CI=true): not reaching it there fails the test. Elsewhere
a test that needs it is skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from store.db import make_engine

PG_URL = os.environ.get("PORTAL_WORKER_TEST_PG", "postgresql+psycopg://root@127.0.0.1:5432/test")


def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can."""
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed"
    probe = make_engine(PG_URL)
    try:
        with probe.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # noqa: BLE001 - any failure to connect means "not here"
        return f"PostgreSQL not reachable at {PG_URL}: {type(error).__name__}"
    finally:
        probe.dispose()
    return None


def require_postgres(reason: str | None) -> None:
    """Skip (or, in CI, fail) the calling test when `reason` says PostgreSQL is unusable."""
    if reason is None:
        return
    if os.environ.get("CI"):  # CI has PostgreSQL: not reaching it is a failure, not a skip
        pytest.fail(f"CI must reach PostgreSQL: {reason}")
    pytest.skip(reason)


@contextmanager
def fresh_schema(prefix: str = "pw_test") -> Iterator[str]:
    """A database URL whose every connection works in a new, empty schema, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
