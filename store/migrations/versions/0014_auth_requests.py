"""Prior-authorization requests the worker submits on the payers' portals, with the state that makes it once.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_request",
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("payer_id", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("servicing_npi", sa.String(), nullable=False),
        sa.Column("procedure_codes", sa.JSON(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("diagnosis_codes", sa.JSON(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("content_key", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("intent_at", sa.DateTime(), nullable=True),
        sa.Column("reference_number", sa.String(), nullable=True),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.Column("refusal", sa.String(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("queued_by", sa.String(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
        sa.UniqueConstraint("content_key"),
    )
    op.create_index(op.f("ix_auth_request_payer_id"), "auth_request", ["payer_id"], unique=False)
    op.create_index(op.f("ix_auth_request_state"), "auth_request", ["state"], unique=False)
    op.create_index(op.f("ix_auth_request_reference_number"), "auth_request", ["reference_number"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_auth_request_reference_number"), table_name="auth_request")
    op.drop_index(op.f("ix_auth_request_state"), table_name="auth_request")
    op.drop_index(op.f("ix_auth_request_payer_id"), table_name="auth_request")
    op.drop_table("auth_request")
