"""Partial job indexes: the indexes on jobs hold only the rows their queries look for.

Every transition writes a new version of a job's row, and every version goes into each index whose
rows it belongs to. Two indexes held every job although their queries never look for most:

- `ix_jobs_status` (status): five values over the whole table, its entries nearly all completed
  jobs, which no query finds by status. It becomes `ix_jobs_status_open` (status, type) over the
  jobs that are not completed: the waiting ones (health, the queue gauges, the lost-job and
  lost-message sweeps) and the failed and cancelled ones (the admin's list filtered by them).
- `uq_jobs_schedule_tick` (schedule_id, scheduled_for): NULLs never conflict, so the jobs of no
  schedule (most of them) only made it bigger. It now holds the jobs of schedules alone.

A completed job's last version now goes into neither, and a job of no schedule never into the
second: 4 of the 12 index entries a job's three versions wrote.

Revision ID: 0013_partial_job_indexes
Revises: 0012_job_dependents
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_partial_job_indexes"
down_revision = "0012_job_dependents"
branch_labels = None
depends_on = None

OPEN = sa.text("status <> 'completed'")
OF_A_SCHEDULE = sa.text("schedule_id IS NOT NULL")


def upgrade():
    op.create_index("ix_jobs_status_open", "jobs", ["status", "type"], postgresql_where=OPEN)
    op.drop_index("ix_jobs_status", table_name="jobs")
    op.drop_index("uq_jobs_schedule_tick", table_name="jobs")
    op.create_index(
        "uq_jobs_schedule_tick", "jobs", ["schedule_id", "scheduled_for"], unique=True, postgresql_where=OF_A_SCHEDULE
    )


def downgrade():
    op.drop_index("uq_jobs_schedule_tick", table_name="jobs")
    op.create_index("uq_jobs_schedule_tick", "jobs", ["schedule_id", "scheduled_for"], unique=True)
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.drop_index("ix_jobs_status_open", table_name="jobs")
