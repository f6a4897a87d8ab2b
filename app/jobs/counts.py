"""How many jobs a list has, read from the `job_counts` ledger instead of counting the jobs.

Counting a user's 200,000 jobs for the `total` of every page costs more than the page itself.
Triggers on `jobs` (migration 0009) write a delta row per change to `job_counts` in the same
transaction as the change, so a total read here is exactly what `count(*)` would say in the same
snapshot. Filters the ledger does not key on (workflow, schedule, batch: small sets with their own
indexes) are counted the plain way by the caller.

The ledger only grows between folds: `fold()`, run by beat's loop, replaces the rows of each
(user, status, type) that has several by their sum, in one statement.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Select, String, Table, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import BIGINT, UUID

from app.extensions import db

job_counts = Table(
    "job_counts",
    MetaData(),
    Column("user_id", UUID(as_uuid=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("type", String(50), nullable=False),
    Column("n", BIGINT, nullable=False),
)

FOLD_GROUPS = 1000  # (user, status, type) groups folded per run: one short statement

# Groups with more than one row, their rows deleted and put back as one: sums are unchanged in
# every snapshot. Deltas inserted meanwhile are not in the statement's snapshot and stay for the
# next fold; a second fold running at once skips the rows the first one deleted.
_FOLD = text(
    """
    WITH groups AS (
        SELECT user_id, status, type FROM job_counts
        GROUP BY user_id, status, type HAVING count(*) > 1
        LIMIT :groups
    ), folded AS (
        DELETE FROM job_counts c USING groups g
        WHERE c.user_id = g.user_id AND c.status = g.status AND c.type = g.type
        RETURNING c.user_id, c.status, c.type, c.n
    )
    INSERT INTO job_counts (user_id, status, type, n)
    SELECT user_id, status, type, sum(n) FROM folded
    GROUP BY user_id, status, type HAVING sum(n) <> 0
    """
).bindparams(bindparam("groups", FOLD_GROUPS))


def count_statement(*, by_user: bool, by_status: bool, by_type: bool) -> Select:
    """How many jobs the ledger counts, as a statement to build once: of the bound `user_id`
    (else everyone's), with one of the bound `statuses`, of one of the bound `types` (each filter
    only when asked for)."""
    query = select(func.coalesce(func.sum(job_counts.c.n), 0))
    if by_user:
        query = query.where(job_counts.c.user_id == bindparam("user_id"))
    if by_status:
        query = query.where(job_counts.c.status.in_(bindparam("statuses", expanding=True)))
    if by_type:
        query = query.where(job_counts.c.type.in_(bindparam("types", expanding=True)))
    return query


def fold() -> int:
    """Fold the ledger's deltas (beat's sweep); returns how many rows it wrote."""
    written = db.session.execute(_FOLD).rowcount
    db.session.commit()
    return written
