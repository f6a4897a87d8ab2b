"""The dependency sweep (beat): repairs what a path that bypassed the lifecycle seams, or a crash
between a commit and its hand-off, left behind.

A released job that was never sent is the stale-enqueue sweep's (it is an ordinary queued job by
then); this one handles jobs still blocked although their dependencies have all completed (or
one of them ended), and workflows whose jobs have all finished but that were never settled.
It also deletes finished workflows whose jobs are gone (JOB_RETENTION_DAYS).
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.jobs import announcements as events
from app.workflows import dependencies, hooks
from app.workflows.settle import settle_workflows

log = logging.getLogger(__name__)

BATCH = 500

_UNBLOCK_SATISFIED = text(
    """
    WITH stuck AS (
        SELECT j.id FROM jobs j
        WHERE j.blocked_by IS NOT NULL AND j.status = 'queued'
          AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.id = ANY(j.blocked_by) AND p.status <> 'completed')
        ORDER BY j.id LIMIT :batch FOR UPDATE SKIP LOCKED
    )
    UPDATE jobs SET blocked_by = NULL, enqueued_at = NULL
    FROM stuck WHERE jobs.id = stuck.id AND jobs.blocked_by IS NOT NULL
    RETURNING jobs.id
    """
)

_ENDED_BLOCKERS = text(
    """
    SELECT DISTINCT p.id, p.status FROM jobs j JOIN jobs p ON p.id = ANY(j.blocked_by)
    WHERE j.blocked_by IS NOT NULL AND j.status = 'queued' AND p.status IN ('failed', 'cancelled')
    LIMIT :batch
    """
)

_UNSETTLED_WORKFLOWS = text(
    """
    SELECT w.id FROM workflows w
    WHERE w.completed_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.workflow_id = w.id AND j.status IN ('queued', 'active'))
    LIMIT :batch
    """
)


_PURGE_EMPTIED = text(
    """
    DELETE FROM workflows WHERE id IN (
        SELECT w.id FROM workflows w
        WHERE w.completed_at < now() - make_interval(days => :days)
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.workflow_id = w.id)
        LIMIT :batch
    )
    """
)


def sweep_dependencies() -> int:
    """One pass; returns how many jobs and workflows it repaired."""
    repaired = _unblock_satisfied() + _cancel_orphaned() + _settle_finished()
    if repaired:
        log.warning("dependency sweep repaired %d jobs or workflows", repaired)
    _purge_emptied()
    return repaired


def _unblock_satisfied() -> int:
    """Blocked jobs whose dependencies have all completed: unblocked, and sent by the release sweep."""
    released = db.session.execute(_UNBLOCK_SATISFIED, {"batch": BATCH}).all()
    db.session.commit()
    return len(released)


def _cancel_orphaned() -> int:
    """Blocked jobs waiting for a job that failed or was cancelled: cancelled, down the chain."""
    roots = [(row.id, row.status) for row in db.session.execute(_ENDED_BLOCKERS, {"batch": BATCH})]
    cancelled = dependencies.cancel_dependents(roots)
    hooks.announce(cancelled, events.stage_cancelled)
    settle_workflows(job.workflow_id for job in cancelled)
    db.session.commit()
    return len(cancelled)


def _purge_emptied() -> int:
    """Finished workflows whose jobs retention has deleted go too."""
    days = current_app.config["JOB_RETENTION_DAYS"]
    deleted = db.session.execute(_PURGE_EMPTIED, {"days": days, "batch": BATCH}).rowcount
    db.session.commit()
    return deleted


def _settle_finished() -> int:
    workflow_ids = [row.id for row in db.session.execute(_UNSETTLED_WORKFLOWS, {"batch": BATCH})]
    settle_workflows(workflow_ids)
    db.session.commit()
    return len(workflow_ids)
