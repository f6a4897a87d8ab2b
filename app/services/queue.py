"""The Celery side of the web and the workers: one Celery app configured from `celeryconfig`,
tasks that run inside the Flask app context, and the hand-off of jobs to the broker."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import Celery, Task
from flask import Flask, current_app
from sqlalchemy import update

from app.extensions import db
from app.models import Job

log = logging.getLogger(__name__)

JOB_QUEUE = "jobs"


def job_task_name(job_type: str) -> str:
    """One Celery task name per job type (`jobs.schema-rebuild`), so Flower shows what runs."""
    return f"jobs.{job_type}"


def init_celery(app: Flask) -> Celery:
    """Build the Celery app for this Flask app (Flask's own `celery_init_app` pattern)."""
    import celeryconfig

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            from flask import has_app_context

            from app.logging_setup import clear_log_context

            clear_log_context()  # ids of the previous task must not label this one's logs
            # Reuse a pushed context (eager mode, tests): a second one would get its own session.

            if has_app_context():
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(celeryconfig.build(app.config))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def celery_priority(priority: int) -> int:
    """Our 0..100 (higher first) onto the Redis transport's 0..9 (lower first)."""
    return round((100 - max(0, min(100, priority))) * 9 / 100)


def send_task(name: str, args: list, queue: str, priority: int | None = None, **options) -> None:
    current_app.extensions["celery"].send_task(name, args=args, queue=queue, priority=priority, **options)


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


def enqueue_if_due(job: Job) -> bool:
    """After the commit: send a job that is due now. On failure clear `enqueued_at` so the sweep
    sends it once the broker is back. Returns whether the broker took it."""
    if job.next_attempt_at is not None and job.next_attempt_at > datetime.now(UTC):
        return False
    if job.blocked_by:  # workflows seam: released (and sent) when its last dependency completes
        return False
    try:
        send_job(job.id, job.type, job.priority, job.expire_in_seconds)
        return True
    except Exception as exc:
        log.warning("job %s not handed to the broker (%s); the sweep will send it", job.id, type(exc).__name__)
        try:
            db.session.execute(update(Job).where(Job.id == job.id, Job.status == "queued").values(enqueued_at=None))
            db.session.commit()
        except Exception:  # the database is down as well: the stale-enqueue sweep still finds the job
            db.session.rollback()
        return False
