"""ERA balancing warnings, PLB provider adjustments, and each ERA claim's filing indicator and service dates.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 01:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("era_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("era_claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filing_indicator", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("service_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("service_to", sa.Date(), nullable=True))
    op.create_table(
        "era_provider_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("era_file_id", sa.Integer(), nullable=False),
        sa.Column("trace_number", sa.String(), nullable=False),
        sa.Column("provider_id", sa.String(), nullable=False),
        sa.Column("fiscal_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["era_file_id"], ["era_file.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_era_provider_adjustment_era_file_id"), "era_provider_adjustment", ["era_file_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_era_provider_adjustment_era_file_id"), table_name="era_provider_adjustment")
    op.drop_table("era_provider_adjustment")
    with op.batch_alter_table("era_claim", schema=None) as batch_op:
        batch_op.drop_column("service_to")
        batch_op.drop_column("service_from")
        batch_op.drop_column("filing_indicator")
    with op.batch_alter_table("era_file", schema=None) as batch_op:
        batch_op.drop_column("warnings")
