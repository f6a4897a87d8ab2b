"""What happens around a job's transitions once they are committed: lifecycle notifications
(in-app and email per preferences) and the `job:*` socket events. Persist first, then push."""

from __future__ import annotations

from flask import current_app

from app.models import Job
from app.models.base import iso
from app.services import metrics, notifications, realtime
from app.services.job_types import get_job_type


def serialize_job(job: Job) -> dict:
    return {
        "id": str(job.id),
        "type": job.type,
        "status": job.status,
        "payload": job.payload,
        "progress": job.progress,
        "result": job.result,
        "error": job.error,
        "attempts": job.attempts,
        "maxAttempts": job.max_attempts,
        "priority": job.priority,
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "completedAt": iso(job.completed_at),
        "nextAttemptAt": iso(job.next_attempt_at),
    }


def _label(job: Job) -> str:
    return get_job_type(job.type).label


def _data(job: Job, **extra) -> dict:
    data = {"jobId": str(job.id), "jobType": job.type, "url": f"{current_app.config['PUBLIC_URL']}/jobs/{job.id}"}
    if "connectionId" in (job.payload or {}):
        data["connectionId"] = job.payload["connectionId"]
    data.update(extra)
    return data


def status_event(job_id, status: str, progress: dict | None) -> None:
    realtime.emit(
        "job:status", {"jobId": str(job_id), "status": status, "progress": progress}, realtime.job_room(job_id)
    )


def job_queued(job: Job) -> None:
    metrics.incr("jobs_created_total", {"type": job.type})
    notifications.send(
        job.user_id, "job_queued", f"{_label(job)} queued", f"{_label(job)} job has been queued", _data(job)
    )
    status_event(job.id, "queued", None)


def job_started(job: Job) -> None:
    if job.attempts == 1:  # a retried attempt does not announce itself again
        notifications.send(
            job.user_id, "job_started", f"{_label(job)} started", f"{_label(job)} job has started", _data(job)
        )
    status_event(job.id, "active", job.progress)


def job_progress(job_id, progress: dict) -> None:
    interval = current_app.config["WEBSOCKET_PROGRESS_INTERVAL"]
    if realtime.progress_throttle.allow(str(job_id), interval):
        status_event(job_id, "active", progress)


def job_retrying(job: Job) -> None:
    realtime.progress_throttle.forget(str(job.id))
    status_event(job.id, "queued", job.progress)


def job_completed(job: Job) -> None:
    realtime.progress_throttle.forget(str(job.id))
    metrics.incr("jobs_completed_total", {"type": job.type})
    _observe_duration(job)
    describe = get_job_type(job.type).describe_result
    message = describe(job.result or {}) if describe else f"{_label(job)} completed successfully"
    extra = {"tablesCount": job.result["totalTables"]} if job.result and "totalTables" in job.result else {}
    notifications.send(job.user_id, "job_completed", f"{_label(job)} completed", message, _data(job, **extra))
    status_event(job.id, "completed", job.progress)
    realtime.emit("job:completed", {"jobId": str(job.id), "result": job.result}, realtime.job_room(job.id))


def job_failed(job: Job) -> None:
    realtime.progress_throttle.forget(str(job.id))
    metrics.incr("jobs_failed_total", {"type": job.type})
    _observe_duration(job)
    notifications.send(
        job.user_id,
        "job_failed",
        f"{_label(job)} failed",
        f"{_label(job)} failed: {job.error}",
        _data(job, error=job.error),
    )
    status_event(job.id, "failed", job.progress)
    realtime.emit("job:failed", {"jobId": str(job.id), "error": job.error}, realtime.job_room(job.id))


def job_cancelled(job: Job) -> None:
    realtime.progress_throttle.forget(str(job.id))
    notifications.send(
        job.user_id, "job_cancelled", f"{_label(job)} cancelled", f"{_label(job)} job was cancelled", _data(job)
    )
    status_event(job.id, "cancelled", job.progress)


DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800)


def _observe_duration(job: Job) -> None:
    if job.started_at and job.completed_at:
        seconds = (job.completed_at - job.started_at).total_seconds()
        metrics.observe("job_duration_seconds", seconds, DURATION_BUCKETS, {"type": job.type})
