"""Schedules: cron in a time zone that creates jobs; jobs point back at their schedule and tick.

Revision ID: 0004_schedules
Revises: 0003
Create Date: 2026-12-01

`jobs.schedule_id` is set to null when its schedule is deleted (the job finishes and stays);
`(schedule_id, scheduled_for)` is unique so that a tick creates at most one job.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_schedules"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "schedules",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("options", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("cron", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index("ix_schedules_due", "schedules", ["next_run_at"], postgresql_where=sa.text("enabled"))
    op.create_index("ix_schedules_user_created", "schedules", ["user_id", sa.literal_column("created_at DESC")])
    op.add_column(
        "jobs",
        sa.Column(
            "schedule_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("schedules.id", name="fk_jobs_schedule", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.add_column("jobs", sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True))
    op.create_index("uq_jobs_schedule_tick", "jobs", ["schedule_id", "scheduled_for"], unique=True)
    op.create_index(
        "ix_jobs_schedule_created",
        "jobs",
        ["schedule_id", sa.literal_column("created_at DESC")],
        postgresql_where=sa.text("schedule_id IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_jobs_schedule_created", table_name="jobs")
    op.drop_index("uq_jobs_schedule_tick", table_name="jobs")
    op.drop_column("jobs", "scheduled_for")
    op.drop_column("jobs", "schedule_id")
    op.drop_index("ix_schedules_user_created", table_name="schedules")
    op.drop_index("ix_schedules_due", table_name="schedules")
    op.drop_table("schedules")
