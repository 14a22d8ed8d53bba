"""A PostgreSQL server as several installs (or test runs, or benchmark runs) share it: one schema each.

Every connection of a schema-scoped URL works in its own schema (`search_path`), so installs on
one server never see each other's tables; the scheduler lock is namespaced the same way.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from store.db import make_engine

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"  # the local server of a development machine


def unreachable(url: str) -> str | None:
    """Why PostgreSQL at `url` cannot be used here, or None when it can."""
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed"
    probe = make_engine(url)
    try:
        with probe.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # noqa: BLE001 - any failure to connect means "not here"
        return f"PostgreSQL not reachable at {url}: {type(error).__name__}"
    finally:
        probe.dispose()
    return None


def schema_url(database_url: str, schema: str) -> str:
    """`database_url`, with every connection working in `schema`."""
    return f"{database_url}?options=-csearch_path%3D{schema}"


@contextmanager
def fresh_schema(database_url: str, prefix: str) -> Iterator[str]:
    """A URL whose every connection works in a new, empty schema of `database_url`, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(database_url, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
