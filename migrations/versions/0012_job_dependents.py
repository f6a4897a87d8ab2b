"""Job dependents: whether any job depends on this one, so that a completion releases dependents
only when there may be some.

Every completion ran the release of its dependents, a statement that nearly always changed
nothing. The flag is set when a dependent is created (under the row lock that orders it with the
completion), and never cleared: true means "there may be dependents", which is always safe.

Revision ID: 0012_job_dependents
Revises: 0011_jobs_list_order
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_job_dependents"
down_revision = "0011_jobs_list_order"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("jobs", sa.Column("has_dependents", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE jobs SET has_dependents = true "
        "WHERE id IN (SELECT DISTINCT unnest(depends_on) FROM jobs WHERE depends_on IS NOT NULL)"
    )


def downgrade():
    op.drop_column("jobs", "has_dependents")
