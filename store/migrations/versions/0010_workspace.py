"""The staff workspace: its users, their sessions, the audit log, and who a denial is assigned to.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_user",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_name", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("remote_addr", sa.String(), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_entry_at"), "audit_entry", ["at"], unique=False)
    op.create_index(op.f("ix_audit_entry_user_name"), "audit_entry", ["user_name"], unique=False)
    op.create_index(op.f("ix_audit_entry_action"), "audit_entry", ["action"], unique=False)
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("user_name", sa.String(), nullable=False),
        sa.Column("csrf_token", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("remote_addr", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["user_name"], ["staff_user.name"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_web_session_user_name"), "web_session", ["user_name"], unique=False)
    with op.batch_alter_table("denial", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_denial_assignee"), ["assignee"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("denial", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_denial_assignee"))
        batch_op.drop_column("assignee")
    op.drop_index(op.f("ix_web_session_user_name"), table_name="web_session")
    op.drop_table("web_session")
    op.drop_index(op.f("ix_audit_entry_action"), table_name="audit_entry")
    op.drop_index(op.f("ix_audit_entry_user_name"), table_name="audit_entry")
    op.drop_index(op.f("ix_audit_entry_at"), table_name="audit_entry")
    op.drop_table("audit_entry")
    op.drop_table("staff_user")
