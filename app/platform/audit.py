"""The audit log: one row per action a person took on a job or a connection."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import JSONB

from app.models import AuditEntry
from app.platform import one_statement
from app.platform.one_statement import Fragment, Part
from app.platform.pagination import fetch_page

# The entry, as a part of the statement that records what it describes (`app.platform.one_statement`):
# an INSERT run at once, not an object for the session to flush at the commit.
_ENTRY = Fragment(
    """
    audit_entry AS (
        INSERT INTO audit_log (actor_id, action, target_type, target_id, details)
        VALUES (:audit_actor_id, :audit_action, :audit_target_type, :audit_target_id, :audit_details)
        RETURNING id
    )""",
    "(SELECT id FROM audit_entry) AS audit_entry_id",
    (("audit_details", JSONB()),),
)


def part(actor_id: uuid.UUID | None, action: str, target_type: str, target_id, details: dict | None = None) -> Part:
    """The entry as a part of the statement of the change it describes: one round trip for both
    (a job's creation records it with the job's notification and webhook deliveries)."""
    params = {
        "audit_actor_id": actor_id,
        "audit_action": action,
        "audit_target_type": target_type,
        "audit_target_id": str(target_id),
        "audit_details": details or {},
    }
    return Part(_ENTRY, params, lambda row: row.audit_entry_id)


def record(actor_id: uuid.UUID | None, action: str, target_type: str, target_id, details: dict | None = None) -> None:
    """Add an entry to the current transaction; it commits with the change it describes: `part`,
    alone in its statement."""
    one_statement.run(part(actor_id, action, target_type, target_id, details))


def list_audit_log(page: int, limit: int) -> tuple[list[AuditEntry], int]:
    return fetch_page(select(AuditEntry), page, limit, AuditEntry.created_at.desc(), AuditEntry.id.desc())
