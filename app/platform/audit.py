"""The audit log: one row per action a person took on a job or a connection."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, insert, select

from app.extensions import db
from app.models import AuditEntry
from app.platform.pagination import fetch_page

# Built once: constructing the INSERT costs more than running it, on every job's creation.
_RECORD = insert(AuditEntry.__table__).values(
    {column: bindparam(column) for column in ("actor_id", "action", "target_type", "target_id", "details")}
)


def record(actor_id: uuid.UUID | None, action: str, target_type: str, target_id, details: dict | None = None) -> None:
    """Add an entry to the current transaction; it commits with the change it describes.

    A plain INSERT run at once, not an object for the session to flush at the commit: the entry
    needs nothing back, and the hot path of every job creation pays for each flushed object.
    No autoflush: the caller's pending objects (a new job) must meet their integrity errors at
    the caller's own commit."""
    values = {
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id),
        "details": details or {},
    }
    with db.session.no_autoflush:
        db.session.execute(_RECORD, values)


def list_audit_log(page: int, limit: int) -> tuple[list[AuditEntry], int]:
    return fetch_page(select(AuditEntry), page, limit, AuditEntry.created_at.desc(), AuditEntry.id.desc())
