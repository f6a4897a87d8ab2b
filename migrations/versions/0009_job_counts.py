"""Job counts: the totals of the jobs list without counting a user's jobs on every page.

`job_counts` is a ledger of deltas per (user, status, type), written by triggers on `jobs`: +n for
inserted rows, -n for deleted ones, -1/+1 for a status change. A total is the sum of a few rows,
whatever the number of jobs. Rows are only ever inserted by the triggers, so concurrent transitions
of one user's jobs never wait on a shared counter row; beat's sweep folds the deltas of each
(user, status, type) into one row now and then (app/jobs/counts.py).

Revision ID: 0009_job_counts
Revises: 0008_job_events
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_job_counts"
down_revision = "0008_job_events"
branch_labels = None
depends_on = None

# Inserts and deletes come in sets (a batch, a retention purge): one statement-level trigger each,
# reading the transition table. A status change is one row at a time; the WHEN clause keeps
# heartbeats and progress updates from calling anything.
TRIGGERS = """
CREATE FUNCTION job_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_counts (user_id, status, type, n)
    SELECT user_id, status, type, count(*) FROM inserted_jobs GROUP BY user_id, status, type;
    RETURN NULL;
END $$;

CREATE FUNCTION job_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_counts (user_id, status, type, n)
    SELECT user_id, status, type, -count(*) FROM deleted_jobs GROUP BY user_id, status, type;
    RETURN NULL;
END $$;

CREATE FUNCTION job_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_counts (user_id, status, type, n)
    VALUES (OLD.user_id, OLD.status, OLD.type, -1), (NEW.user_id, NEW.status, NEW.type, 1);
    RETURN NULL;
END $$;

CREATE FUNCTION job_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_counts;
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_counted_on_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS inserted_jobs FOR EACH STATEMENT EXECUTE FUNCTION job_counts_inserted();
CREATE TRIGGER jobs_counted_on_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS deleted_jobs FOR EACH STATEMENT EXECUTE FUNCTION job_counts_deleted();
CREATE TRIGGER jobs_counted_on_status AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION job_counts_moved();
CREATE TRIGGER jobs_counted_on_truncate AFTER TRUNCATE ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION job_counts_truncated();
"""

DROP_TRIGGERS = """
DROP TRIGGER jobs_counted_on_truncate ON jobs;
DROP TRIGGER jobs_counted_on_status ON jobs;
DROP TRIGGER jobs_counted_on_delete ON jobs;
DROP TRIGGER jobs_counted_on_insert ON jobs;
DROP FUNCTION job_counts_truncated();
DROP FUNCTION job_counts_moved();
DROP FUNCTION job_counts_deleted();
DROP FUNCTION job_counts_inserted();
"""


def upgrade():
    op.create_table(
        "job_counts",
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_job_counts_user_status_type", "job_counts", ["user_id", "status", "type"])
    # The jobs that exist already, in one lock: nothing may change them between backfill and triggers.
    op.execute("LOCK TABLE jobs IN SHARE MODE")
    op.execute(
        "INSERT INTO job_counts (user_id, status, type, n) "
        "SELECT user_id, status, type, count(*) FROM jobs GROUP BY user_id, status, type"
    )
    op.execute(TRIGGERS)


def downgrade():
    op.execute(DROP_TRIGGERS)
    op.drop_table("job_counts")
