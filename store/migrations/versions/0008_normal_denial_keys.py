"""Denial keys from identifiers in their normal form; denials opened twice for one claim merged.

A payer claim number printed with separators (`NWM-4413-4036573`) once opened a second denial for
a claim whose denial was already open under `NWM44134036573`. Keys are now built from the
identifiers without case, spaces or separators; this revision rewrites the stored keys the same
way and merges the rows that turn out to be one denial: the oldest row stays, every event of the
others moves to it (nothing of the appeal trail is lost), a staff decision on a duplicate is kept,
and the merge itself is an event. Data only; a downgrade leaves the normalised keys as they are.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 01:30:00
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DENIAL = sa.table(
    "denial",
    sa.column("id", sa.Integer),
    sa.column("fingerprint", sa.String),
    sa.column("reported_claim_id", sa.String),
    sa.column("payer_claim_number", sa.String),
    sa.column("status", sa.String),
    sa.column("resolution", sa.String),
    sa.column("first_seen_at", sa.DateTime(timezone=True)),
    sa.column("last_seen_at", sa.DateTime(timezone=True)),
    sa.column("resolved_at", sa.DateTime(timezone=True)),
)
EVENT = sa.table(
    "denial_event",
    sa.column("id", sa.Integer),
    sa.column("denial_id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("status", sa.String),
    sa.column("note", sa.String),
)


def normal_id(value: str) -> str:
    """As portals/identifiers.py had it when this revision was written (a revision never changes)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isalnum()).upper()


def normal_key(row: Any) -> str:
    """claim|payer claim number|group|CARC|line|ordinal, with the two identifiers in their normal form."""
    tail = row.fingerprint.rsplit("|", 4)[1:]
    return "|".join([normal_id(row.reported_claim_id), normal_id(row.payer_claim_number or ""), *tail])


def upgrade() -> None:
    bind = op.get_bind()
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in bind.execute(sa.select(DENIAL).order_by(DENIAL.c.first_seen_at, DENIAL.c.id)):
        groups[normal_key(row)].append(row)
    for key, rows in groups.items():
        keeper, duplicates = rows[0], rows[1:]
        if duplicates:
            _merge(bind, keeper, duplicates)
        if keeper.fingerprint != key:
            bind.execute(sa.update(DENIAL).where(DENIAL.c.id == keeper.id).values(fingerprint=key))


def _merge(bind: sa.engine.Connection, keeper: Any, duplicates: list[Any]) -> None:
    rows, ids = [keeper, *duplicates], [d.id for d in duplicates]
    values: dict[str, Any] = {"last_seen_at": max(r.last_seen_at for r in rows)}
    decided = bind.execute(
        sa.select(EVENT.c.denial_id)
        .where(EVENT.c.denial_id.in_([r.id for r in rows]), EVENT.c.actor == "staff")
        .order_by(EVENT.c.at.desc(), EVENT.c.id.desc())
        .limit(1)
    ).scalar()
    if decided is not None:  # what a person last decided, on whichever row, stands
        source = next(r for r in rows if r.id == decided)
        values |= {"status": source.status, "resolution": source.resolution, "resolved_at": source.resolved_at}
    bind.execute(sa.update(EVENT).where(EVENT.c.denial_id.in_(ids)).values(denial_id=keeper.id))
    bind.execute(sa.delete(DENIAL).where(DENIAL.c.id.in_(ids)))
    bind.execute(sa.update(DENIAL).where(DENIAL.c.id == keeper.id).values(**values))
    bind.execute(
        sa.insert(EVENT).values(
            denial_id=keeper.id,
            at=datetime.now(UTC),
            actor="worker",
            status=values.get("status", keeper.status),
            note=f"merged duplicate denial(s) {', '.join(f'#{i}' for i in ids)}: the same claim and payer "
            "claim number, printed another way",
        )
    )


def downgrade() -> None:
    """Nothing to undo that can be undone: the keys stay normalised, the merged rows stay merged."""
