"""What a job's transitions announce: lifecycle notifications (in-app and email per preferences)
and the `job:*` socket events. Persist first, then push.

Each `stage_*` adds the notification rows to the transaction that records the transition and
stages the pushes with the unit of work (`app.platform.unit_of_work`): the caller only commits.
The notification exists exactly when the transition does, and nothing is pushed before both are
committed; a rollback drops the pushes with the rows. The webhook deliveries of a transition
are staged the same way (`app.webhooks.outbox`): rows in its transaction, handed to the
`webhooks` queue once it commits. The notification and the deliveries are one statement
(`app.platform.one_statement`): a transition's announcement costs one round trip."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import Row

from app.jobs.registry import get_job_type
from app.jobs.state import JobStatus
from app.models import Job
from app.models.base import iso
from app.notifications import service as notifications
from app.platform import metrics, one_statement, realtime
from app.platform.one_statement import Part
from app.platform.unit_of_work import on_commit
from app.webhooks import outbox as webhook_outbox

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800)


def serialize_job(job: Job | Row) -> dict:
    """A job as the API and socket events show it: the one home of its JSON shape. A Job, or a
    Core row of the jobs table's columns (the lists read those)."""
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
        # Workflows seam: its workflow, and the dependencies it still waits for.
        "workflowId": str(job.workflow_id) if job.workflow_id else None,
        "blockedBy": [str(job_id) for job_id in job.blocked_by or ()],
        "scheduleId": str(job.schedule_id) if job.schedule_id else None,
        "scheduledFor": iso(job.scheduled_for),
        "batchId": str(job.batch_id) if job.batch_id else None,
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
    """What to push once a transition has committed, in the order clients should see it.

    Captured when staged: the push runs after the commit, when the row is expired and the session
    may not load it again."""

    job_id: str
    job_type: str
    socket_events: list[tuple[str, dict]] = field(default_factory=list)
    counter: str | None = None
    final: bool = False
    duration_seconds: float | None = None

    def push(self) -> None:
        if self.final:
            realtime.progress_throttle.forget(self.job_id)
        if self.counter:
            metrics.incr(self.counter, {"type": self.job_type})
        if self.duration_seconds is not None:
            metrics.observe("job_duration_seconds", self.duration_seconds, DURATION_BUCKETS, {"type": self.job_type})
        for event, data in self.socket_events:
            realtime.emit(event, data, realtime.job_room(self.job_id))


def _announce(
    job: Job,
    socket_events: list,
    counter: str | None = None,
    final: bool = False,
    notice: Part | None = None,
    webhook: str | None = None,
    also: tuple[Part, ...] = (),
) -> list:
    """Stage the announcement of a transition in the open transaction: the caller's parts
    (`also`: a new job's INSERT and its audit entry, or the transition itself), its notice (a
    notification) and its `webhook` event's deliveries recorded in one statement, and what they
    push staged for after the commit (the notification's event, then the job's). Returns what
    the caller's parts answered."""
    answers = one_statement.run(*also, notice, _webhooks(job, webhook) if webhook is not None else None)
    duration = None
    if final and job.started_at and job.completed_at:
        # Never negative: a completion's time is the worker's clock, its start the database's.
        duration = max(0.0, (job.completed_at - job.started_at).total_seconds())
    announcement = Announcement(str(job.id), job.type, socket_events, counter, final, duration)
    on_commit(announcement.push)
    return answers[: len(also)]


def _status(job: Job) -> tuple[str, dict]:
    return "job:status", {"jobId": str(job.id), "status": job.status, "progress": job.progress}


def _notice(job: Job, kind: str, title: str, message: str, **extra) -> Part | None:
    """The job's notification, as a part of its transition's announcement statement."""
    if job.batch_id is not None:  # Batches seam: a batch announces itself once (app/batches/)
        return None
    return notifications.part(job.user_id, kind, f"{_label(job)} {title}", message, _data(job, **extra))


def _webhooks(job: Job, event_type: str) -> Part:
    """Webhooks seam: the deliveries of this transition, staged in its transaction."""
    return webhook_outbox.part(job.user_id, event_type, {"job": serialize_job(job)})


def stage_created(job: Job, *also: Part) -> list:
    """A new job (an API request, a schedule's tick, a workflow): its notification, webhook event
    and metric, in one statement with the caller's parts (the job's INSERT, its audit entry). No
    socket event: no one can be subscribed to a job before the request that creates it has
    answered with its id (and `subscribe:job` answers with the job's state anyway)."""
    notice = _notice(job, "job_queued", "queued", f"{_label(job)} job has been queued")
    return _announce(job, [], counter="jobs_created_total", notice=notice, webhook="job.queued", also=also)


def stage_queued(job: Job) -> list:
    """A job queued again (retried, or revived with its dependency): its subscribers hear it too."""
    notice = _notice(job, "job_queued", "queued", f"{_label(job)} job has been queued")
    events = [("job:status", {"jobId": str(job.id), "status": JobStatus.QUEUED, "progress": None})]
    return _announce(job, events, counter="jobs_created_total", notice=notice, webhook="job.queued")


def stage_started(job: Job) -> list:
    if job.attempts != 1:  # a retried attempt does not announce itself again
        return _announce(job, [_status(job)])
    notice = _notice(job, "job_started", "started", f"{_label(job)} job has started")
    return _announce(job, [_status(job)], notice=notice, webhook="job.started")


def stage_retrying(job: Job) -> list:
    return _announce(job, [_status(job)])


def stage_completed(job: Job, *also: Part) -> list:
    """The completion's notification, webhook event and socket events, in one statement with the
    caller's parts (the completion itself: `app.jobs.state.complete`); what those answered."""
    describe = get_job_type(job.type).describe_result
    message = describe(job.result or {}) if describe else f"{_label(job)} completed successfully"
    extra = {"tablesCount": job.result["totalTables"]} if job.result and "totalTables" in job.result else {}
    notice = _notice(job, "job_completed", "completed", message, **extra)
    events = [_status(job), ("job:completed", {"jobId": str(job.id), "result": job.result})]
    return _announce(job, events, "jobs_completed_total", final=True, notice=notice, webhook="job.completed", also=also)


def stage_failed(job: Job) -> list:
    notice = _notice(job, "job_failed", "failed", f"{_label(job)} failed: {job.error}", error=job.error)
    events = [_status(job), ("job:failed", {"jobId": str(job.id), "error": job.error})]
    return _announce(job, events, "jobs_failed_total", final=True, notice=notice, webhook="job.failed")


def stage_cancelled(job: Job) -> list:
    notice = _notice(job, "job_cancelled", "cancelled", f"{_label(job)} job was cancelled")
    return _announce(job, [_status(job)], final=True, notice=notice, webhook="job.cancelled")


def current_state(job: Job) -> list[tuple[str, dict]]:
    """The events that tell a subscriber where a job stands now (to catch up after a gap)."""
    state = [_status(job)]
    if job.status == JobStatus.COMPLETED:
        state.append(("job:completed", {"jobId": str(job.id), "result": job.result}))
    elif job.status == JobStatus.FAILED:
        state.append(("job:failed", {"jobId": str(job.id), "error": job.error}))
    return state


def job_progress(job_id, progress: dict) -> None:
    interval = current_app.config["WEBSOCKET_PROGRESS_INTERVAL"]
    if realtime.progress_throttle.allow(str(job_id), interval):
        realtime.emit(
            "job:status",
            {"jobId": str(job_id), "status": JobStatus.ACTIVE, "progress": progress},
            realtime.job_room(job_id),
        )


def stage_created_many(jobs: Sequence[Job]) -> None:
    """Batches seam: `stage_created` for many new jobs of one user (a batch announces itself with
    one notification of its own): one metric update, and their `job.queued` webhook deliveries
    recorded in one INSERT instead of one per job."""
    if not jobs:
        return
    counts = Counter(job.type for job in jobs)
    on_commit(lambda: [metrics.incr("jobs_created_total", {"type": name}, n) for name, n in counts.items()])
    webhook_outbox.stage_many(jobs[0].user_id, "job.queued", lambda: ({"job": serialize_job(job)} for job in jobs))
