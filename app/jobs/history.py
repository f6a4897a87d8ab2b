"""A job's history (job_events): written by the transitions of `app.jobs.state` in the very
statement that changes the job, so an event exists exactly when its transition does, and read
back for the job page."""

from __future__ import annotations

import uuid

from sqlalchemy import insert, literal, null, select

from app.extensions import db
from app.models import Job, JobEvent
from app.models.job_event import EventKind
from app.platform.ownership import get_owned

# The newest events shown; a long job checkpointing for hours keeps more rows than a page needs.
MAX_EVENTS = 500


# The kinds whose row keeps the attempt's error (a retry or a redrive clears it from the job).
ERROR_KINDS = (EventKind.RETRYING, EventKind.FAILED)


_EVENTS = JobEvent.__table__
_COLUMNS = ("job_id", "kind", "attempt", "progress", "error")


def recording(changed, kind: EventKind):
    """The INSERT of the event of every job row in `changed` (the RETURNING of a transition's
    UPDATE, as a CTE): a data-modifying CTE of the same statement, so the transition and its
    event are one round trip and cannot be apart."""
    return insertion(changed, kind).cte(f"recorded_{kind}")


def insertion(changed, kind: EventKind):
    """`recording`'s INSERT, from any selectable of the changed jobs' id, attempts, progress and
    error."""
    error = changed.c.error if kind in ERROR_KINDS else null()
    rows = select(changed.c.id, literal(str(kind)), changed.c.attempts, changed.c.progress, error)
    return insert(_EVENTS).from_select(_COLUMNS, rows)


def stage_progress(job_id: uuid.UUID, attempt: int, progress: dict) -> None:
    """Add a progress checkpoint of the current attempt to the open transaction."""
    db.session.execute(
        insert(_EVENTS).values(job_id=job_id, kind=str(EventKind.PROGRESS), attempt=attempt, progress=progress)
    )


def history(user_id: uuid.UUID, job_id: uuid.UUID) -> list[dict]:
    """The caller's job's events, oldest first (the newest MAX_EVENTS); 404 for anyone else."""
    get_owned(Job, job_id, user_id, "Job")
    newest = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc()).limit(MAX_EVENTS)
    ).all()
    return [serialize(event) for event in reversed(newest)]


def serialize(event: JobEvent) -> dict:
    """One event as `JobEventSchema` dumps it."""
    return {
        "at": event.created_at,
        "kind": event.kind,
        "attempt": event.attempt,
        "progress": event.progress,
        "error": event.error,
    }
