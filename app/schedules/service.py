"""Schedules as users see them: create, list, get, update (pause, resume), delete, run now.

A schedule's job request is checked exactly as `POST /api/jobs` checks one, at creation and at
every change, and again by the job service at every tick.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.extensions import db
from app.jobs import service as jobs
from app.jobs.options import validate_job_request
from app.models import Job, User
from app.models.base import iso
from app.platform import audit
from app.platform.ownership import get_owned
from app.platform.pagination import fetch_page
from app.schedules import cron
from app.schedules.models import Schedule

PATCHABLE = ("name", "cron", "timezone", "payload", "options", "enabled")


def parse_cron(expression, timezone) -> cron.Cron:
    """The expression in its zone, or a 400 naming the field; refuses intervals shorter than
    SCHEDULE_MIN_INTERVAL_SECONDS (the shortest gap between fire times over the next year)."""
    try:
        parsed = cron.parse(expression, timezone)
    except cron.CronError as exc:
        raise ValidationFailed("Invalid schedule", {exc.field: [exc.message]}, code="invalid_schedule") from None
    minimum = current_app.config["SCHEDULE_MIN_INTERVAL_SECONDS"]
    shortest = cron.shortest_interval(parsed, datetime.now(UTC), stop_below=minimum)
    if shortest is not None and shortest < minimum:
        message = f"Fires every {shortest:g} s at times; the shortest interval allowed is {minimum} s."
        raise ValidationFailed("Invalid schedule", {"cron": [message]}, code="interval_too_short")
    return parsed


def preview(expression, timezone, count: int) -> dict:
    """The next `count` fire times, checked as a schedule would be."""
    parsed = parse_cron(expression, timezone)
    runs = parsed.next_runs(datetime.now(UTC), count)
    return {"cron": parsed.expression, "timezone": timezone, "nextRuns": [iso(run) for run in runs]}


def _check_job_request(user_id: uuid.UUID, type_name, payload, options) -> dict:
    """The payload as the job type cleans it; a 400 as `POST /api/jobs` would answer."""
    return validate_job_request(user_id, type_name, payload, options).payload


def create_schedule(user_id: uuid.UUID, data: dict) -> Schedule:
    timezone = data.get("timezone") or "UTC"
    parsed = parse_cron(data["cron"], timezone)
    payload = _check_job_request(user_id, data["type"], data.get("payload", {}), data.get("options"))
    # The owner's row serialises concurrent creations, so the limit cannot be overrun by a race.
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    limit = current_app.config["MAX_SCHEDULES_PER_USER"]
    owned = db.session.scalar(select(func.count()).select_from(Schedule).where(Schedule.user_id == user_id))
    if owned >= limit:
        db.session.rollback()
        raise ValidationFailed(
            f"You already have {owned} schedules; at most {limit} are allowed",
            {"schedules": [f"At most {limit} per user."]},
            code="schedule_limit",
        )
    enabled = data.get("enabled", True)
    schedule = Schedule(
        id=uuid.uuid4(),
        user_id=user_id,
        name=data["name"],
        type=data["type"],
        payload=payload,
        options=data.get("options"),
        cron=parsed.expression,
        timezone=timezone,
        enabled=enabled,
        next_run_at=parsed.next_after(datetime.now(UTC)) if enabled else None,
        created_at=datetime.now(UTC),
    )
    db.session.add(schedule)
    audit.record(user_id, "schedule.created", "schedule", schedule.id, {"type": schedule.type, "cron": schedule.cron})
    db.session.commit()
    return schedule


def get_schedule(user_id: uuid.UUID, schedule_id: uuid.UUID, lock: bool = False) -> Schedule:
    """The caller's schedule, or 404 (another user's is not revealed)."""
    return get_owned(Schedule, schedule_id, user_id, "Schedule", with_for_update=lock or None)


def list_schedules(user_id: uuid.UUID, page: int, limit: int) -> tuple[list[Schedule], int]:
    query = select(Schedule).where(Schedule.user_id == user_id)
    return fetch_page(query, page, limit, Schedule.created_at.desc(), Schedule.id.desc())


def update_schedule(user_id: uuid.UUID, schedule_id: uuid.UUID, changes: dict) -> Schedule:
    """Apply a PATCH; a new cron, time zone or `enabled` recomputes the next run from now.
    Changes are checked as at creation (the job request again when resuming)."""
    schedule = get_schedule(user_id, schedule_id, lock=True)
    changes = {key: value for key, value in changes.items() if key in PATCHABLE}
    was_enabled = schedule.enabled
    if {"cron", "timezone", "enabled"} & changes.keys():
        timezone = changes.get("timezone", schedule.timezone)
        parsed = parse_cron(changes.get("cron", schedule.cron), timezone)
        schedule.cron, schedule.timezone = parsed.expression, timezone
        schedule.enabled = changes.get("enabled", schedule.enabled)
        schedule.next_run_at = parsed.next_after(datetime.now(UTC)) if schedule.enabled else None
    # Resuming checks the job request too: a schedule disabled because its connection is gone
    # is refused now (as POST /api/jobs would refuse it) rather than disabled again at its next tick.
    if {"payload", "options"} & changes.keys() or (schedule.enabled and not was_enabled):
        schedule.payload = _check_job_request(
            user_id, schedule.type, changes.get("payload", schedule.payload), changes.get("options", schedule.options)
        )
        schedule.options = changes.get("options", schedule.options)
    schedule.name = changes.get("name", schedule.name)
    action = "schedule.updated"
    if schedule.enabled != was_enabled:
        action = "schedule.resumed" if schedule.enabled else "schedule.paused"
    audit.record(user_id, action, "schedule", schedule.id, {"fields": sorted(changes)})
    db.session.commit()
    return schedule


def delete_schedule(user_id: uuid.UUID, schedule_id: uuid.UUID) -> None:
    """Delete it; its jobs stay (a running one finishes) with `scheduleId` cleared."""
    schedule = get_schedule(user_id, schedule_id, lock=True)
    db.session.delete(schedule)
    audit.record(user_id, "schedule.deleted", "schedule", schedule_id, {"name": schedule.name})
    db.session.commit()


def run_now(user_id: uuid.UUID, schedule_id: uuid.UUID) -> Job:
    """One job now, outside the cron (no `scheduledFor`); the next tick is unchanged."""
    schedule = get_schedule(user_id, schedule_id, lock=True)
    schedule.last_run_at = datetime.now(UTC)
    audit.record(user_id, "schedule.run", "schedule", schedule.id)
    # create_job commits the schedule's row and the audit entry with the job, or none of them.
    job, created = jobs.create_job(user_id, schedule.type, schedule.payload, schedule.options, schedule_id=schedule.id)
    if not created:  # a singletonKey job of this schedule still waits: that one answers
        db.session.rollback()
    return job


def last_job_ids(schedule_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Each schedule's newest job (retention may have removed older ones), in one query."""
    if not schedule_ids:
        return {}
    rows = db.session.execute(
        select(Job.schedule_id, Job.id)
        .where(Job.schedule_id.in_(schedule_ids))
        .distinct(Job.schedule_id)
        .order_by(Job.schedule_id, Job.created_at.desc(), Job.id.desc())
    ).all()
    return {row.schedule_id: row.id for row in rows}


def serialize(schedule: Schedule, last_job_id: uuid.UUID | None) -> dict:
    return {
        "id": str(schedule.id),
        "name": schedule.name,
        "type": schedule.type,
        "payload": schedule.payload,
        "options": schedule.options,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "enabled": schedule.enabled,
        "nextRunAt": iso(schedule.next_run_at),
        "lastRunAt": iso(schedule.last_run_at),
        "lastJobId": str(last_job_id) if last_job_id else None,
        "createdAt": iso(schedule.created_at),
    }


def serialize_many(schedules: list[Schedule]) -> list[dict]:
    last = last_job_ids([schedule.id for schedule in schedules])
    return [serialize(schedule, last.get(schedule.id)) for schedule in schedules]
