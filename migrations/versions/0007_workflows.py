"""Job dependencies and workflows: the workflows table, and on each job the jobs it depends on,
those it still waits for, and its workflow.

Revision ID: 0007_workflows
Revises: 0006_email_digests
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_workflows"
down_revision = "0006_email_digests"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade():
    op.create_table(
        "workflows",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("user_id", UUID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("job_keys", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'")),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_workflows_user_created", "workflows", ["user_id", sa.text("created_at DESC")])
    op.create_index("ix_workflows_open", "workflows", ["created_at"], postgresql_where=sa.text("completed_at IS NULL"))
    # Nullable columns without a default: adding them rewrites nothing, however many jobs exist.
    op.add_column("jobs", sa.Column("depends_on", postgresql.ARRAY(UUID), nullable=True))
    op.add_column("jobs", sa.Column("blocked_by", postgresql.ARRAY(UUID), nullable=True))
    op.add_column(
        "jobs",
        sa.Column("workflow_id", UUID, sa.ForeignKey("workflows.id", ondelete="SET NULL"), nullable=True),
    )
    # The dependents of a job (release, cascade, retry) are found through this one, and only jobs
    # that have dependencies are in it.
    op.create_index(
        "ix_jobs_depends_on",
        "jobs",
        ["depends_on"],
        postgresql_using="gin",
        postgresql_where=sa.text("depends_on IS NOT NULL"),
    )
    op.create_index("ix_jobs_workflow", "jobs", ["workflow_id"], postgresql_where=sa.text("workflow_id IS NOT NULL"))
    # The dependency sweep looks only at jobs still waiting.
    op.create_index("ix_jobs_blocked", "jobs", ["created_at"], postgresql_where=sa.text("blocked_by IS NOT NULL"))


def downgrade():
    op.drop_index("ix_jobs_blocked", table_name="jobs")
    op.drop_index("ix_jobs_workflow", table_name="jobs")
    op.drop_index("ix_jobs_depends_on", table_name="jobs")
    op.drop_column("jobs", "workflow_id")
    op.drop_column("jobs", "blocked_by")
    op.drop_column("jobs", "depends_on")
    op.drop_table("workflows")
