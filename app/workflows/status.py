"""A workflow's aggregate status, from the statuses of its jobs (pure: no database)."""

from __future__ import annotations

from collections.abc import Iterable

WORKFLOW_STATUSES = ("queued", "active", "completed", "failed", "cancelled")
FINAL_WORKFLOW_STATUSES = ("completed", "failed", "cancelled")
_UNFINISHED = ("queued", "active")


def aggregate_status(jobs: Iterable[tuple[str, bool]]) -> str:
    """`jobs` holds (status, has started) per job. `queued` until a job starts, `active` while
    any runs or waits, then `failed` if a job failed, `cancelled` if one was cancelled, else
    `completed`."""
    statuses, started = [], False
    for status, has_started in jobs:
        statuses.append(status)
        started = started or has_started or status == "completed"
    if any(status in _UNFINISHED for status in statuses):
        return "active" if started else "queued"
    if "failed" in statuses:
        return "failed"
    if "cancelled" in statuses:
        return "cancelled"
    return "completed"
