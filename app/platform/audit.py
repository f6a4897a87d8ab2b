"""The audit log: one row per action a person took on a job or a connection."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry
from app.models.base import iso


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


def serialize(entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "actorId": str(entry.actor_id) if entry.actor_id else None,
        "action": entry.action,
        "targetType": entry.target_type,
        "targetId": entry.target_id,
        "details": entry.details,
        "createdAt": iso(entry.created_at),
    }


def list_audit_log(page: int, limit: int) -> tuple[list[AuditEntry], int]:
    total = db.session.scalar(select(func.count()).select_from(AuditEntry))
    rows = db.session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * limit)
        .limit(limit)
    ).all()
    return list(rows), total
