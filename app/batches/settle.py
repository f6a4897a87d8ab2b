"""Settling a batch after one of its jobs finished or was retried: when every job has finished
(completed, failed or cancelled), mark the batch finished and announce it once, as a
`batch_completed` notification and a `batch.completed` webhook event; a retry reopens it, and
its next finish announces again.

The batch's row is locked first and its jobs are counted in a statement begun after that lock
was granted: the last two jobs finishing at once take turns, and the second one sees both
finished. Counting (rather than decrementing a counter) makes settling idempotent: a job settled
twice, or a path that reaches the batch without a seam (the sweep), cannot skew `remaining`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import func, select

from app.batches.models import Batch
from app.extensions import db
from app.jobs.state import WAITING, JobStatus
from app.models import Job
from app.notifications import service as notifications
from app.platform import one_statement
from app.webhooks import outbox

NOTIFICATION_TYPE = "batch_completed"
WEBHOOK_EVENT = "batch.completed"


def settle_batches(batch_ids: Iterable[uuid.UUID | None]) -> None:
    """In the caller's transaction, for each batch (in id order, the lock order)."""
    for batch_id in sorted({bid for bid in batch_ids if bid is not None}):
        _settle(batch_id)


def _settle(batch_id: uuid.UUID) -> None:
    batch = db.session.scalars(
        select(Batch).where(Batch.id == batch_id).with_for_update(),
        execution_options={"populate_existing": True},
    ).one_or_none()
    if batch is None:
        return
    counts = job_counts(batch_id)
    batch.remaining = counts.pop("remaining")
    if batch.remaining == 0 and batch.completed_at is None:
        batch.completed_at = datetime.now(UTC)
        _stage_announcement(batch, counts)  # pushed once the transaction commits
    elif batch.remaining > 0 and batch.completed_at is not None:
        batch.completed_at = None  # a retry reopened it: its next finish announces again


def job_counts(batch_id: uuid.UUID) -> dict[str, int]:
    """{"remaining", "completed", "failed", "cancelled"} of the batch's jobs, in one query."""
    rows = db.session.execute(
        select(Job.status, func.count()).where(Job.batch_id == batch_id).group_by(Job.status)
    ).all()
    by_status = {status: number for status, number in rows}
    counts = {"remaining": sum(by_status.get(status, 0) for status in WAITING)}
    for status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED):
        counts[str(status)] = by_status.get(status, 0)
    return counts


def describe(count: int, counts: dict[str, int]) -> tuple[str, str]:
    """The notification's title and message for a finished batch of `count` jobs."""
    if counts["completed"] == count:
        return f"Batch of {count} jobs completed", f"All {count} jobs of the batch completed"
    return (
        f"Batch of {count} jobs finished",
        f"{counts['completed']} completed, {counts['failed']} failed, {counts['cancelled']} cancelled",
    )


def _stage_announcement(batch: Batch, counts: dict[str, int]) -> None:
    data = {
        "batchId": str(batch.id),
        "count": batch.count,
        **counts,
        "url": f"{current_app.config['PUBLIC_URL']}/jobs?batchId={batch.id}",
    }
    title, message = describe(batch.count, counts)
    one_statement.run(
        outbox.part(batch.user_id, WEBHOOK_EVENT, {"batch": data}),
        notifications.part(batch.user_id, NOTIFICATION_TYPE, title, message, data),
    )
