"""Rows written straight into PostgreSQL, for lists longer or states older than a test could
reach through the API in its time."""

from __future__ import annotations

import uuid


def finished_job_row(user_id: uuid.UUID, status: str, **columns) -> dict:
    """The columns of a noop job that ran once and ended in `status`; `columns` override them."""
    return {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "type": "noop",
        "status": status,
        "payload": {},
        "priority": 0,
        "attempts": 1,
        "max_attempts": 1,
        "retry_delay": 0,
        "retry_backoff": False,
        "expire_in_seconds": 60,
        **columns,
    }
