"""Running one attempt of a job inside a worker: claim, run the type's handler with a context
for progress and cancellation, then record the outcome and announce it."""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import current_app

from app.extensions import db
from app.jobs import announcements as events
from app.jobs import state, watchdog
from app.jobs.errors import RETRYABLE, JobCancelled, JobError, classify, describe_error
from app.jobs.registry import get_job_type
from app.jobs.state import JobStatus
from app.models import Job
from app.platform.logging_setup import job_id_var, user_id_var

log = logging.getLogger(__name__)

HISTORY_PROGRESS_SECONDS = 1.0


class JobContext:
    """What a handler sees: its ids, its payload, and `progress()` as the cancellation checkpoint."""

    def __init__(self, job: Job):
        self.job_id: uuid.UUID = job.id
        self.user_id: uuid.UUID = job.user_id
        self.attempt: int = job.attempts
        self.payload: dict = dict(job.payload or {})
        self.last_progress: dict | None = job.progress
        self.last_remembered: float | None = None  # monotonic time of the last progress in the history
        self.cancelled = threading.Event()

    def progress(self, current: int, total: int, message: str | None = None) -> None:
        """Record and announce progress; raises JobCancelled if the job was cancelled."""
        self.check_cancelled()
        percentage = round(current * 100 / total) if total else 0
        progress = {"current": current, "total": total, "percentage": percentage, "message": message}
        # The history keeps the first checkpoint and then at most one every HISTORY_PROGRESS_SECONDS.
        now = time.monotonic()
        remember = self.last_remembered is None or now - self.last_remembered >= HISTORY_PROGRESS_SECONDS
        if remember:
            self.last_remembered = now
        if not state.save_progress(self.job_id, self.attempt, progress, remember):
            self.cancelled.set()
            raise JobCancelled()
        self.last_progress = progress
        events.job_progress(self.job_id, progress)

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelled()


def _load_handler(dotted: str) -> Callable[[JobContext], Any]:
    module_name, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def run_job(job_id: str, worker: str) -> str:
    """Run one delivery of a job. Returns what happened (for logs and tests)."""
    job = state.claim(uuid.UUID(job_id), worker)
    if job is None:
        db.session.rollback()
        return "skipped"
    job_id_var.set(str(job.id))
    user_id_var.set(str(job.user_id))
    ctx = JobContext(job)
    _commit_and_announce(events.stage_started, job)
    config = current_app.config
    beat, grace = config["JOB_HEARTBEAT_SECONDS"], config["JOB_CANCEL_GRACE_SECONDS"]
    watched = watchdog.watch(job.id, ctx.attempt, ctx.cancelled, db.engine, beat, grace)
    try:
        result = _load_handler(get_job_type(job.type).handler)(ctx)
    except JobCancelled:
        watched.finish()
        db.session.rollback()
        log.info("job stopped: cancelled")
        return "cancelled"
    except BaseException as exc:
        watched.finish()
        db.session.rollback()
        return _record_failure(job, ctx, exc)
    finally:
        watched.finish()
    # The completion and its announcement are one statement (the completed row is known already).
    done = state.complete(job, ctx.attempt, result or {}, _final_progress(ctx), announce=events.stage_completed)
    if done is None:
        db.session.rollback()  # not the current attempt any more: nothing it did may commit
        return "superseded"
    # The handler's own pending writes commit with the completion: exactly-once in effect.
    db.session.commit()
    return "completed"


def _commit_and_announce(stage, job: Job) -> None:
    """One commit for a transition and the notifications it announces; the pushes follow it."""
    stage(job)
    db.session.commit()


def _final_progress(ctx: JobContext) -> dict | None:
    last = ctx.last_progress
    if last and last.get("total"):
        return {**last, "current": last["total"], "percentage": 100}
    return last


def _record_failure(job: Job, ctx: JobContext, exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        raise exc
    kind = classify(exc)
    error = describe_error(exc)
    log.warning("job attempt %s failed (%s): %s", ctx.attempt, kind, error)
    job = db.session.get(Job, ctx.job_id)
    details = exc.result if isinstance(exc, JobError) else None
    outcome = state.fail_attempt(job, ctx.attempt, error, retryable=kind == RETRYABLE, result=details)
    if outcome is None:
        db.session.rollback()
        return "superseded"
    if outcome.status == JobStatus.QUEUED:
        _commit_and_announce(events.stage_retrying, outcome)
        return "retrying"
    _commit_and_announce(events.stage_failed, outcome)
    return "failed"
