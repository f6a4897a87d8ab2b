"""The hand-off of jobs to the broker: one Celery task per job type, priorities mapped onto the
Redis transport's, and the send after the commit (the sweep sends what the broker missed)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from app.extensions import db
from app.jobs import state
from app.models import Job
from app.platform.celery_app import one_producer, send_task
from app.platform.unit_of_work import hand_off_on_commit

log = logging.getLogger(__name__)

JOB_QUEUE = "jobs"


def job_task_name(job_type: str) -> str:
    """One Celery task name per job type (`jobs.schema-rebuild`), so Flower shows what runs."""
    return f"jobs.{job_type}"


def celery_priority(priority: int) -> int:
    """Our 0..100 (higher first) onto the Redis transport's 0..9 (lower first)."""
    return round((100 - max(0, min(100, priority))) * 9 / 100)


def send_job(job_id, job_type: str, priority: int, expire_in_seconds: int, producer=None) -> None:
    """Hand one job to the broker; the task's time limits come from the job's own expiry.
    `producer` (`one_producer()`): reuse one broker connection for many sends."""
    limit = max(1, expire_in_seconds)
    send_task(
        job_task_name(job_type),
        [str(job_id)],
        queue=JOB_QUEUE,
        priority=celery_priority(priority),
        time_limit=limit + 30,
        soft_time_limit=limit,
        producer=producer,
    )


def enqueue_after_commit(job: Job) -> None:
    """Stage the hand-off of a job that is due now: sent once the open transaction commits, never
    if it rolls back (a delayed job waits for the release sweep, a blocked one for its
    dependencies)."""
    if not _due_now(job):
        return
    job_id, job_type, priority, expire = job.id, job.type, job.priority, job.expire_in_seconds
    hand_off_on_commit(lambda: _send_or_leave_to_sweep(job_id, job_type, priority, expire))


def enqueue_many_after_commit(jobs: Sequence[Job]) -> None:
    """`enqueue_after_commit` for many jobs (a batch): one hand-off after the commit sends every
    due one on a single broker connection, instead of taking one from the pool per job."""
    due = [(job.id, job.type, job.priority, job.expire_in_seconds) for job in jobs if _due_now(job)]
    if due:
        hand_off_on_commit(lambda: _send_all_or_leave_to_sweep(due))


def _due_now(job: Job) -> bool:
    if job.next_attempt_at is not None and job.next_attempt_at > datetime.now(UTC):
        return False  # delayed: the release sweep sends it when it is due
    return not job.blocked_by  # a blocked job is sent when its last dependency completes


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
                state.mark_unsent([job_id], connection)
        except Exception:  # the database is down as well: the stale-enqueue sweep still finds the job
            pass
        return False


def _send_all_or_leave_to_sweep(entries: Sequence[tuple]) -> bool:
    """Send committed jobs `(id, type, priority, expire)` in one Redis pipeline. If it fails, any
    of them may or may not have reached the broker: all are left to the sweep, exactly as
    `_send_or_leave_to_sweep` leaves one (a duplicate delivery finds its job no longer queued)."""
    try:
        with one_producer() as producer:
            for job_id, job_type, priority, expire in entries:
                send_job(job_id, job_type, priority, expire, producer=producer)
        return True
    except Exception as exc:
        log.warning("%d jobs not handed to the broker (%s); the sweep will send them", len(entries), type(exc).__name__)
        try:
            with db.engine.begin() as connection:
                state.mark_unsent([entry[0] for entry in entries], connection)
        except Exception:  # the database is down as well: the stale-enqueue sweep still finds them
            pass
        return False
