"""Who acknowledged or snoozed an alert, on the alert itself: the workspace and `alerts --all` show it.

Alerts acknowledged before this keep no name (the workspace's audit log has the ones it acknowledged).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_by")
