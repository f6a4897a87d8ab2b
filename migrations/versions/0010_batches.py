"""Batches: the batches table, each job's batch, and idempotency keys that name a batch.

Revision ID: 0010_batches
Revises: 0009_job_counts
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_batches"
down_revision = "0009_job_counts"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade():
    op.create_table(
        "batches",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("user_id", UUID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("remaining", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_batches_user_created", "batches", ["user_id", sa.text("created_at DESC")])
    op.create_index("ix_batches_open", "batches", ["created_at"], postgresql_where=sa.text("completed_at IS NULL"))
    # Nullable without a default: adding it rewrites nothing, however many jobs exist. SET NULL:
    # the batch row only serves the batch's announcement; its loss must never delete jobs.
    op.add_column(
        "jobs",
        sa.Column(
            "batch_id",
            UUID,
            sa.ForeignKey("batches.id", name="fk_jobs_batch_id_batches", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    # The batchId filter (newest first) and the batch's recount; only batch jobs are in it.
    op.create_index(
        "ix_jobs_batch_created",
        "jobs",
        ["batch_id", sa.text("created_at DESC")],
        postgresql_where=sa.text("batch_id IS NOT NULL"),
    )
    # An Idempotency-Key names the job or the batch its request created, exactly one of them.
    op.alter_column("idempotency_keys", "job_id", existing_type=UUID, nullable=True)
    op.add_column(
        "idempotency_keys",
        sa.Column(
            "batch_id",
            UUID,
            sa.ForeignKey("batches.id", name="fk_idempotency_keys_batch_id_batches", ondelete="CASCADE"),
            nullable=True,
        ),
    )
    op.create_check_constraint(
        op.f("ck_idempotency_keys_one_target"), "idempotency_keys", "(job_id IS NULL) <> (batch_id IS NULL)"
    )


def downgrade():
    op.execute("DELETE FROM idempotency_keys WHERE batch_id IS NOT NULL")
    op.drop_constraint(op.f("ck_idempotency_keys_one_target"), "idempotency_keys", type_="check")
    op.drop_column("idempotency_keys", "batch_id")
    op.alter_column("idempotency_keys", "job_id", existing_type=UUID, nullable=False)
    op.drop_index("ix_jobs_batch_created", table_name="jobs")
    op.drop_column("jobs", "batch_id")
    op.drop_table("batches")
