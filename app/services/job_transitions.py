"""Guarded state transitions of a job, in SQL.

`claim`, `complete` and `fail_attempt` leave their transaction open: the caller adds what the
transition announces (notifications) and commits both at once, then pushes the events.

Each one names the state it expects (and the attempt it belongs to), so a duplicate delivery, a
stale worker or a cancellation that raced it changes nothing: `UPDATE ... WHERE status = ...`.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, update

from app.extensions import db
from app.models import DeadLetter, Job
from app.services import job_history

MAX_BACKOFF_SECONDS = 3600


def claim(job_id: uuid.UUID, worker: str) -> Job | None:
    """queued (and due) -> active, counting an attempt; also takes over an active job whose
    worker stopped heartbeating. Returns the job, or None when there is nothing to run."""
    stale_before = func.now() - timedelta(seconds=current_app.config["JOB_HEARTBEAT_TIMEOUT"])
    claimable = or_(
        and_(Job.status == "queued", or_(Job.next_attempt_at.is_(None), Job.next_attempt_at <= func.now())),
        and_(Job.status == "active", Job.heartbeat_at < stale_before, Job.attempts < Job.max_attempts),
    )
    job = update_returning(
        update(Job)
        .where(Job.id == job_id, claimable)
        .values(
            status="active",
            attempts=Job.attempts + 1,
            started_at=func.coalesce(Job.started_at, func.now()),
            heartbeat_at=func.now(),
            worker=worker,
            next_attempt_at=None,
            error=None,
        )
    )
    return job


def update_returning(statement) -> Job | None:
    """Run a guarded UPDATE and get the fresh row back in the same round trip."""
    return db.session.scalars(
        statement.returning(Job), execution_options={"synchronize_session": False, "populate_existing": True}
    ).one_or_none()


def _current_attempt(job_id: uuid.UUID, attempt: int):
    return and_(Job.id == job_id, Job.status == "active", Job.attempts == attempt)


def save_progress(job_id: uuid.UUID, attempt: int, progress: dict, remember: bool = False) -> bool:
    """Record progress (and, when `remember`, a history event of it); False means the attempt is
    no longer current (cancelled or taken over)."""
    done = db.session.execute(
        update(Job).where(_current_attempt(job_id, attempt)).values(progress=progress, heartbeat_at=func.now())
    ).rowcount
    if done and remember:
        job_history.stage_progress(job_id, attempt, progress)
    db.session.commit()
    return bool(done)


def complete(job_id: uuid.UUID, attempt: int, result: dict, progress: dict | None) -> Job | None:
    values = {"status": "completed", "result": result, "completed_at": func.now(), "error": None}
    if progress is not None:
        values["progress"] = progress
    return _finish(job_id, attempt, values)


def backoff_seconds(job: Job) -> float:
    """Exponential when asked (delay, 2x, 4x ...), with +/-10% jitter so retries do not stampede."""
    delay = job.retry_delay * (2 ** (job.attempts - 1) if job.retry_backoff else 1)
    delay = min(delay, MAX_BACKOFF_SECONDS)
    return delay * random.uniform(0.9, 1.1) if delay else 0.0


def fail_attempt(job: Job, attempt: int, error: str, retryable: bool, result: dict | None = None) -> Job | None:
    """active -> queued with a back-off when attempts remain and the error is retryable,
    else -> failed and dead-lettered. None when the attempt was no longer current."""
    if retryable and attempt < job.max_attempts:
        due = datetime.now(UTC) + timedelta(seconds=backoff_seconds(job))
        return _finish(
            job.id,
            attempt,
            {
                "status": "queued",
                "error": error,
                "error_kind": "retryable",
                "next_attempt_at": due,
                "enqueued_at": None,
            },
        )
    failed = _finish(
        job.id,
        attempt,
        {
            "status": "failed",
            "error": error,
            "error_kind": "retryable" if retryable else "permanent",
            "completed_at": func.now(),
            "result": result,
        },
    )
    if failed is not None:
        db.session.add(
            DeadLetter(job_id=failed.id, user_id=failed.user_id, job_type=failed.type, error=error, attempts=attempt)
        )
    return failed


def _finish(job_id: uuid.UUID, attempt: int, values: dict) -> Job | None:
    job = update_returning(update(Job).where(_current_attempt(job_id, attempt)).values(**values))
    if job is None:
        # Not the current attempt any more: nothing it did may commit.
        db.session.rollback()
    return job
