"""Periodic maintenance run by beat: hand due jobs to the broker, recover jobs whose worker died,
and delete what retention says is old, in small batches that never hold locks for long."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update

from app.extensions import db
from app.models import Artifact, DeadLetter, EmailDelivery, Job, Notification
from app.services import events, job_history, queue
from app.services.artifacts import PARTIAL_SUFFIX, artifact_store

log = logging.getLogger(__name__)

RELEASE_BATCH = 500
PURGE_BATCH = 1000
ARTIFACT_PURGE_BATCH = 200
# A file without a row (its writer died before the commit) or a `.partial` one (its writer died
# mid-write) is removed once this old: a live writer renames or commits within moments.
ORPHAN_FILE_AGE = timedelta(days=1)


def release_due_jobs() -> int:
    """Send every queued job that is due and not with the broker yet (new, delayed, retried, or
    committed while Redis was down), highest priority first."""
    released = 0
    while True:
        rows = db.session.execute(
            select(Job.id, Job.type, Job.priority, Job.expire_in_seconds)
            .where(
                Job.status == "queued",
                Job.enqueued_at.is_(None),
                or_(Job.next_attempt_at.is_(None), Job.next_attempt_at <= func.now()),
            )
            .order_by(Job.priority.desc(), Job.created_at)
            .limit(RELEASE_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            db.session.commit()
            return released
        sent = []
        for job_id, job_type, priority, expire in rows:
            try:
                queue.send_job(job_id, job_type, priority, expire)
            except Exception as exc:
                log.warning("broker unavailable while releasing jobs: %s", type(exc).__name__)
                break
            sent.append(job_id)
        if sent:
            db.session.execute(update(Job).where(Job.id.in_(sent)).values(enqueued_at=func.now()))
        db.session.commit()
        released += len(sent)
        if len(sent) < len(rows):
            return released


def resend_lost_messages() -> int:
    """Queued jobs marked as sent long ago that never started: the broker lost their message
    (e.g. Redis restarted without persistence). Clear the mark; `release_due_jobs` sends them."""
    stale = datetime.now(UTC) - timedelta(seconds=current_app.config["JOB_STALE_ENQUEUE_SECONDS"])
    condition = and_(Job.status == "queued", Job.enqueued_at < stale)
    if _broker_queue_is_empty():
        # Nothing waits in Redis, so anything sent more than a moment ago is lost.
        condition = and_(Job.status == "queued", Job.enqueued_at < func.now() - timedelta(seconds=30))
    count = db.session.execute(update(Job).where(condition).values(enqueued_at=None)).rowcount
    db.session.commit()
    return count


def broker_backlog() -> int:
    """Messages waiting in the broker's job lists (one list per priority step)."""
    from app.services.redis_client import get_redis

    pipe = get_redis().pipeline(transaction=False)
    for name in [queue.JOB_QUEUE] + [f"{queue.JOB_QUEUE}:{step}" for step in range(1, 10)]:
        pipe.llen(name)
    return sum(pipe.execute())


def _broker_queue_is_empty() -> bool:
    try:
        return broker_backlog() == 0
    except Exception:
        return False


def recover_lost_jobs() -> int:
    """Active jobs whose worker stopped heartbeating (killed, out of memory, host lost): retry
    them if attempts remain, else fail and dead-letter them."""
    timeout = timedelta(seconds=current_app.config["JOB_HEARTBEAT_TIMEOUT"])
    lost = db.session.scalars(
        select(Job)
        .where(Job.status == "active", Job.heartbeat_at < func.now() - timeout)
        .with_for_update(skip_locked=True)
    ).all()
    announcements, failed = [], 0
    for job in lost:
        job.error = "The worker running this job stopped responding"
        if job.attempts < job.max_attempts:
            job.status, job.enqueued_at, job.next_attempt_at = "queued", None, None
            job_history.stage(job, "retrying")
            announcements.append(events.stage_retrying(job))
        else:
            job.status, job.completed_at, job.error_kind = "failed", datetime.now(UTC), "retryable"
            db.session.add(
                DeadLetter(
                    job_id=job.id, user_id=job.user_id, job_type=job.type, error=job.error, attempts=job.attempts
                )
            )
            job_history.stage(job, "failed")
            announcements.append(events.stage_failed(job))
            failed += 1
    db.session.commit()
    for announcement in announcements:
        announcement.push()
    if lost:
        log.warning("recovered %d lost jobs (%d retried, %d failed)", len(lost), len(lost) - failed, failed)
    return len(lost)


def resend_pending_emails() -> int:
    """Emails recorded but never handed to the email queue (Redis was down) go out now."""
    from app.services.queue import send_task

    cutoff = func.now() - timedelta(minutes=2)
    # A `retrying` row whose retry message was lost shows no change for longer than the longest
    # back-off (10 minutes): it is sent again as well.
    stuck = func.now() - timedelta(minutes=15)
    pending = db.session.scalars(
        select(EmailDelivery)
        .where(
            or_(
                and_(EmailDelivery.status == "pending", EmailDelivery.created_at < cutoff),
                and_(EmailDelivery.status == "retrying", EmailDelivery.updated_at < stuck),
            )
        )
        .limit(200)
    ).all()
    for delivery in pending:
        args = [str(delivery.id), delivery.subject, delivery.message, delivery.data or {}]
        send_task("notifications.send_email", args=args, queue="email")
    return len(pending)


def _purge_in_batches(table, condition) -> int:
    """Delete matching rows a batch at a time, each batch its own short transaction."""
    total = 0
    while True:
        ids = select(table.c.id).where(condition).limit(PURGE_BATCH).scalar_subquery()
        deleted = db.session.execute(delete(table).where(table.c.id.in_(ids))).rowcount
        db.session.commit()
        total += deleted
        if deleted < PURGE_BATCH:
            return total


def purge_expired_notifications() -> int:
    table = Notification.__table__
    return _purge_in_batches(table, table.c.expires_at < func.now())


def purge_old_jobs() -> int:
    """Finished jobs past retention. Their artifacts' rows stay (job_id becomes NULL through the
    foreign key's ON DELETE SET NULL) so that `purge_artifacts` deletes the files with them."""
    cutoff = func.now() - timedelta(days=current_app.config["JOB_RETENTION_DAYS"])
    table = Job.__table__
    return _purge_in_batches(
        table, and_(table.c.status.in_(("completed", "failed", "cancelled")), table.c.completed_at < cutoff)
    )


def purge_artifacts() -> int:
    """Delete artifacts that expired or whose job was purged, then orphan files in the store.

    Each artifact's file goes first, then its row, a batch per transaction: a crash in between
    leaves a row without a file (deleted again next time), never a file nobody can find.
    Returns the number of artifacts and orphan files removed."""
    rows = _purge_artifact_rows()
    files = _purge_orphan_files()
    if rows or files:
        log.info("purged %d artifacts and %d orphan files", rows, files)
    return rows + files


def _purge_artifact_rows() -> int:
    store = artifact_store()
    gone = or_(Artifact.expires_at < func.now(), and_(Artifact.job_id.is_(None), Artifact.kind != "upload"))
    total = 0
    while True:
        batch = db.session.execute(
            select(Artifact.id, Artifact.storage_key)
            .where(gone)
            .order_by(Artifact.expires_at)
            .limit(ARTIFACT_PURGE_BATCH)
            .with_for_update(skip_locked=True)  # another sweep running at once takes other rows
        ).all()
        deleted = []
        for artifact_id, key in batch:
            try:
                store.delete(key)
            except OSError as exc:  # keep the row: the file is tried again next time
                log.warning("could not delete artifact file %s: %s", artifact_id, type(exc).__name__)
                continue
            deleted.append(artifact_id)
        if deleted:
            db.session.execute(delete(Artifact).where(Artifact.id.in_(deleted)))
        db.session.commit()
        total += len(deleted)
        if len(batch) < ARTIFACT_PURGE_BATCH or not deleted:
            return total


def _purge_orphan_files() -> int:
    store = artifact_store()
    cutoff = time.time() - ORPHAN_FILE_AGE.total_seconds()
    old_keys = (key for key, modified in store.keys() if modified < cutoff)
    removed = 0
    for keys in _chunks(old_keys, ARTIFACT_PURGE_BATCH):
        complete = [key for key in keys if not key.endswith(PARTIAL_SUFFIX)]
        known = set(db.session.scalars(select(Artifact.storage_key).where(Artifact.storage_key.in_(complete))))
        db.session.rollback()
        for key in keys:
            if key not in known:
                store.delete(key)
                removed += 1
    return removed


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
