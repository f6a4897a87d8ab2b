"""Job events: the history of a job's attempts, progress and outcomes.

Revision ID: 0008_job_events
Revises: 0007_workflows
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_job_events"
down_revision = "0007_workflows"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "job_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("progress", postgresql.JSONB),
        sa.Column("error", sa.Text),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("clock_timestamp()")
        ),
    )
    op.create_index("ix_job_events_job", "job_events", ["job_id", "id"])


def downgrade():
    op.drop_index("ix_job_events_job", table_name="job_events")
    op.drop_table("job_events")
