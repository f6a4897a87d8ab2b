"""Jobs list order: the user's index carries the list's whole sort key (created_at DESC, id DESC).

With only `created_at` in the index the planner must add an incremental sort, and for a user with
many jobs it prices that above a parallel scan of the whole table with a top-N sort: 89 ms for page
1 of 200,000 jobs instead of an index scan that stops after 20 rows.

Revision ID: 0011_jobs_list_order
Revises: 0010_batches
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_jobs_list_order"
down_revision = "0010_batches"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_jobs_user_created_id",
        "jobs",
        ["user_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
    )
    op.drop_index("ix_jobs_user_created", table_name="jobs")


def downgrade():
    op.create_index("ix_jobs_user_created", "jobs", ["user_id", sa.literal_column("created_at DESC")])
    op.drop_index("ix_jobs_user_created_id", table_name="jobs")
