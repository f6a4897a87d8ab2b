"""Dependencies between jobs, as statements on the jobs' own rows.

`depends_on` lists the jobs a job waits for; `blocked_by` those of them not completed yet (null
once none is left). A blocked job is `queued` but never handed to the broker (nor claimed).

- A completion removes the job from its dependents' `blocked_by` in one UPDATE of the completing
  transaction; each dependent's row lock serialises concurrent completions, so the last one
  always sees the others and releases the job.
- A job ending failed or cancelled cancels its waiting dependents, and theirs, in one recursive
  statement, with `error` naming the dependency that ended.
- A retry brings back the dependents that were cancelled because of the retried job.

Rows are locked in id order before they change, so that two transactions touching overlapping
dependents cannot deadlock each other.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, TextClause, select, text

from app.errors import Conflict, NotFound
from app.extensions import db
from app.jobs.state import RETRIABLE, JobStatus
from app.models import Job

MAX_DEPENDENCIES = 50
DEPENDENCY_ERROR_KIND = "dependency"
# Every column of a job, named: a prepared statement's result must not change with the table's.
_JOB_COLUMNS = ", ".join(f"jobs.{column.name}" for column in Job.__table__.c)

_RELEASE = text(
    f"""
    WITH targets AS (
        SELECT id FROM jobs
        WHERE depends_on @> ARRAY[CAST(:job_id AS uuid)] AND status = 'queued'
          AND blocked_by @> ARRAY[CAST(:job_id AS uuid)]
        ORDER BY id FOR UPDATE
    )
    UPDATE jobs SET
        blocked_by = NULLIF(array_remove(jobs.blocked_by, CAST(:job_id AS uuid)), '{{}}'),
        enqueued_at = CASE
            WHEN cardinality(array_remove(jobs.blocked_by, CAST(:job_id AS uuid))) = 0
             AND (jobs.next_attempt_at IS NULL OR jobs.next_attempt_at <= now()) THEN now()
        END
    FROM targets
    WHERE jobs.id = targets.id AND jobs.status = 'queued' AND jobs.blocked_by @> ARRAY[CAST(:job_id AS uuid)]
    RETURNING {_JOB_COLUMNS}
    """
)

# Roots come as two parallel arrays: the jobs that ended and how ("failed" / "cancelled").
_CASCADE = text(
    """
    WITH RECURSIVE doomed(id, cause, cause_status) AS (
        SELECT j.id, r.id, r.status
        FROM unnest(CAST(:root_ids AS uuid[]), CAST(:root_statuses AS text[])) AS r(id, status)
        JOIN jobs j ON j.depends_on @> ARRAY[r.id] AND j.status = 'queued' AND j.blocked_by IS NOT NULL
      UNION
        SELECT j.id, d.id, 'cancelled'
        FROM doomed d
        JOIN jobs j ON j.depends_on @> ARRAY[d.id] AND j.status = 'queued' AND j.blocked_by IS NOT NULL
    ),
    locked AS (
        SELECT id FROM jobs WHERE id IN (SELECT id FROM doomed) ORDER BY id FOR UPDATE
    ),
    first_cause AS (
        SELECT DISTINCT ON (id) id, cause, cause_status FROM doomed
        ORDER BY id, cause_status = 'failed' DESC, cause
    )
    UPDATE jobs SET
        status = 'cancelled',
        error = 'dependency ' || CAST(first_cause.cause AS text) || ' ' || first_cause.cause_status,
        error_kind = :kind,
        completed_at = now(),
        enqueued_at = NULL
    FROM first_cause
    WHERE jobs.id = first_cause.id AND jobs.id IN (SELECT id FROM locked) AND jobs.status = 'queued'
    RETURNING jobs.*
    """
)

# The dependents cancelled because of `root`, and theirs: queued again, waiting for whatever of
# their dependencies has not completed (the root, now queued, among them).
_REVIVE = text(
    """
    WITH RECURSIVE revived(id) AS (
        SELECT j.id FROM jobs j
        WHERE j.depends_on @> ARRAY[CAST(:root AS uuid)] AND j.status = 'cancelled' AND j.error_kind = :kind
          AND j.error LIKE 'dependency ' || :root || ' %'
      UNION
        SELECT j.id FROM revived r
        JOIN jobs j ON j.depends_on @> ARRAY[r.id] AND j.status = 'cancelled' AND j.error_kind = :kind
          AND j.error LIKE 'dependency ' || CAST(r.id AS text) || ' %'
    ),
    locked AS (
        SELECT id FROM jobs WHERE id IN (SELECT id FROM revived) ORDER BY id FOR UPDATE
    )
    UPDATE jobs SET
        status = 'queued', error = NULL, error_kind = NULL, completed_at = NULL, started_at = NULL,
        progress = NULL, result = NULL, attempts = 0, next_attempt_at = NULL, heartbeat_at = NULL,
        worker = NULL, enqueued_at = NULL,
        blocked_by = NULLIF(ARRAY(
            SELECT dep FROM unnest(jobs.depends_on) AS dep
            WHERE NOT EXISTS (SELECT 1 FROM jobs p WHERE p.id = dep AND p.status = 'completed')
        ), '{}')
    FROM locked
    WHERE jobs.id = locked.id AND jobs.status = 'cancelled'
    RETURNING jobs.*
    """
)


# The caller's dependencies, row-locked in id order (the lock order) and marked as depended on.
# The statuses come from the locking scan itself: a dependency that completed while this waited
# for its lock is seen completed, and one that completes after this commits finds the mark and
# releases the job that waits for it.
_LOCK_DEPENDENCIES = text(
    """
    WITH locked AS (
        SELECT id, status, has_dependents FROM jobs
        WHERE id = ANY(CAST(:ids AS uuid[])) AND user_id = :user_id
        ORDER BY id FOR UPDATE
    ), marked AS (
        UPDATE jobs SET has_dependents = true
        FROM locked WHERE jobs.id = locked.id AND NOT locked.has_dependents
    )
    SELECT id, status FROM locked
    """
)


def lock_dependencies(user_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """{id: status} of these jobs of the user (another's are not found), locked until the commit
    and marked as having dependents: a dependency that is completing right now is seen
    completed, or completes after this transaction and then releases the job that waits for it."""
    params = {"ids": [str(job_id) for job_id in sorted(set(ids))], "user_id": user_id}
    return {row.id: row.status for row in db.session.execute(_LOCK_DEPENDENCIES, params)}


def check_dependencies(user_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """The caller's dependencies not completed yet (the new job's `blocked_by`). 404 for an
    unknown or foreign one, 409 `dependency_failed` for one that already failed or was cancelled."""
    found = lock_dependencies(user_id, ids)
    missing = [str(job_id) for job_id in ids if job_id not in found]
    if missing:
        raise NotFound("Dependency not found", {"dependsOn": [f"Unknown job(s): {', '.join(missing)}."]})
    return unfinished_or_conflict(ids, found)


def unfinished_or_conflict(ids: Sequence[uuid.UUID], found: dict[uuid.UUID, str]) -> list[uuid.UUID]:
    ended = [f"{job_id} is {found[job_id]}" for job_id in ids if found.get(job_id) in RETRIABLE]
    if ended:
        raise Conflict("A dependency already failed or was cancelled", {"dependsOn": ended}, code="dependency_failed")
    unique = list(dict.fromkeys(ids))
    return [job_id for job_id in unique if job_id in found and found[job_id] != JobStatus.COMPLETED]


# Rows, not Jobs: every completion runs it, nearly always changing nothing, and its callers only
# read what it returns (loading entities would cost more than the statement).
_RELEASE_ROWS = _RELEASE.columns(*Job.__table__.c).execution_options(prepared=True)  # app.platform.prepared


def release_dependents(job_id: uuid.UUID) -> list:
    """In the completing transaction of a job that has dependents: drop `job_id` from their
    `blocked_by`. Returns the rows of those released and due (marked as sent, like a new job),
    to hand to the broker after the commit."""
    changed = db.session.execute(_RELEASE_ROWS, {"job_id": str(job_id)})
    return [job for job in changed if job.blocked_by is None and job.enqueued_at is not None]


def cancel_dependents(roots: Sequence[tuple[uuid.UUID, str]]) -> list[Job]:
    """Cancel every waiting job downstream of these (job id, "failed" | "cancelled") roots, each
    with `error` naming the dependency that ended. Returns the cancelled jobs."""
    if not roots:
        return []
    params = {
        "root_ids": [str(job_id) for job_id, _ in roots],
        "root_statuses": [status for _, status in roots],
        "kind": DEPENDENCY_ERROR_KIND,
    }
    return _jobs_from(_CASCADE, params)


def revive_dependents(root_id: uuid.UUID) -> list[Job]:
    """Queue again (blocked) the jobs cancelled because `root_id` ended, down the chain."""
    return _jobs_from(_REVIVE, {"root": str(root_id), "kind": DEPENDENCY_ERROR_KIND})


def ended_dependencies(job_ids: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    """(id, status) of the failed or cancelled jobs that any of these jobs is blocked by."""
    if not job_ids:
        return []
    rows = db.session.execute(
        text(
            """
            SELECT DISTINCT p.id, p.status FROM jobs j JOIN jobs p ON p.id = ANY(j.blocked_by)
            WHERE j.id = ANY(CAST(:ids AS uuid[])) AND p.status IN ('failed', 'cancelled')
            """
        ),
        {"ids": [str(job_id) for job_id in job_ids]},
    ).all()
    return [(row.id, row.status) for row in rows]


@functools.cache
def _as_jobs(statement: TextClause) -> Select:
    """The ORM statement loading Jobs from one of the texts above, built once."""
    return select(Job).from_statement(statement)


def _jobs_from(statement: TextClause, params: dict) -> list[Job]:
    return list(db.session.scalars(_as_jobs(statement), params, execution_options={"populate_existing": True}))
