"""Dead letters: jobs that failed for good, listed for administrators and redriven by them."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.errors import Conflict, NotFound
from app.extensions import db
from app.jobs import service as jobs
from app.models import DeadLetter
from app.platform.pagination import fetch_page


def list_dead_letters(page: int, limit: int, include_redriven: bool = False) -> tuple[list[DeadLetter], int]:
    query = select(DeadLetter)
    if not include_redriven:
        query = query.where(DeadLetter.redriven_at.is_(None))
    return fetch_page(query, page, limit, DeadLetter.created_at.desc())


def redrive(admin_id: uuid.UUID, dead_letter_id: uuid.UUID):
    """Queue a dead-lettered job again with a fresh budget of attempts."""
    letter = db.session.get(DeadLetter, dead_letter_id)
    if letter is None:
        raise NotFound("Dead letter not found")
    if letter.redriven_at is not None:
        raise Conflict("This dead letter was already redriven", code="invalid_transition")
    return jobs.retry_job(None, letter.job_id, actor_id=admin_id, action="job.redriven")
