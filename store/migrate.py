"""The schema's version: Alembic revisions in store/migrations, applied under a lock.

`upgrade` is what `create_schema` runs on every start: at head it costs one query, and Alembic is not
even imported (a command that reads the store starts without it). Revisions are numbered 0001, 0002, ...
in file names that start with the number, so the newest is known from the folder.
A new revision, after changing store/models.py: `python -m store.migrate revision "what changed"`.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import SQLModel

from store import models  # noqa: F401  (registers the tables)

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The schema portal-worker had before it had migrations: such a database has no alembic_version.
BASELINE = "0001"
# The first key of the two-key advisory lock that lets one host migrate at a time: "portal-worker
# migrate", as a 32-bit number; the second is the schema, so installs sharing a server never contend.
LOCK_NAMESPACE = 0x70774D47


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer portal-worker than this one."""


def head_revision() -> str:
    """The newest revision: the highest number among the revision files (a test holds it to Alembic's head)."""
    numbers = [path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    assert numbers, f"no revisions in {MIGRATIONS_DIR}"
    return max(numbers)


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database; None when none is (empty, or created before migrations)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to head; returns (revision before, head). Before is None for an empty database."""
    head = head_revision()
    if _recorded_revision(engine) == head:
        return head, head
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.begin() as connection:
        _lock(connection)
        context = MigrationContext.configure(connection)
        before = context.get_current_revision()  # read again under the lock: another worker may have done it
        if before == head:
            return before, head
        if before is not None and before not in _known_revisions():
            raise SchemaTooNew(
                f"The database's schema is at revision {before}, which this portal-worker does not know "
                f"(its newest is {head}): a newer portal-worker has migrated it. Upgrade portal-worker "
                "on this host; do not downgrade the database."
            )
        if before is None:
            if not set(inspect(connection).get_table_names()) & set(SQLModel.metadata.tables):
                # Empty: creating the tables directly is much faster than replaying every revision.
                SQLModel.metadata.create_all(connection)
                context.stamp(_scripts(), head)
                return None, head
            # Our tables without a recorded revision: made by create_all, before migrations existed.
            with warnings.catch_warnings():
                # SQLite cannot reflect the expression index on lower(patient_name) (0011); it is no difference
                warnings.filterwarnings("ignore", message=".*expression-based index")
                before = head if not compare_metadata(context, SQLModel.metadata) else BASELINE
            context.stamp(_scripts(), before)
        command.upgrade(_config(connection), "head")
    return before, head


def _recorded_revision(engine: Engine) -> str | None:
    """The one cheap query of a start at head; None sends the caller down the careful path."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):  # no alembic_version table (yet)
        return None


def _lock(connection: Connection) -> None:
    """PostgreSQL: one migrating host at a time, held until commit. SQLite's BEGIN IMMEDIATE already is."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, hashtext(current_schema()))"), {"namespace": LOCK_NAMESPACE}
        )


@cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def _known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection  # env.py migrates on it, inside its transaction
    return config


def write_revision(message: str) -> Path:
    """Autogenerate the next numbered revision: store/models.py compared with the schema at head."""
    from alembic import command

    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'head.db'}")
        try:
            with engine.begin() as connection:
                command.upgrade(_config(connection), "head")
                script = command.revision(
                    _config(connection), message, autogenerate=True, rev_id=f"{len(_known_revisions()) + 1:04d}"
                )
        finally:
            engine.dispose()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m store.migrate revision "what changed"')
    print(write_revision(sys.argv[2]))
