"""What a job's transitions announce: lifecycle notifications (in-app and email per preferences)
and the `job:*` socket events. Persist first, then push.

Each `stage_*` adds the notification rows to the transaction that records the transition and
returns an Announcement; the caller commits both at once, then calls `push()`: the notification
exists exactly when the transition does, and nothing is pushed before both are committed."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from app.models import Job
from app.models.base import iso
from app.services import metrics, notifications, realtime
from app.services.job_types import get_job_type

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800)


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
        "scheduleId": str(job.schedule_id) if job.schedule_id else None,
        "scheduledFor": iso(job.scheduled_for),
    }


def _label(job: Job) -> str:
    return get_job_type(job.type).label


def _data(job: Job, **extra) -> dict:
    data = {"jobId": str(job.id), "jobType": job.type, "url": f"{current_app.config['PUBLIC_URL']}/jobs/{job.id}"}
    if "connectionId" in (job.payload or {}):
        data["connectionId"] = job.payload["connectionId"]
    data.update(extra)
    return data


@dataclass
class Announcement:
    """Everything to push once a transition has committed, in the order clients should see it."""

    job: Job
    staged: notifications.Staged | None = None
    socket_events: list[tuple[str, dict]] = field(default_factory=list)
    counter: str | None = None
    final: bool = False

    def push(self) -> None:
        job = self.job
        if self.final:
            realtime.progress_throttle.forget(str(job.id))
        if self.counter:
            metrics.incr(self.counter, {"type": job.type})
        if self.final and job.started_at and job.completed_at:
            seconds = (job.completed_at - job.started_at).total_seconds()
            metrics.observe("job_duration_seconds", seconds, DURATION_BUCKETS, {"type": job.type})
        notifications.push(self.staged)
        for event, data in self.socket_events:
            realtime.emit(event, data, realtime.job_room(job.id))


def _status(job: Job) -> tuple[str, dict]:
    return "job:status", {"jobId": str(job.id), "status": job.status, "progress": job.progress}


def _notify(job: Job, kind: str, title: str, message: str, **extra) -> notifications.Staged | None:
    return notifications.stage(job.user_id, kind, f"{_label(job)} {title}", message, _data(job, **extra))


def stage_queued(job: Job) -> Announcement:
    staged = _notify(job, "job_queued", "queued", f"{_label(job)} job has been queued")
    return Announcement(
        job,
        staged,
        [("job:status", {"jobId": str(job.id), "status": "queued", "progress": None})],
        counter="jobs_created_total",
    )


def stage_started(job: Job) -> Announcement:
    # A retried attempt does not announce itself again.
    staged = _notify(job, "job_started", "started", f"{_label(job)} job has started") if job.attempts == 1 else None
    return Announcement(job, staged, [_status(job)])


def stage_retrying(job: Job) -> Announcement:
    return Announcement(job, None, [_status(job)])


def stage_completed(job: Job) -> Announcement:
    describe = get_job_type(job.type).describe_result
    message = describe(job.result or {}) if describe else f"{_label(job)} completed successfully"
    extra = {"tablesCount": job.result["totalTables"]} if job.result and "totalTables" in job.result else {}
    staged = _notify(job, "job_completed", "completed", message, **extra)
    events = [_status(job), ("job:completed", {"jobId": str(job.id), "result": job.result})]
    return Announcement(job, staged, events, counter="jobs_completed_total", final=True)


def stage_failed(job: Job) -> Announcement:
    staged = _notify(job, "job_failed", "failed", f"{_label(job)} failed: {job.error}", error=job.error)
    events = [_status(job), ("job:failed", {"jobId": str(job.id), "error": job.error})]
    return Announcement(job, staged, events, counter="jobs_failed_total", final=True)


def stage_cancelled(job: Job) -> Announcement:
    staged = _notify(job, "job_cancelled", "cancelled", f"{_label(job)} job was cancelled")
    return Announcement(job, staged, [_status(job)], final=True)


def current_state(job: Job) -> list[tuple[str, dict]]:
    """The events that tell a subscriber where a job stands now (to catch up after a gap)."""
    state = [_status(job)]
    if job.status == "completed":
        state.append(("job:completed", {"jobId": str(job.id), "result": job.result}))
    elif job.status == "failed":
        state.append(("job:failed", {"jobId": str(job.id), "error": job.error}))
    return state


def job_progress(job_id, progress: dict) -> None:
    interval = current_app.config["WEBSOCKET_PROGRESS_INTERVAL"]
    if realtime.progress_throttle.allow(str(job_id), interval):
        realtime.emit(
            "job:status", {"jobId": str(job_id), "status": "active", "progress": progress}, realtime.job_room(job_id)
        )
