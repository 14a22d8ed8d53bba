"""Revision 0008: stored denial keys rewritten from normalised identifiers, duplicates merged with their
history, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, Numeric, String, column, insert, select, table
from sqlalchemy.engine import Engine

from flows.denials import DenialReport, fingerprint
from portals.types import Adjustment
from tests.test_migrations import migrate_with_alembic, new_database, new_engine  # noqa: F401  (fixtures)

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
DENIAL = table(
    "denial",
    *(column(n, Integer) for n in ("id",)),
    *(
        column(n, String)
        for n in (
            "fingerprint",
            "reported_claim_id",
            "source",
            "source_ref",
            "payer_id",
            "payer_claim_number",
            "group_code",
            "carc",
            "line_procedure",
            "category",
            "owner",
            "kind",
            "status",
            "resolution",
        )
    ),
    column("rarcs", JSON),
    column("amount", Numeric(12, 2)),
    column("bill_patient", Boolean),
    column("appealable", Boolean),
    *(column(n, DateTime(timezone=True)) for n in ("first_seen_at", "last_seen_at", "resolved_at")),
)
EVENT = table(
    "denial_event",
    column("id", Integer),
    column("denial_id", Integer),
    column("at", DateTime(timezone=True)),
    column("actor", String),
    column("status", String),
    column("note", String),
)


def denial(
    id_: int, claim: str, number: str, *, carc: str = "50", status: str = "open", days: int = 0
) -> dict[str, Any]:
    return {
        "id": id_,
        "fingerprint": f"{claim}|{number}|CO|{carc}|99213|1",  # as keys were built before 0008
        "reported_claim_id": claim,
        "source": "portal",
        "source_ref": "summit",
        "payer_id": "NWM",
        "payer_claim_number": number,
        "group_code": "CO",
        "carc": carc,
        "line_procedure": "99213",
        "category": "medical_necessity",
        "owner": "billing",
        "kind": "soft",
        "status": status,
        "resolution": None,
        "rarcs": [],
        "amount": Decimal("97.25"),
        "bill_patient": False,
        "appealable": True,
        "first_seen_at": AT + timedelta(days=days),
        "last_seen_at": AT + timedelta(days=days + 1),
        "resolved_at": None,
    }


def event(denial_id: int, actor: str, status: str, days: int) -> dict[str, Any]:
    return {"denial_id": denial_id, "at": AT + timedelta(days=days), "actor": actor, "status": status, "note": None}


def seeded(new_engine: Callable[[], Engine]) -> Engine:  # noqa: F811
    engine = new_engine()
    migrate_with_alembic(engine, "0006")
    with engine.begin() as connection:
        connection.execute(
            insert(DENIAL),
            [
                denial(1, "PC1001", "NWM44134036573"),
                denial(2, "PC1001", "NWM-4413-4036573", status="appealed", days=3),  # opened again, then appealed
                denial(3, "pc1001", "nwm 4413 4036573", days=5),
                denial(4, "PC1001", "NWM44134036573", carc="16"),  # another denial of the same claim
                denial(5, "pc-2002", "LSM-0001", status="resolved"),  # alone: only its key changes
            ],
        )
        connection.execute(
            insert(EVENT),
            [
                event(1, "worker", "open", 0),
                event(2, "worker", "open", 3),
                event(2, "staff", "appealed", 4),  # staff worked the duplicate
                event(3, "worker", "open", 5),
                event(4, "worker", "open", 0),
                event(5, "worker", "open", 0),
                event(5, "worker", "resolved", 2),
            ],
        )
    return engine


def test_denials_opened_twice_for_one_claim_are_merged_keeping_every_event_and_the_staff_decision(
    new_engine: Callable[[], Engine],  # noqa: F811
) -> None:
    engine = seeded(new_engine)

    migrate_with_alembic(engine, "0008")

    with engine.connect() as connection:
        rows = {r.id: r for r in connection.execute(select(DENIAL))}
        events = list(connection.execute(select(EVENT).order_by(EVENT.c.id)))
    assert sorted(rows) == [1, 4, 5]
    assert rows[1].fingerprint == "PC1001|NWM44134036573|CO|50|99213|1"
    assert rows[4].fingerprint == "PC1001|NWM44134036573|CO|16|99213|1"
    assert rows[5].fingerprint == "PC2002|LSM0001|CO|50|99213|1" and rows[5].status == "resolved"
    assert rows[1].status == "appealed"  # what staff did on the duplicate stands on the one denial
    assert rows[1].first_seen_at.replace(tzinfo=UTC) == AT
    assert rows[1].last_seen_at.replace(tzinfo=UTC) == AT + timedelta(days=6)
    kept = [(e.actor, e.status) for e in events if e.denial_id == 1]
    assert kept[:4] == [("worker", "open"), ("worker", "open"), ("staff", "appealed"), ("worker", "open")]
    assert len(events) == 8 and "merged duplicate denial(s) #2, #3" in (events[-1].note or "")
    assert {e.denial_id for e in events} == {1, 4, 5}


def test_migrated_keys_are_the_keys_the_worker_builds_now(new_engine: Callable[[], Engine]) -> None:  # noqa: F811
    engine = seeded(new_engine)
    migrate_with_alembic(engine, "0008")
    report = DenialReport("PC1001", "PC1001", "NWM", "NWM-4413-4036573", None, (), "portal", "summit")
    now_built = fingerprint(report, Adjustment("CO", "50", Decimal("97.25"), line_procedure="99213"), 1)
    with engine.connect() as connection:
        assert connection.execute(select(DENIAL.c.id).where(DENIAL.c.fingerprint == now_built)).scalar() == 1


def test_a_database_without_denials_upgrades_untouched(new_engine: Callable[[], Engine]) -> None:  # noqa: F811
    engine = new_engine()
    migrate_with_alembic(engine, "0008")
    with engine.connect() as connection:
        assert connection.execute(select(DENIAL)).all() == []
