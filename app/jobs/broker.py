"""The hand-off of jobs to the broker: one Celery task per job type, priorities mapped onto the
Redis transport's, and the send after the commit (the sweep sends what the broker missed)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from app.extensions import db
from app.jobs import state
from app.models import Job
from app.platform.celery_app import send_task
from app.platform.unit_of_work import on_commit

log = logging.getLogger(__name__)

JOB_QUEUE = "jobs"


def job_task_name(job_type: str) -> str:
    """One Celery task name per job type (`jobs.schema-rebuild`), so Flower shows what runs."""
    return f"jobs.{job_type}"


def celery_priority(priority: int) -> int:
    """Our 0..100 (higher first) onto the Redis transport's 0..9 (lower first)."""
    return round((100 - max(0, min(100, priority))) * 9 / 100)


def send_job(job_id, job_type: str, priority: int, expire_in_seconds: int) -> None:
    """Hand one job to the broker; the task's time limits come from the job's own expiry."""
    limit = max(1, expire_in_seconds)
    send_task(
        job_task_name(job_type),
        [str(job_id)],
        queue=JOB_QUEUE,
        priority=celery_priority(priority),
        time_limit=limit + 30,
        soft_time_limit=limit,
    )


def enqueue_after_commit(job: Job) -> None:
    """Stage the hand-off of a job that is due now: sent once the open transaction commits, never
    if it rolls back (a delayed job waits for the release sweep, a blocked one for its
    dependencies)."""
    if job.next_attempt_at is not None and job.next_attempt_at > datetime.now(UTC):
        return
    if job.blocked_by:  # waits for a dependency: sent when the last one completes
        return
    job_id, job_type, priority, expire = job.id, job.type, job.priority, job.expire_in_seconds
    on_commit(lambda: _send_or_leave_to_sweep(job_id, job_type, priority, expire))


def _send_or_leave_to_sweep(job_id, job_type: str, priority: int, expire_in_seconds: int) -> bool:
    """Send a committed job; on failure clear `enqueued_at` (on a connection of its own: the
    session's transaction has just ended) so the sweep sends it once the broker is back."""
    try:
        send_job(job_id, job_type, priority, expire_in_seconds)
        return True
    except Exception as exc:
        log.warning("job %s not handed to the broker (%s); the sweep will send it", job_id, type(exc).__name__)
        try:
            with db.engine.begin() as connection:
                state.mark_unsent(job_id, connection)
        except Exception:  # the database is down as well: the stale-enqueue sweep still finds the job
            pass
        return False
