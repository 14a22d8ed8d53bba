"""The schema released before migrations existed (commit 5e95934), as create_all made it.

Revision ID: 0001
Revises: -
Create Date: 2026-12-01 22:41:22.919331
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authorization",
        sa.Column("auth_number", sa.String(), nullable=False),
        sa.Column("payer_id", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("patient_name", sa.String(), nullable=False),
        sa.Column("servicing_npi", sa.String(), nullable=False),
        sa.Column("procedure_codes", sa.JSON(), nullable=False),
        sa.Column("units_approved", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("scheduled_date", sa.Date(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("portal_units_approved", sa.Integer(), nullable=True),
        sa.Column("units_used", sa.Integer(), nullable=True),
        sa.Column("portal_start", sa.Date(), nullable=True),
        sa.Column("portal_end", sa.Date(), nullable=True),
        sa.Column("portal_codes", sa.JSON(), nullable=False),
        sa.Column("denial_reason", sa.String(), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("auth_number"),
    )
    op.create_index(op.f("ix_authorization_payer_id"), "authorization", ["payer_id"], unique=False)
    op.create_index(op.f("ix_authorization_status"), "authorization", ["status"], unique=False)

    op.create_table(
        "check_run",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "claim",
        sa.Column("claim_id", sa.String(), nullable=False),
        sa.Column("payer_id", sa.String(), nullable=False),
        sa.Column("member_id", sa.String(), nullable=False),
        sa.Column("patient_name", sa.String(), nullable=False),
        sa.Column("dos_from", sa.Date(), nullable=False),
        sa.Column("dos_to", sa.Date(), nullable=False),
        sa.Column("billed_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("submitted_date", sa.Date(), nullable=False),
        sa.Column("rendering_npi", sa.String(), nullable=False),
        sa.Column("procedure_codes", sa.JSON(), nullable=False),
        sa.Column("prior_auth_number", sa.String(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("category_code", sa.String(), nullable=True),
        sa.Column("status_text", sa.String(), nullable=True),
        sa.Column("payer_claim_number", sa.String(), nullable=True),
        sa.Column("paid_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    op.create_index(op.f("ix_claim_payer_id"), "claim", ["payer_id"], unique=False)
    op.create_index(op.f("ix_claim_status"), "claim", ["status"], unique=False)

    op.create_table(
        "enrollment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("npi", sa.String(), nullable=False),
        sa.Column("payer_id", sa.String(), nullable=False),
        sa.Column("portal", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=True),
        sa.Column("termination", sa.Date(), nullable=True),
        sa.Column("revalidation_due", sa.Date(), nullable=True),
        sa.Column("payer_provider_id", sa.String(), nullable=True),
        sa.Column("era_enrolled", sa.Boolean(), nullable=True),
        sa.Column("eft_enrolled", sa.Boolean(), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("npi", "payer_id"),
    )
    op.create_index(op.f("ix_enrollment_npi"), "enrollment", ["npi"], unique=False)

    op.create_table(
        "enrollment_observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("npi", sa.String(), nullable=False),
        sa.Column("payer_id", sa.String(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("portal", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=True),
        sa.Column("termination", sa.Date(), nullable=True),
        sa.Column("revalidation_due", sa.Date(), nullable=True),
        sa.Column("payer_provider_id", sa.String(), nullable=True),
        sa.Column("era_enrolled", sa.Boolean(), nullable=True),
        sa.Column("eft_enrolled", sa.Boolean(), nullable=True),
        sa.Column("changes", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_enrollment_observation_npi"), "enrollment_observation", ["npi"], unique=False)

    op.create_table(
        "era_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("file_id", sa.String(), nullable=False),
        sa.Column("trace_number", sa.String(), nullable=True),
        sa.Column("payment_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("unmatched_claims", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("portal", sa.String(), nullable=False),
        sa.Column("claim_id", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("screenshot_path", sa.String(), nullable=True),
        sa.Column("html_path", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("payer_id", sa.String(), nullable=True),
        sa.Column("message", sa.String(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("amount_at_risk", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("claims_at_risk", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index(op.f("ix_finding_kind"), "finding", ["kind"], unique=False)
    op.create_index(op.f("ix_finding_status"), "finding", ["status"], unique=False)

    op.create_table(
        "portal_account",
        sa.Column("portal", sa.String(), nullable=False),
        sa.Column("adapter", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attention_reason", sa.String(), nullable=True),
        sa.Column("attention_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_credentials_stamp", sa.String(), nullable=True),
        sa.Column("unavailable_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("portal"),
    )
    op.create_table(
        "provider",
        sa.Column("npi", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("caqh_attested_date", sa.Date(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("npi"),
    )
    op.create_table(
        "authorization_observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auth_number", sa.String(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("portal", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("units_approved", sa.Integer(), nullable=True),
        sa.Column("units_used", sa.Integer(), nullable=True),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("procedure_codes", sa.JSON(), nullable=False),
        sa.Column("denial_reason", sa.String(), nullable=True),
        sa.Column("changes", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["auth_number"],
            ["authorization.auth_number"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_authorization_observation_auth_number"), "authorization_observation", ["auth_number"], unique=False
    )

    op.create_table(
        "claim_status_observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("portal", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("category_code", sa.String(), nullable=True),
        sa.Column("status_code", sa.String(), nullable=True),
        sa.Column("status_text", sa.String(), nullable=True),
        sa.Column("status_date", sa.Date(), nullable=True),
        sa.Column("payer_claim_number", sa.String(), nullable=True),
        sa.Column("billed_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("allowed_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("paid_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("check_number", sa.String(), nullable=True),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("adjustments", sa.JSON(), nullable=False),
        sa.Column("changes", sa.String(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.claim_id"],
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_claim_status_observation_claim_id"), "claim_status_observation", ["claim_id"], unique=False
    )

    op.create_table(
        "denial",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("claim_id", sa.String(), nullable=True),
        sa.Column("reported_claim_id", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("source_ref", sa.String(), nullable=False),
        sa.Column("payer_id", sa.String(), nullable=True),
        sa.Column("payer_claim_number", sa.String(), nullable=True),
        sa.Column("group_code", sa.String(), nullable=False),
        sa.Column("carc", sa.String(), nullable=False),
        sa.Column("rarcs", sa.JSON(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("line_procedure", sa.String(), nullable=True),
        sa.Column("denial_date", sa.Date(), nullable=True),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("bill_patient", sa.Boolean(), nullable=False),
        sa.Column("appealable", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("resolution", sa.String(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.claim_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )
    op.create_index(op.f("ix_denial_claim_id"), "denial", ["claim_id"], unique=False)
    op.create_index(op.f("ix_denial_status"), "denial", ["status"], unique=False)

    op.create_table(
        "era_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("era_file_id", sa.Integer(), nullable=False),
        sa.Column("reported_claim_id", sa.String(), nullable=False),
        sa.Column("claim_id", sa.String(), nullable=True),
        sa.Column("status_code", sa.String(), nullable=False),
        sa.Column("billed", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("patient_responsibility", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("payer_claim_number", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.claim_id"],
        ),
        sa.ForeignKeyConstraint(
            ["era_file_id"],
            ["era_file.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_era_claim_era_file_id"), "era_claim", ["era_file_id"], unique=False)
    op.create_index(op.f("ix_era_claim_reported_claim_id"), "era_claim", ["reported_claim_id"], unique=False)

    op.create_table(
        "denial_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("denial_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["denial_id"],
            ["denial.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_denial_event_denial_id"), "denial_event", ["denial_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_denial_event_denial_id"), table_name="denial_event")

    op.drop_table("denial_event")
    op.drop_index(op.f("ix_era_claim_reported_claim_id"), table_name="era_claim")
    op.drop_index(op.f("ix_era_claim_era_file_id"), table_name="era_claim")

    op.drop_table("era_claim")
    op.drop_index(op.f("ix_denial_status"), table_name="denial")
    op.drop_index(op.f("ix_denial_claim_id"), table_name="denial")

    op.drop_table("denial")
    op.drop_index(op.f("ix_claim_status_observation_claim_id"), table_name="claim_status_observation")

    op.drop_table("claim_status_observation")
    op.drop_index(op.f("ix_authorization_observation_auth_number"), table_name="authorization_observation")

    op.drop_table("authorization_observation")
    op.drop_table("provider")
    op.drop_table("portal_account")
    op.drop_index(op.f("ix_finding_status"), table_name="finding")
    op.drop_index(op.f("ix_finding_kind"), table_name="finding")

    op.drop_table("finding")
    op.drop_table("evidence")
    op.drop_table("era_file")
    op.drop_index(op.f("ix_enrollment_observation_npi"), table_name="enrollment_observation")

    op.drop_table("enrollment_observation")
    op.drop_index(op.f("ix_enrollment_npi"), table_name="enrollment")

    op.drop_table("enrollment")
    op.drop_index(op.f("ix_claim_status"), table_name="claim")
    op.drop_index(op.f("ix_claim_payer_id"), table_name="claim")

    op.drop_table("claim")
    op.drop_table("check_run")
    op.drop_index(op.f("ix_authorization_status"), table_name="authorization")
    op.drop_index(op.f("ix_authorization_payer_id"), table_name="authorization")

    op.drop_table("authorization")
