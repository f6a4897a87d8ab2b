"""A workflow's aggregate status, from the statuses of its jobs (pure: no database)."""

from __future__ import annotations

from collections.abc import Iterable

from app.jobs.state import WAITING, JobStatus

WORKFLOW_STATUSES = ("queued", "active", "completed", "failed", "cancelled")
FINAL_WORKFLOW_STATUSES = ("completed", "failed", "cancelled")


def aggregate_status(jobs: Iterable[tuple[str, bool]]) -> str:
    """`jobs` holds (status, has started) per job. `queued` until a job starts, `active` while
    any runs or waits, then `failed` if a job failed, `cancelled` if one was cancelled, else
    `completed`."""
    statuses, started = [], False
    for status, has_started in jobs:
        statuses.append(status)
        started = started or has_started or status == JobStatus.COMPLETED
    if any(status in WAITING for status in statuses):
        return "active" if started else "queued"
    if JobStatus.FAILED in statuses:
        return "failed"
    if JobStatus.CANCELLED in statuses:
        return "cancelled"
    return "completed"
