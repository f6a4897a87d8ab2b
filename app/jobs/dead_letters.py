"""Dead letters: jobs that failed for good, listed for administrators and redriven by them."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.jobs import service as jobs
from app.models import DeadLetter
from app.models.base import iso


def list_dead_letters(page: int, limit: int, include_redriven: bool = False) -> tuple[list[DeadLetter], int]:
    query = select(DeadLetter)
    if not include_redriven:
        query = query.where(DeadLetter.redriven_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(DeadLetter.created_at.desc()).offset((page - 1) * limit).limit(limit)
    ).all()
    return list(rows), total


def redrive(admin_id: uuid.UUID, dead_letter_id: uuid.UUID):
    """Queue a dead-lettered job again with a fresh budget of attempts."""
    letter = db.session.get(DeadLetter, dead_letter_id)
    if letter is None:
        raise NotFound("Dead letter not found")
    if letter.redriven_at is not None:
        raise Conflict("This dead letter was already redriven", code="invalid_transition")
    return jobs.retry_job(None, letter.job_id, actor_id=admin_id, action="job.redriven")


def serialize_dead_letter(letter: DeadLetter) -> dict:
    return {
        "id": str(letter.id),
        "jobId": str(letter.job_id),
        "userId": str(letter.user_id),
        "jobType": letter.job_type,
        "error": letter.error,
        "attempts": letter.attempts,
        "createdAt": iso(letter.created_at),
        "redrivenAt": iso(letter.redriven_at),
    }
