"""The schema is managed by Alembic: migrations build the models' schema, old databases upgrade in place."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, Date, DateTime, Integer, Numeric, String, column, insert, inspect, table, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from store import migrate
from store.db import create_schema, make_engine, session_scope
from store.models import Claim, PortalAccount
from tests import cli_support
from tests.cli_support import Ran
from tests.pg_support import fresh_schema, postgres_unreachable, require_postgres

DIALECTS = ["sqlite", "postgresql"]
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

# The two tables as the released version (revision 0001) wrote them: no `pauses` column yet.
RELEASED_ACCOUNT = table(
    "portal_account",
    column("portal", String),
    column("adapter", String),
    column("state", String),
    column("consecutive_failures", Integer),
    column("last_success_at", DateTime(timezone=True)),
    column("attention_since", DateTime(timezone=True)),
    column("rejected_credentials_stamp", String),
)
RELEASED_CLAIM = table(
    "claim",
    *(
        column(name, String)
        for name in ("claim_id", "payer_id", "member_id", "patient_name", "rendering_npi", "status")
    ),
    column("dos_from", Date),
    column("dos_to", Date),
    column("submitted_date", Date),
    column("billed_amount", Numeric(12, 2)),
    column("procedure_codes", JSON),
    column("imported_at", DateTime(timezone=True)),
    column("updated_at", DateTime(timezone=True)),
)


@pytest.fixture(params=DIALECTS)
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes URLs of new, empty databases of one dialect: SQLite files, or PostgreSQL schemas."""
    if request.param == "postgresql":
        require_postgres(postgres_unreachable())
    numbers = count(1)
    with ExitStack() as cleanup:

        def make() -> str:
            if request.param == "postgresql":
                return cleanup.enter_context(fresh_schema("pw_migrations"))
            return f"sqlite:///{tmp_path / f'database-{next(numbers)}.db'}"

        yield make


@pytest.fixture
def new_engine(new_database: Callable[[], str]) -> Iterator[Callable[[], Engine]]:
    engines: list[Engine] = []

    def make() -> Engine:
        engines.append(make_engine(new_database()))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


def migrate_with_alembic(engine: Engine, revision: str) -> None:
    """Replay the revisions up to `revision`, as Alembic alone would (no create_all shortcut)."""
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def differences_from_models(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        differences: list[Any] = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        return differences


def schema_of(engine: Engine) -> dict[str, dict[str, Any]]:
    """Tables, columns (type, nullable, server default), keys, indexes and unique constraints, as the
    database reports them."""
    with engine.connect() as connection:
        found = inspect(connection)
        return {
            name: {
                "columns": {
                    c["name"]: (
                        c["type"].compile(dialect=connection.dialect),
                        c["nullable"],
                        _default(c.get("default")),
                    )
                    for c in found.get_columns(name)
                },
                "primary_key": found.get_pk_constraint(name)["constrained_columns"],
                "foreign_keys": sorted(
                    (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                    for fk in found.get_foreign_keys(name)
                ),
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found.get_indexes(name)
                ),
                "unique": sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(name)),
            }
            for name in sorted(found.get_table_names())
        }


def _default(value: object) -> str | None:
    """A server default as both paths report it (SQLite may quote it, PostgreSQL may cast it)."""
    return None if value is None else str(value).strip("'\"").split("::")[0]


def write_released_rows(engine: Engine) -> None:
    """What a user of the released version has: an account and a claim."""
    with engine.begin() as connection:
        connection.execute(
            insert(RELEASED_ACCOUNT).values(
                portal="unity", adapter="unity_health", state="active", consecutive_failures=2, last_success_at=AT
            )
        )
        connection.execute(
            insert(RELEASED_ACCOUNT).values(  # its password was rejected: it waits for a person
                portal="lakeshore",
                adapter="lakeshore_medicaid",
                state="needs_attention",
                consecutive_failures=0,
                attention_since=AT,
                rejected_credentials_stamp="2026-11-01T08:00:00+00:00",
            )
        )
        connection.execute(
            insert(RELEASED_CLAIM).values(
                claim_id="CLM-1001",
                payer_id="UHP",
                member_id="M123",
                patient_name="Pat Example",
                rendering_npi="1234567893",
                status="pending",
                dos_from=date(2026, 10, 1),
                dos_to=date(2026, 10, 1),
                submitted_date=date(2026, 10, 3),
                billed_amount=Decimal("125.50"),
                procedure_codes=["99213"],
                imported_at=AT,
                updated_at=AT,
            )
        )


def assert_released_rows_kept(engine: Engine) -> None:
    with session_scope(engine) as session:
        account = session.get(PortalAccount, "unity")
        claim = session.get(Claim, "CLM-1001")
    assert account is not None and claim is not None
    assert (account.adapter, account.consecutive_failures, account.pauses) == ("unity_health", 2, 0)
    assert account.last_success_at == AT and account.credentials_rejected_at is None
    with session_scope(engine) as session:
        waiting = session.get(PortalAccount, "lakeshore")
    assert waiting is not None and waiting.state == "needs_attention"
    assert waiting.credentials_rejected_at == AT  # still waits: credentials stored before then are not tried
    assert (claim.status, claim.billed_amount, claim.procedure_codes) == ("pending", Decimal("125.50"), ["99213"])


def test_the_migrations_alone_build_the_models_schema(new_engine: Callable[[], Engine]) -> None:
    engine = new_engine()
    migrate_with_alembic(engine, "head")
    assert differences_from_models(engine) == []
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_creating_an_empty_database_directly_gives_the_migrations_schema(new_engine: Callable[[], Engine]) -> None:
    created, migrated = new_engine(), new_engine()
    assert migrate.upgrade(created) == (None, migrate.head_revision())
    migrate_with_alembic(migrated, "head")

    assert schema_of(created) == schema_of(migrated)
    assert "task" in schema_of(created) and "alembic_version" in schema_of(created)
    assert differences_from_models(created) == []
    assert migrate.current_revision(created) == migrate.current_revision(migrated) == migrate.head_revision()


def test_a_released_database_is_upgraded_and_keeps_its_rows(new_engine: Callable[[], Engine]) -> None:
    engine = new_engine()
    migrate_with_alembic(engine, migrate.BASELINE)
    write_released_rows(engine)
    assert migrate.current_revision(engine) == "0001"

    create_schema(engine)

    assert migrate.current_revision(engine) == migrate.head_revision()
    assert differences_from_models(engine) == []
    assert_released_rows_kept(engine)
    # A worker still on the released version inserts an account without knowing `pauses`.
    with engine.begin() as connection:
        connection.execute(
            insert(RELEASED_ACCOUNT).values(
                portal="summit", adapter="summit_exchange", state="active", consecutive_failures=0
            )
        )
    with session_scope(engine) as session:
        summit = session.get(PortalAccount, "summit")
        assert summit is not None and summit.pauses == 0


def test_workers_starting_at_once_upgrade_it_once(new_database: Callable[[], str]) -> None:
    url = new_database()
    engines = [make_engine(url) for _ in range(4)]
    try:
        migrate_with_alembic(engines[0], migrate.BASELINE)
        write_released_rows(engines[0])
        start = threading.Barrier(len(engines))

        def start_worker(engine: Engine) -> tuple[str | None, str]:
            start.wait()
            return migrate.upgrade(engine)

        with ThreadPoolExecutor(len(engines)) as pool:
            results = list(pool.map(start_worker, engines))

        head = migrate.head_revision()
        assert sorted(results, key=str) == [("0001", head)] + [(head, head)] * (len(engines) - 1)
        assert differences_from_models(engines[0]) == []
        assert_released_rows_kept(engines[0])
    finally:
        for engine in engines:
            engine.dispose()


def test_a_database_from_before_migrations_is_recognised_stamped_and_upgraded(new_engine: Callable[[], Engine]) -> None:
    engine = new_engine()
    migrate_with_alembic(engine, migrate.BASELINE)
    write_released_rows(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    assert migrate.current_revision(engine) is None

    assert migrate.upgrade(engine) == ("0001", migrate.head_revision())

    assert migrate.current_revision(engine) == migrate.head_revision()
    assert differences_from_models(engine) == []
    assert_released_rows_kept(engine)


def test_a_database_created_by_this_version_before_it_recorded_revisions_is_only_stamped(
    new_engine: Callable[[], Engine],
) -> None:
    engine = new_engine()
    SQLModel.metadata.create_all(engine)

    assert migrate.upgrade(engine) == (migrate.head_revision(), migrate.head_revision())
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_a_database_from_a_newer_portal_worker_is_refused(new_engine: Callable[[], Engine]) -> None:
    engine = new_engine()
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))

    with pytest.raises(migrate.SchemaTooNew, match=r"revision 0999.*Upgrade portal-worker"):
        create_schema(engine)
    assert migrate.current_revision(engine) == "0999"


def portal_worker(config: Path, *args: str) -> Ran:
    return cli_support.portal_worker(*args, env={"PORTAL_WORKER_CONFIG": str(config)})


def test_db_upgrade_and_db_current_on_the_command_line(new_database: Callable[[], str], tmp_path: Path) -> None:
    url, head = new_database(), migrate.head_revision()
    engine = make_engine(url)
    try:
        migrate_with_alembic(engine, migrate.BASELINE)
        write_released_rows(engine)
        config = tmp_path / "portal-worker.toml"
        config.write_text(
            f'[worker]\ndata_dir = "{tmp_path / "data"}"\n\n[database]\nurl = "{url}"\n\n'
            '[portals.unity]\nadapter = "unity_health"\nbase_url = "https://unity.example"\n'
            'payers = ["UHP"]\n'
        )

        before = portal_worker(config, "db", "current")
        assert before.returncode == 0, before.stderr
        assert before.stdout.strip() == f"0001 (this portal-worker's newest is {head})"

        upgraded = portal_worker(config, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        assert upgraded.stdout.strip() == f"Schema upgraded from 0001 to {head}."
        assert migrate.current_revision(engine) == head
        assert_released_rows_kept(engine)

        again = portal_worker(config, "db", "upgrade")
        assert again.stdout.strip() == f"Schema already at {head}."
        assert portal_worker(config, "db", "current").stdout.strip() == f"{head} (newest)"

        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
        refused = portal_worker(config, "db", "upgrade")
        assert refused.returncode == 2
        assert "0999" in refused.stderr and "Upgrade portal-worker" in refused.stderr
        assert "Traceback" not in refused.stderr
    finally:
        engine.dispose()


def test_the_newest_revision_file_is_alembics_head() -> None:
    """`upgrade` reads the head from the file names so that a start at head never imports Alembic."""
    assert migrate.head_revision() == migrate._scripts().get_current_head()
