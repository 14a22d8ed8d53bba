"""Indexes for the workspace's search, claim page, worklist and Today page (measured with bench/web.py).

Search finds a claim by member id, payer claim number (the claim's own and every observation's),
check or EFT number (observations and ERA files) and patient name from its start, case-insensitively;
Today counts the denials first seen since yesterday.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, table, column): the plain one-column indexes, named as the models' index=True names them
COLUMN_INDEXES = (
    ("ix_claim_member_id", "claim", "member_id"),
    ("ix_claim_payer_claim_number", "claim", "payer_claim_number"),
    ("ix_claim_status_observation_payer_claim_number", "claim_status_observation", "payer_claim_number"),
    ("ix_claim_status_observation_check_number", "claim_status_observation", "check_number"),
    ("ix_denial_first_seen_at", "denial", "first_seen_at"),
    ("ix_era_file_trace_number", "era_file", "trace_number"),
    ("ix_era_claim_payer_claim_number", "era_claim", "payer_claim_number"),
)


def upgrade() -> None:
    for name, table, column in COLUMN_INDEXES:
        op.create_index(name, table, [column], unique=False)
    op.create_index("ix_claim_patient_name_lower", "claim", [sa.text("lower(patient_name)")], unique=False)


def downgrade() -> None:
    op.drop_index("ix_claim_patient_name_lower", table_name="claim")
    for name, table, _column in reversed(COLUMN_INDEXES):
        op.drop_index(name, table_name=table)
