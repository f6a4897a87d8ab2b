"""The tick: turn due schedules into jobs, exactly one job per schedule and tick.

Each due row is claimed with `FOR UPDATE SKIP LOCKED` (another beat process skips it rather than
waiting) and, in the same transaction, its job is created through the job service, exactly as
`POST /api/jobs` would create it, and `next_run_at` moves to the first tick after now. So the job
exists exactly when the tick is marked handled; a tick handled twice (two beats, a restart) trips
the unique `(schedule_id, scheduled_for)` key instead of creating a second job; and ticks missed
while nothing ran are caught up by one job, for the first of them. The job's `job_queued` event
and broker hand-off, like a disabled schedule's notification, are staged in that transaction and
sent by the unit of work (`app.platform.unit_of_work`) only once it commits.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import ApiError
from app.extensions import db
from app.jobs import service as jobs
from app.notifications import service as notifications
from app.platform import audit
from app.schedules import cron
from app.schedules.models import Schedule

log = logging.getLogger(__name__)

MAX_PER_PASS = 100  # one pass never starves the loop that calls it


def run_due(limit: int = MAX_PER_PASS) -> int:
    """Handle every schedule due now (at most `limit`); returns how many were handled."""
    handled = 0
    while handled < limit and fire_next_due():
        handled += 1
    return handled


def seconds_until_next_due() -> float | None:
    """Seconds until the earliest enabled schedule is due (<= 0: now); None if there is none."""
    seconds = db.session.scalar(
        select(func.extract("epoch", func.min(Schedule.next_run_at) - func.now())).where(Schedule.enabled)
    )
    db.session.rollback()
    return None if seconds is None else float(seconds)


def fire_next_due() -> bool:
    """Claim one due schedule and create its job; False when none is due."""
    row = db.session.execute(
        select(Schedule, func.now())
        .where(Schedule.enabled, Schedule.next_run_at <= func.now())
        .order_by(Schedule.next_run_at)
        .limit(1)
        .with_for_update(skip_locked=True, of=Schedule)
    ).first()
    if row is None:
        db.session.rollback()
        return False
    schedule, now = row
    # Read now: a rollback below expires the object.
    schedule_id, user_id, name, tick = schedule.id, schedule.user_id, schedule.name, schedule.next_run_at
    try:
        next_run = cron.parse(schedule.cron, schedule.timezone).next_after(now)
    except cron.CronError as exc:  # e.g. a zone the system's tz database no longer has
        db.session.rollback()
        disable(schedule_id, user_id, name, exc.message)
        return True
    # The database's clock, not this process's: beat processes on several machines agree.
    schedule.next_run_at, schedule.last_run_at = next_run, now
    try:
        job, created = jobs.create_job(
            user_id, schedule.type, schedule.payload, schedule.options, schedule_id=schedule_id, scheduled_for=tick
        )
    except ApiError as exc:
        if exc.status >= 500:
            raise
        db.session.rollback()
        disable(schedule_id, user_id, name, _reason(exc))
        return True
    except IntegrityError as exc:
        db.session.rollback()
        log.warning("schedule %s: tick %s already has a job (%s)", schedule_id, tick.isoformat(), _constraint(exc))
        job, created = None, False
    if created:
        log.info("schedule %s: job %s for tick %s", schedule_id, job.id, tick.isoformat())
    else:
        # No job (a singletonKey job still waits, or the tick had one): the tick passes anyway.
        _advance(schedule_id, tick, next_run)
    return True


def _advance(schedule_id: uuid.UUID, tick: datetime, next_run: datetime | None) -> None:
    db.session.execute(
        update(Schedule)
        .where(Schedule.id == schedule_id, Schedule.next_run_at == tick)
        .values(next_run_at=next_run)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def disable(schedule_id: uuid.UUID, user_id: uuid.UUID, name: str, reason: str) -> None:
    """Stop a schedule that cannot create its job any more, and tell its owner why."""
    db.session.execute(
        update(Schedule)
        .where(Schedule.id == schedule_id)
        .values(enabled=False, next_run_at=None)
        .execution_options(synchronize_session=False)
    )
    audit.record(None, "schedule.disabled", "schedule", schedule_id, {"reason": reason})
    # Staged: the unit of work pushes it once this commit succeeds, and drops it if it fails.
    notifications.stage(
        user_id,
        "system",
        f"Schedule {name} disabled",
        f'Schedule "{name}" was disabled: {reason}. Fix it and enable it again.',
        {"scheduleId": str(schedule_id)},
    )
    db.session.commit()
    log.warning("schedule %s disabled: %s", schedule_id, reason)


def _reason(exc: ApiError) -> str:
    """Why the job type refused the schedule's request, in words (a connection that is gone)."""
    messages = list(_flatten(exc.details))
    if any("Connection not found" in message for message in messages):
        return "its connection no longer exists"
    return f"{exc.message.lower()} ({'; '.join(messages)})" if messages else exc.message.lower()


def _flatten(details, prefix: str = ""):
    if isinstance(details, dict):
        for key, value in details.items():
            yield from _flatten(value, f"{prefix}{key}.")
    elif isinstance(details, list):
        for item in details:
            yield from _flatten(item, prefix)
    else:
        yield f"{prefix.rstrip('.')}: {details}" if prefix else str(details)


def _constraint(exc: IntegrityError) -> str:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) or type(exc.orig).__name__
