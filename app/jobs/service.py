"""Jobs as users see them: create, read, list, cancel, retry.

Every write stages its announcements and the broker hand-off (`broker.enqueue_after_commit`), then
commits: they go out only once the commit succeeded;
a job the broker never received is still `queued` in Postgres and the sweep sends it later.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Row, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound
from app.extensions import db
from app.jobs import announcements as events
from app.jobs import broker as queue
from app.jobs import state
from app.jobs.options import JobRequest, validate_job_request
from app.jobs.state import JobRow, JobStatus
from app.models import IdempotencyKey, Job
from app.platform import audit
from app.platform.one_statement import Fragment, Part
from app.platform.ownership import get_owned, is_owned

IDEMPOTENCY_WINDOW = timedelta(hours=24)


def request_fingerprint(type_name, payload, options) -> str:
    body = json.dumps({"type": type_name, "payload": payload, "options": options}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def create_job(
    user_id: uuid.UUID,
    type_name,
    payload,
    options=None,
    idempotency_key: str | None = None,
    *,
    schedule_id: uuid.UUID | None = None,
    scheduled_for: datetime | None = None,
) -> tuple[Job | Row | JobRow, bool]:
    """Create a job for the caller; returns (job, created): the new job's row, or the existing
    job that answers a repeat (both read alike).

    Schedules pass `schedule_id` and `scheduled_for` (the tick); whatever the caller added to the
    session commits with the job, and a second job for the same tick fails it (IntegrityError)."""
    fingerprint = request_fingerprint(type_name, payload, options)
    if idempotency_key:
        existing = _job_for_idempotency_key(user_id, idempotency_key, fingerprint)
        if existing is not None:
            return existing, False
    req = validate_job_request(user_id, type_name, payload, options)
    if req.singleton_key:
        existing = _waiting_singleton(req.job_type.name, req.singleton_key)
        if existing is not None:
            return existing, False
    values = new_job_values(user_id, req) | {"schedule_id": schedule_id, "scheduled_for": scheduled_for}
    job = new_job(values)
    try:
        details = {"type": job.type, **({"scheduleId": str(schedule_id)} if schedule_id else {})}
        # One statement: the job, its audit entry, its notification and its webhook deliveries.
        events.stage_created(job, _insertion(job), audit.part(user_id, "job.created", "job", job.id, details))
        if idempotency_key:
            key_row = IdempotencyKey(user_id=user_id, key=idempotency_key, request_hash=fingerprint, job_id=job.id)
            db.session.add(key_row)
        queue.enqueue_after_commit(job)
        db.session.commit()
    except IntegrityError:
        # Lost a race with an identical request: answer with the winner's job.
        db.session.rollback()
        winner = _race_winner(user_id, req, idempotency_key, fingerprint)
        if winner is None:
            raise
        return winner, False
    return job, True


# A new job is read as a JobRow by its creator, its announcements and its answer: every column is
# known before the INSERT (the service sets each one, `created_at` included), so nothing is read
# back. The columns' defaults, for those the service leaves unset:
_UNSET = {
    column.name: column.default.arg if column.default is not None and column.default.is_scalar else None
    for column in Job.__table__.c
}


def new_job(values: dict) -> JobRow:
    """The new job's row from the values the service sets (the columns' defaults for the rest)."""
    return JobRow(**(_UNSET | values))


def column_sql_type(column) -> str:
    """A column's type as PostgreSQL spells it in a CAST."""
    return column.type.compile(dialect=postgresql.dialect())


# The INSERT of a new job, as a part of the statement that records its creation
# (`app.platform.one_statement`): each value cast to its column's type, as a prepared statement
# needs to know them.
_INSERTION = Fragment(
    "job_inserted AS (INSERT INTO jobs ({columns}) VALUES ({values}) RETURNING id)".format(
        columns=", ".join(column.name for column in Job.__table__.c),
        values=", ".join(f"CAST(:job_{column.name} AS {column_sql_type(column)})" for column in Job.__table__.c),
    ),
    "(SELECT id FROM job_inserted) AS job_inserted_id",
    tuple((f"job_{column.name}", column.type) for column in Job.__table__.c),
)


def _insertion(job: JobRow) -> Part:
    return Part(
        _INSERTION, {f"job_{name}": value for name, value in job._asdict().items()}, lambda row: row.job_inserted_id
    )


def new_job_row(user_id: uuid.UUID, req: JobRequest) -> Job:
    """The row of a new job from a validated request (not added to the session)."""
    return Job(**new_job_values(user_id, req))


def new_job_values(user_id: uuid.UUID, req: JobRequest) -> dict:
    """The column values of a new job from a validated request (a batch inserts many at once)."""
    now = datetime.now(UTC)
    due_now = req.start_after is None or req.start_after <= now
    return dict(
        id=uuid.uuid4(),
        user_id=user_id,
        type=req.job_type.name,
        status=JobStatus.QUEUED,
        payload=req.payload,
        priority=req.priority,
        max_attempts=req.max_attempts,
        retry_delay=req.retry_delay,
        retry_backoff=req.retry_backoff,
        expire_in_seconds=req.expire_in_seconds,
        singleton_key=req.singleton_key,
        next_attempt_at=None if due_now else req.start_after,
        # Optimistic: marked as sent in the same commit; a failed send clears it for the sweep.
        enqueued_at=now if due_now and not req.blocked_by else None,
        # Workflows seam: the dependencies, and those not completed yet (null: nothing to wait for).
        depends_on=req.depends_on or None,
        blocked_by=req.blocked_by or None,
        created_at=now,
    )


def idempotent_repeat(user_id: uuid.UUID, key: str, fingerprint: str) -> IdempotencyKey | None:
    """The key's row when this request repeats the one that used it within the window; None for
    a new (or expired) key; 409 `idempotency_key_reused` when the key came with another request."""
    row = db.session.get(IdempotencyKey, (user_id, key))
    if row is None:
        return None
    if row.created_at < datetime.now(UTC) - IDEMPOTENCY_WINDOW:
        db.session.delete(row)
        db.session.flush()
        return None
    if row.request_hash != fingerprint:
        raise Conflict("This Idempotency-Key was used with a different request", code="idempotency_key_reused")
    return row


def _job_for_idempotency_key(user_id: uuid.UUID, key: str, fingerprint: str) -> Job | None:
    row = idempotent_repeat(user_id, key, fingerprint)
    return None if row is None else db.session.get(Job, row.job_id)


def _waiting_singleton(type_name: str, key: str) -> Job | None:
    return db.session.scalar(
        select(Job).where(Job.type == type_name, Job.singleton_key == key, Job.status.in_(state.WAITING))
    )


def _race_winner(user_id, req: JobRequest, idempotency_key, fingerprint) -> Job | None:
    if idempotency_key:
        winner = _job_for_idempotency_key(user_id, idempotency_key, fingerprint)
        if winner is not None:
            return winner
    if req.singleton_key:
        return _waiting_singleton(req.job_type.name, req.singleton_key)
    return None


def get_job(user_id: uuid.UUID, job_id: uuid.UUID) -> Job:
    """The caller's job, or 404 (another user's job is not revealed)."""
    return get_owned(Job, job_id, user_id, "Job")


def cancel_job(
    user_id: uuid.UUID, job_id: uuid.UUID, actor_id: uuid.UUID | None = None, action: str = "job.cancelled"
) -> Job:
    """Cancel a waiting or running job; a running one sees it at its next checkpoint."""
    get_job(user_id, job_id)
    job = state.cancel(job_id)
    if job is None:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        raise Conflict(f"Job is already {job.status} and cannot be cancelled", code="invalid_transition")
    audit.record(actor_id or user_id, action, "job", job_id)
    events.stage_cancelled(job)
    db.session.commit()
    return job


def retry_job(user_id: uuid.UUID, job_id: uuid.UUID, actor_id: uuid.UUID | None = None, action="job.retried") -> Job:
    """Queue a failed or cancelled job again, with a fresh budget of attempts."""
    job = db.session.get(Job, job_id)
    if job is None or (user_id is not None and not is_owned(job, user_id)):  # None: an admin's redrive
        raise NotFound("Job not found")
    try:
        requeued = state.requeue(job_id, actor_id or user_id)
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Another job with the same singletonKey is waiting", code="singleton_conflict") from None
    if requeued is None:
        db.session.rollback()
        raise Conflict(
            f"Only failed or cancelled jobs can be retried; this one is {job.status}", code="invalid_transition"
        )
    audit.record(actor_id or user_id, action, "job", job_id)
    events.stage_queued(requeued)
    queue.enqueue_after_commit(requeued)
    db.session.commit()
    return requeued
