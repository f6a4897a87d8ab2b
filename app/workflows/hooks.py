"""What the workflows follow of a job's life: the listeners of `app.jobs.lifecycle`, called by the
transitions of `app.jobs.state` inside their transaction. Sends and announcements are staged with
the unit of work (`app.platform.unit_of_work`): they go out once that transaction commits.

- `on_completed(jobs)`: the dependents whose last dependency completed are released.
- `on_ended(jobs)`: jobs that failed for good or were cancelled; their waiting dependents are
  cancelled, down the chain.
- `on_retried(jobs)`: failed or cancelled jobs queued again; each waits again for its unfinished
  dependencies, and the dependents cancelled because of it come back, blocked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.errors import Conflict
from app.extensions import db
from app.jobs import announcements as events
from app.jobs import broker as queue
from app.jobs.lifecycle import Seam, listen
from app.models import Job
from app.workflows import dependencies
from app.workflows.settle import settle_workflows


def register() -> None:
    """Follow the job lifecycle (once per process, however many apps are built)."""
    listen(Seam.COMPLETED, on_completed)
    listen(Seam.ENDED, on_ended)
    listen(Seam.RETRIED, on_retried)


def on_completed(jobs: Sequence[Job]) -> None:
    """Release the dependents whose last dependency this was, in the completing transaction;
    they go to the broker after its commit. Settle the jobs' workflows."""
    for job in jobs:
        if not job.has_dependents:  # most jobs: no job was ever created to wait for them
            continue
        for released in dependencies.release_dependents(job.id):
            queue.enqueue_after_commit(released)
    settle_workflows(job.workflow_id for job in jobs)


def on_ended(jobs: Sequence[Job]) -> None:
    """Cancel the jobs' waiting dependents down the chain, each announced after the commit."""
    cancelled = dependencies.cancel_dependents([(job.id, job.status) for job in jobs])
    announce(cancelled, events.stage_cancelled)
    settle_workflows([*(job.workflow_id for job in jobs), *(other.workflow_id for other in cancelled)])


def on_retried(jobs: Sequence[Job]) -> None:
    """Each retried job waits again for its unfinished dependencies (409 if one of them ended);
    the dependents cancelled because of it are queued again, blocked."""
    for job in jobs:
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
    found = dependencies.lock_dependencies(job.user_id, job.depends_on)
    try:
        blocked_by = dependencies.unfinished_or_conflict(job.depends_on, found)
    except Conflict:
        db.session.rollback()  # nothing of this retry may stay
        raise
    job.blocked_by = blocked_by or None
    if blocked_by:
        job.enqueued_at = None
    db.session.flush()


def announce(jobs: Sequence[Job], stage: Callable[[Job], object]) -> None:
    """Stage each job's announcement; the unit of work pushes it after the commit."""
    for job in jobs:
        stage(job)
