"""The job sweeps run by beat: hand due jobs to the broker, resend messages the broker lost,
recover jobs whose worker died, and delete finished jobs past retention in small batches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func

from app.extensions import db
from app.jobs import announcements as events
from app.jobs import broker as queue
from app.jobs import state
from app.jobs.state import JobStatus
from app.models import Job
from app.platform import redis_writes
from app.platform.celery_messages import priority_lists
from app.platform.purge import purge_in_batches
from app.platform.redis_client import get_redis

log = logging.getLogger(__name__)

RELEASE_BATCH = 500
PURGE_BATCH = 1000


def release_due_jobs() -> int:
    """Send every queued job that is due and not with the broker yet (new, delayed, retried, or
    committed while Redis was down), highest priority first."""
    released = 0
    while True:
        rows = state.due_for_release(RELEASE_BATCH)
        if not rows:
            db.session.commit()
            return released
        # One round trip for the batch; nothing is marked sent unless it went through.
        writes = queue.writes_of(rows)
        if not redis_writes.send(writes):
            log.warning("broker unavailable while releasing jobs")
            db.session.rollback()
            return released
        state.mark_sent([row[0] for row in rows])
        db.session.commit()
        released += len(rows)
        if len(rows) < RELEASE_BATCH:
            return released


def resend_lost_messages() -> int:
    """Queued jobs marked as sent long ago that never started: the broker lost their message
    (e.g. Redis restarted without persistence). Clear the mark; `release_due_jobs` sends them."""
    cutoff = datetime.now(UTC) - timedelta(seconds=current_app.config["JOB_STALE_ENQUEUE_SECONDS"])
    if _broker_queue_is_empty():
        # Nothing waits in Redis, so anything sent more than a moment ago is lost.
        cutoff = func.now() - timedelta(seconds=30)
    count = state.forget_sent_before(cutoff)
    db.session.commit()
    return count


def broker_backlog(queues: Sequence[str] = (queue.JOB_QUEUE,)) -> int:
    """Messages waiting in the broker for these queues (one Redis list per priority step)."""
    options = current_app.extensions["celery"].conf.broker_transport_options
    pipe = get_redis().pipeline(transaction=False)
    for name in queues:
        for key in priority_lists(name, options):
            pipe.llen(key)
    return sum(pipe.execute())


def _broker_queue_is_empty() -> bool:
    try:
        return broker_backlog() == 0
    except Exception:
        return False


def recover_lost_jobs() -> int:
    """Active jobs whose worker stopped heartbeating (killed, out of memory, host lost): retry
    them if attempts remain, else fail and dead-letter them."""
    lost = state.lost_attempts(timedelta(seconds=current_app.config["JOB_HEARTBEAT_TIMEOUT"]))
    failed = 0
    for job_id, attempt in lost:
        job = state.recover(job_id, attempt)
        if job is None:
            continue
        if job.status == JobStatus.QUEUED:
            events.stage_retrying(job)
        else:
            events.stage_failed(job)
            failed += 1
    db.session.commit()
    if lost:
        log.warning("recovered %d lost jobs (%d retried, %d failed)", len(lost), len(lost) - failed, failed)
    return len(lost)


def purge_old_jobs() -> int:
    """Finished jobs past retention. Their artifacts' rows stay (job_id becomes NULL through the
    foreign key's ON DELETE SET NULL) so that `purge_artifacts` deletes the files with them."""
    cutoff = func.now() - timedelta(days=current_app.config["JOB_RETENTION_DAYS"])
    table = Job.__table__
    return purge_in_batches(
        table,
        and_(table.c.status.in_(state.FINAL), table.c.completed_at < cutoff),
        PURGE_BATCH,
    )
