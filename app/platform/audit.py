"""The audit log: one row per action a person took on a job or a connection."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from app.platform.pagination import fetch_page


def record(actor_id: uuid.UUID | None, action: str, target_type: str, target_id, details: dict | None = None) -> None:
    """Add an entry to the current transaction; it commits with the change it describes."""
    db.session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            details=details or {},
        )
    )


def list_audit_log(page: int, limit: int) -> tuple[list[AuditEntry], int]:
    return fetch_page(select(AuditEntry), page, limit, AuditEntry.created_at.desc(), AuditEntry.id.desc())
