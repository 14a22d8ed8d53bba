"""Before the visit: the practice's appointments, and what each payer's portal answered about their coverage.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment",
        sa.Column("appointment_id", sa.String(), nullable=False),
        sa.Column("appointment_date", sa.Date(), nullable=False),
        sa.Column("appointment_time", sa.Time(), nullable=False),
        sa.Column("patient_name", sa.String(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("payer_id", sa.String(), nullable=False),
        sa.Column("rendering_npi", sa.String(), nullable=False),
        sa.Column("procedure_codes", sa.JSON(), nullable=False),
        sa.Column("auth_number", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("appointment_id"),
    )
    op.create_index(op.f("ix_appointment_appointment_date"), "appointment", ["appointment_date"], unique=False)
    op.create_index(op.f("ix_appointment_payer_id"), "appointment", ["payer_id"], unique=False)
    op.create_index(op.f("ix_appointment_status"), "appointment", ["status"], unique=False)
    op.create_table(
        "eligibility_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.String(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("portal", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("payer_id", sa.String(), nullable=False),
        sa.Column("coverage", sa.String(), nullable=False),
        sa.Column("portal_words", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=True),
        sa.Column("plan_name", sa.String(), nullable=True),
        sa.Column("coverage_start", sa.Date(), nullable=True),
        sa.Column("coverage_end", sa.Date(), nullable=True),
        sa.Column("new_payer_id", sa.String(), nullable=True),
        sa.Column("new_member_id", sa.String(), nullable=True),
        sa.Column("other_insurance_primary", sa.String(), nullable=True),
        sa.Column("auth_required_codes", sa.JSON(), nullable=False),
        sa.Column("in_network", sa.Boolean(), nullable=True),
        sa.Column("deductible", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("deductible_met", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("coinsurance_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("copay", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("evidence_id", sa.Integer(), nullable=True),
        sa.Column("pdf_path", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.appointment_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id", "checked_on"),
    )
    op.create_index(op.f("ix_eligibility_check_appointment_id"), "eligibility_check", ["appointment_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_eligibility_check_appointment_id"), table_name="eligibility_check")
    op.drop_table("eligibility_check")
    op.drop_index(op.f("ix_appointment_status"), table_name="appointment")
    op.drop_index(op.f("ix_appointment_payer_id"), table_name="appointment")
    op.drop_index(op.f("ix_appointment_appointment_date"), table_name="appointment")
    op.drop_table("appointment")
