"""Appeals followed from packet to decision, write-off amounts and reasons, and evidence kept as PDF.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 23:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("pdf_path", sa.String(), nullable=True))
    with op.batch_alter_table("denial") as batch:
        batch.add_column(sa.Column("write_off_amount", sa.Numeric(precision=12, scale=2), nullable=True))
        batch.add_column(sa.Column("write_off_reason", sa.String(), nullable=True))
    op.create_table(
        "appeal",
        sa.Column("appeal_id", sa.String(), nullable=False),
        sa.Column("denial_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(), nullable=True),
        sa.Column("payer_id", sa.String(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("level_name", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("portal", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("content_key", sa.String(), nullable=True),
        sa.Column("packet_path", sa.String(), nullable=True),
        sa.Column("disputed_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("intent_at", sa.DateTime(), nullable=True),
        sa.Column("confirmation_number", sa.String(), nullable=True),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.Column("refusal", sa.String(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("filed_at", sa.DateTime(), nullable=True),
        sa.Column("filed_by", sa.String(), nullable=True),
        sa.Column("response_due", sa.Date(), nullable=True),
        sa.Column("portal_status", sa.String(), nullable=True),
        sa.Column("status_checked_at", sa.DateTime(), nullable=True),
        sa.Column("decision", sa.String(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_source", sa.String(), nullable=True),
        sa.Column("amount_recovered", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("evidence_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["denial_id"], ["denial.id"]),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.PrimaryKeyConstraint("appeal_id"),
        sa.UniqueConstraint("content_key"),
    )
    for name in ("denial_id", "claim_id", "payer_id", "state", "confirmation_number", "decision"):
        op.create_index(op.f(f"ix_appeal_{name}"), "appeal", [name], unique=False)


def downgrade() -> None:
    for name in ("decision", "confirmation_number", "state", "payer_id", "claim_id", "denial_id"):
        op.drop_index(op.f(f"ix_appeal_{name}"), table_name="appeal")
    op.drop_table("appeal")
    with op.batch_alter_table("denial") as batch:
        batch.drop_column("write_off_reason")
        batch.drop_column("write_off_amount")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("pdf_path")
