"""The jobs list: a page of a user's jobs (or everyone's, for admins), newest first, with its total.

Every visit of the jobs page and every client that polls reads it, so its statements are built
once per process for each combination of filters and kept, the filters' values bound at execution:
building the SELECT, its cache key and its result's metadata on every request cost about a fifth
of the request. The total comes from the `job_counts` ledger (app/jobs/counts.py) where it keys
on the filters, and is read in the same statement as the page.
"""

from __future__ import annotations

import uuid
from functools import cache

from sqlalchemy import Row, bindparam, select

from app.jobs import counts
from app.models import Job
from app.platform.pagination import KeyedPage, is_deep, keyed_page, read_keyed_page

# Filter name -> the condition on `jobs` it adds, its value bound under the same name.
_CONDITIONS = {
    "user_id": lambda: Job.user_id == bindparam("user_id"),
    "schedule_id": lambda: Job.schedule_id == bindparam("schedule_id"),
    "workflow_id": lambda: Job.workflow_id == bindparam("workflow_id"),
    "batch_id": lambda: Job.batch_id == bindparam("batch_id"),
    "statuses": lambda: Job.status.in_(bindparam("statuses", expanding=True)),
    "types": lambda: Job.type.in_(bindparam("types", expanding=True)),
}
# The ledger keys on user, status and type; a workflow's, schedule's or batch's jobs are counted
# plainly (small sets, each with its own index).
_COUNTED_PLAINLY = {"schedule_id", "workflow_id", "batch_id"}
_ORDER = (Job.created_at.desc(), Job.id.desc())


@cache
def _statements(filters: frozenset[str], deep: bool) -> KeyedPage:
    query = select(*Job.__table__.c).where(*(_CONDITIONS[name]() for name in sorted(filters)))
    total = None
    if not filters & _COUNTED_PLAINLY:
        total = counts.count_statement(
            by_user="user_id" in filters, by_status="statuses" in filters, by_type="types" in filters
        )
    return keyed_page(query, Job.id, _ORDER, deep=deep, total=total)


def list_jobs(
    page: int,
    limit: int,
    user_id: uuid.UUID | None = None,
    statuses=None,
    types=None,
    workflow_id: uuid.UUID | None = None,
    schedule_id: uuid.UUID | None = None,
    batch_id: uuid.UUID | None = None,
) -> tuple[list[Row], int]:
    """Newest first, filtered by whichever of the arguments are given (statuses and types: any of
    them); `user_id=None` lists everyone's. Rows of the jobs table's columns, which
    `serialize_job` reads as it reads a Job."""
    given = {
        "user_id": user_id,
        "schedule_id": schedule_id,
        "workflow_id": workflow_id,
        "batch_id": batch_id,
        "statuses": list(statuses) if statuses else None,
        "types": list(types) if types else None,
    }
    params = {name: value for name, value in given.items() if value is not None}
    return read_keyed_page(_statements(frozenset(params), is_deep(page, limit)), params, page, limit)
