"""Health of the pipeline: dependencies, queue, workers, and an optional canary round trip."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from app.extensions import db
from app.jobs import service as jobs
from app.jobs.state import WAITING, JobStatus
from app.models import Job
from app.platform.redis_client import get_redis

WORKER_FRESH_SECONDS = 60
WORKER_KEY_PREFIX = "jobsvc:worker:alive:"


def _check(probe) -> tuple[bool, str | None]:
    try:
        probe()
        return True, None
    except Exception as exc:
        return False, type(exc).__name__


def _redis_ping() -> None:
    get_redis().ping()


def live_workers() -> list[str]:
    return sorted(
        key.removeprefix(WORKER_KEY_PREFIX) for key in get_redis().scan_iter(WORKER_KEY_PREFIX + "*", count=100)
    )


def jobs_health() -> tuple[dict, int]:
    """The pipeline's state and its HTTP status: 503 only when PostgreSQL or Redis is unreachable."""
    database_ok, database_error = _check(lambda: db.session.execute(text("SELECT 1")))
    if not database_ok:
        db.session.rollback()
    redis_ok, redis_error = _check(_redis_ping)
    body: dict = {"checks": {"database": database_ok, "redis": redis_ok}}
    if database_ok:
        counts = dict(
            db.session.execute(
                select(Job.status, func.count()).where(Job.status.in_(WAITING)).group_by(Job.status)
            ).all()
        )
        day_ago = datetime.now(UTC) - timedelta(hours=24)
        body["queueSize"] = counts.get(JobStatus.QUEUED, 0)
        body["activeJobs"] = counts.get(JobStatus.ACTIVE, 0)
        body["failedJobs"] = db.session.scalar(
            select(func.count()).select_from(Job).where(Job.status == JobStatus.FAILED, Job.completed_at >= day_ago)
        )
        last = db.session.scalar(select(func.max(Job.completed_at)))
        body["lastProcessedAt"] = last.isoformat() if last else None
    workers: list[str] = []
    if redis_ok:
        workers = live_workers()
    body["workers"] = len(workers)
    if not database_ok or not redis_ok:
        body["status"] = "unhealthy"
    elif not workers:
        body["status"] = "degraded"
    else:
        body["status"] = "healthy"
    body["checks"]["workers"] = bool(workers)
    errors = {name: error for name, error in (("database", database_error), ("redis", redis_error)) if error}
    if errors:
        body["errors"] = errors
    # Degraded still serves requests: only an unreachable dependency takes the node out.
    return body, 503 if body["status"] == "unhealthy" else 200


def canary_round_trip(user_id: uuid.UUID, timeout: float = 20.0) -> dict:
    """Push a no-op job through the whole pipeline and time it until it is completed."""
    started = time.perf_counter()
    job, _ = jobs.create_job(user_id, "noop", {}, {"priority": 100})
    deadline = started + timeout
    while time.perf_counter() < deadline:
        db.session.expire_all()
        status = db.session.scalar(select(Job.status).where(Job.id == job.id))
        if status in (JobStatus.COMPLETED, JobStatus.FAILED):
            return {
                "jobId": str(job.id),
                "status": status,
                "roundTripMs": round((time.perf_counter() - started) * 1000, 1),
            }
        time.sleep(0.05)
    return {"jobId": str(job.id), "status": "timeout", "roundTripMs": None}
