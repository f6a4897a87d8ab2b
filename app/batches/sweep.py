"""The batch sweep (beat): settles a batch whose jobs have all finished by a path that bypassed
the lifecycle seams (a repair by hand, a bulk update), and deletes finished batches once
retention (JOB_RETENTION_DAYS) has deleted their jobs. A batch is otherwise settled in the
transaction of its last job's transition (app/batches/hooks.py), never by this sweep."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import text

from app.batches.settle import settle_batches
from app.extensions import db

log = logging.getLogger(__name__)

BATCH = 500

_UNSETTLED = text(
    """
    SELECT b.id FROM batches b
    WHERE b.completed_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.id AND j.status IN ('queued', 'active'))
    LIMIT :batch
    """
)

_PURGE_EMPTIED = text(
    """
    DELETE FROM batches WHERE id IN (
        SELECT b.id FROM batches b
        WHERE b.completed_at < now() - make_interval(days => :days)
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.id)
        LIMIT :batch
    )
    """
)


def sweep_batches() -> int:
    """One pass; returns how many batches it settled."""
    batch_ids = [row.id for row in db.session.execute(_UNSETTLED, {"batch": BATCH})]
    settle_batches(batch_ids)
    db.session.commit()
    if batch_ids:
        log.warning("batch sweep settled %d batches", len(batch_ids))
    days = current_app.config["JOB_RETENTION_DAYS"]
    db.session.execute(_PURGE_EMPTIED, {"days": days, "batch": BATCH})
    db.session.commit()
    return len(batch_ids)
