"""The time of a rejected login, compared with every host's credentials instead of one host's stamp.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("portal_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credentials_rejected_at", sa.DateTime(timezone=True), nullable=True))
    # An account waiting for a person keeps waiting: its rejection happened when it started to wait.
    op.execute(
        "UPDATE portal_account SET credentials_rejected_at = attention_since "
        "WHERE state = 'needs_attention' AND rejected_credentials_stamp IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("portal_account", schema=None) as batch_op:
        batch_op.drop_column("credentials_rejected_at")
