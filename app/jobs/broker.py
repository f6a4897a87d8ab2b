"""The hand-off of jobs to the broker: one Celery task per job type, priorities mapped onto the
Redis transport's, and the message sent in the commit's Redis pipeline, after its socket events
(the sweep sends what the broker missed)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import groupby

from flask import current_app

from app.extensions import db
from app.jobs import state
from app.models import Job
from app.platform import redis_writes
from app.platform.celery_messages import task_messages
from app.platform.unit_of_work import hand_off_on_commit

log = logging.getLogger(__name__)

JOB_QUEUE = "jobs"


def job_task_name(job_type: str) -> str:
    """One Celery task name per job type (`jobs.schema-rebuild`), so Flower shows what runs."""
    return f"jobs.{job_type}"


def celery_priority(priority: int) -> int:
    """Our 0..100 (higher first) onto the Redis transport's 0..9 (lower first)."""
    return round((100 - max(0, min(100, priority))) * 9 / 100)


def job_writes(
    job_ids: Sequence, job_type: str, priority: int, expire_in_seconds: int, on_lost, broker_url: str
) -> list[redis_writes.Write]:
    """The broker messages of jobs of one type, priority and expiry as Redis writes to
    `broker_url`; their task's time limits come from the jobs' own expiry. `on_lost()` runs if a
    write may not have reached Redis."""
    limit = max(1, expire_in_seconds)
    key, messages = task_messages(
        job_task_name(job_type),
        [[str(job_id)] for job_id in job_ids],
        JOB_QUEUE,
        celery_priority(priority),
        time_limit=limit + 30,
        soft_time_limit=limit,
    )
    return [redis_writes.Write("lpush", key, message, on_lost=on_lost, url=broker_url) for message in messages]


def writes_of(entries: Sequence[tuple], on_lost: Callable[[], None] | None = None) -> list[redis_writes.Write]:
    """The broker writes of jobs `(id, type, priority, expire)`, in order. Runs of jobs alike (a
    batch of one type and options) share one message template."""
    url = current_app.extensions["celery"].conf.broker_url  # Celery's settings look it up at some cost
    return [
        write
        for (job_type, priority, expire), alike in groupby(entries, key=lambda entry: tuple(entry[1:]))
        for write in job_writes([entry[0] for entry in alike], job_type, priority, expire, on_lost, url)
    ]


def enqueue_after_commit(job: Job) -> None:
    """Stage the hand-off of a job that is due now: its message joins the commit's Redis pipeline
    once the open transaction commits, never if it rolls back (a delayed job waits for the
    release sweep, a blocked one for its dependencies)."""
    if _due_now(job):
        entry = (job.id, job.type, job.priority, job.expire_in_seconds)
        hand_off_on_commit(lambda: _hand_off([entry]))


def enqueue_many_after_commit(jobs: Sequence[Job]) -> None:
    """`enqueue_after_commit` for many jobs (a batch): their messages join the same pipeline."""
    due = [(job.id, job.type, job.priority, job.expire_in_seconds) for job in jobs if _due_now(job)]
    if due:
        hand_off_on_commit(lambda: _hand_off(due))


def _due_now(job: Job) -> bool:
    if job.next_attempt_at is not None and job.next_attempt_at > datetime.now(UTC):
        return False  # delayed: the release sweep sends it when it is due
    return not job.blocked_by  # a blocked job is sent when its last dependency completes


def _hand_off(entries: Sequence[tuple]) -> None:
    """Add committed jobs `(id, type, priority, expire)` to the commit's Redis writes. If their
    round trip fails, any of them may or may not have reached the broker: all are left to the
    sweep (a duplicate delivery finds its job no longer queued)."""
    job_ids = [entry[0] for entry in entries]
    lost = _leave_to_sweep(job_ids)  # one callback for them all: one transaction if they are lost
    for write in writes_of(entries, lost):
        redis_writes.add(write)


def _leave_to_sweep(job_ids: list) -> Callable[[], None]:
    def clear_the_sent_mark() -> None:
        """Clear `enqueued_at` (on a connection of its own: the session's transaction has ended)
        so that the release sweep sends the jobs once the broker is back."""
        log.warning("%d job(s) not handed to the broker; the sweep will send them", len(job_ids))
        try:
            with db.engine.begin() as connection:
                state.mark_unsent(job_ids, connection)
        except Exception:  # the database is down as well: the stale-enqueue sweep still finds them
            pass

    return clear_the_sent_mark
