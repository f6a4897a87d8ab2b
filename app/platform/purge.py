"""Deleting rows in small batches, each its own short transaction, so a purge never holds locks
for long."""

from __future__ import annotations

from sqlalchemy import delete, select

from app.extensions import db


def purge_in_batches(table, condition, batch: int) -> int:
    """Delete matching rows a batch at a time, each batch its own short transaction."""
    total = 0
    while True:
        ids = select(table.c.id).where(condition).limit(batch).scalar_subquery()
        deleted = db.session.execute(delete(table).where(table.c.id.in_(ids))).rowcount
        db.session.commit()
        total += deleted
        if deleted < batch:
            return total
