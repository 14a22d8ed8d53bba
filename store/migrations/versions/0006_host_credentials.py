"""When each install's keyring last had credentials stored, so `status` can show it without the key.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "host_credentials",
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("portal", sa.String(), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("holder", "portal"),
    )


def downgrade() -> None:
    op.drop_table("host_credentials")
