"""What the job lifecycle calls at its seams, inside the transaction of the transition; the
hand-offs (broker, socket events, emails) are deferred until that transaction commits.

- `on_completed(job)`: from the completing transition.
- `on_ended(job)`: when a job failed for good or was cancelled.
- `on_retried(job)`: when a failed or cancelled job was queued again.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import update

from app.errors import Conflict
from app.extensions import db
from app.models import Job
from app.services import events, queue
from app.workflows import dependencies, handoff
from app.workflows.settle import settle_workflows

log = logging.getLogger(__name__)


def on_completed(job: Job) -> None:
    """Release the dependents whose last dependency this was; they go to the broker after the
    commit. Settle the job's workflow."""
    released = dependencies.release_dependents(job.id)
    if released:
        handoff.after_commit(lambda: send_released(released))
    settle_workflows([job.workflow_id])


def on_ended(job: Job) -> None:
    """Cancel the job's waiting dependents down the chain, each announced after the commit."""
    cancelled = dependencies.cancel_dependents([(job.id, job.status)])
    announce(cancelled, events.stage_cancelled)
    settle_workflows([job.workflow_id, *(other.workflow_id for other in cancelled)])


def on_retried(job: Job) -> None:
    """The retried job waits again for its unfinished dependencies (409 if one of them ended);
    the dependents cancelled because of it are queued again, blocked."""
    reblock(job)
    revived = dependencies.revive_dependents(job.id)
    announce(revived, events.stage_queued)
    # A revived job may also wait for a job that ended meanwhile: it is cancelled again, for that one.
    again = dependencies.cancel_dependents(dependencies.ended_dependencies([other.id for other in revived]))
    announce(again, events.stage_cancelled)
    settle_workflows([job.workflow_id, *(other.workflow_id for other in revived)])


def reblock(job: Job) -> None:
    """Recompute `blocked_by` of a job queued again; it is not sent while anything is left."""
    if not job.depends_on:
        return
    found = dependencies.lock_dependencies(job.depends_on)
    try:
        blocked_by = dependencies.unfinished_or_conflict(job.depends_on, found)
    except Conflict:
        db.session.rollback()  # nothing of this retry may stay
        raise
    job.blocked_by = blocked_by or None
    if blocked_by:
        job.enqueued_at = None
    db.session.flush()


def announce(jobs: list[Job], stage) -> None:
    for job in jobs:
        announcement = stage(job)
        handoff.after_commit(announcement.push)


def send_released(released: list[tuple]) -> None:
    """After the commit: hand the released jobs to the broker; one the broker refused is left
    to the release sweep (its `enqueued_at` cleared on a connection of its own)."""
    for job_id, job_type, priority, expire_in_seconds in released:
        try:
            queue.send_job(job_id, job_type, priority, expire_in_seconds)
        except Exception as exc:
            log.warning("released job %s not handed to the broker (%s); the sweep sends it", job_id, type(exc).__name__)
            _mark_unsent(job_id)


def _mark_unsent(job_id: uuid.UUID) -> None:
    try:
        with db.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == job_id, Job.status == "queued").values(enqueued_at=None))
    except Exception:  # the database too: the stale-enqueue sweep clears the mark later
        log.warning("could not clear the hand-off mark of job %s", job_id)
