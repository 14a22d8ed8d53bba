"""A claim's page kept on first sight as an MHTML archive, printed into its PDF and screenshot when the worker is idle.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("archive_path", sa.String(), nullable=True))
        batch.add_column(sa.Column("print_attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("print_attempts")
        batch.drop_column("archive_path")
