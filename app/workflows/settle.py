"""Settling a workflow after one of its jobs changed: when every job has finished, mark it
finished and announce `workflow_completed` or `workflow_failed` once; a retry reopens it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.jobs.state import JobStatus
from app.models import Job
from app.notifications import service as notifications
from app.platform import one_statement
from app.webhooks import outbox
from app.workflows.models import Workflow
from app.workflows.status import FINAL_WORKFLOW_STATUSES, aggregate_status

ANNOUNCED = {"completed": "workflow_completed", "failed": "workflow_failed"}


def settle_workflows(workflow_ids: Iterable[uuid.UUID | None]) -> None:
    """In the caller's transaction, for each workflow (in id order, the lock order)."""
    for workflow_id in sorted({wid for wid in workflow_ids if wid is not None}):
        _settle(workflow_id)


def _settle(workflow_id: uuid.UUID) -> None:
    # The row lock makes the last two jobs finishing at once take turns: the second one, in a
    # statement begun after the first committed, sees both finished.
    workflow = db.session.scalars(
        select(Workflow).where(Workflow.id == workflow_id).with_for_update(),
        execution_options={"populate_existing": True},
    ).one_or_none()
    if workflow is None:
        return
    counts = job_counts(workflow_id)
    status = aggregate_status(counts.pop("_pairs"))
    if status in FINAL_WORKFLOW_STATUSES and workflow.completed_at is None:
        workflow.completed_at = datetime.now(UTC)
        if status in ANNOUNCED:
            _stage_announcement(workflow, status, counts)  # pushed once the transaction commits
    elif status not in FINAL_WORKFLOW_STATUSES and workflow.completed_at is not None:
        workflow.completed_at = None


def job_counts(workflow_id: uuid.UUID) -> dict:
    """{"count", "completed", "failed", "cancelled", "_pairs": [(status, started)]} of its jobs."""
    rows = db.session.execute(
        select(Job.status, Job.started_at.is_not(None)).where(Job.workflow_id == workflow_id)
    ).all()
    pairs = [(status, started) for status, started in rows]
    counted = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
    counts = {str(name): sum(1 for status, _ in pairs if status == name) for name in counted}
    return {"count": len(pairs), **counts, "_pairs": pairs}


def _stage_announcement(workflow: Workflow, status: str, counts: dict) -> notifications.Staged | None:
    label = f"Workflow {workflow.name}" if workflow.name else "Workflow"
    if status == "completed":
        title, message = f"{label} completed", f"All {counts['count']} jobs of the workflow completed"
    else:
        title = f"{label} failed"
        message = (
            f"{counts['failed']} of {counts['count']} jobs failed, {counts['cancelled']} were cancelled, "
            f"{counts['completed']} completed"
        )
    data = {
        "workflowId": str(workflow.id),
        "name": workflow.name,
        "status": status,
        "url": f"{current_app.config['PUBLIC_URL']}/workflows/{workflow.id}",
        **counts,
    }
    # Webhooks hear of it in the same transaction and statement (`workflow.completed` / `.failed`).
    _, staged = one_statement.run(
        outbox.part(workflow.user_id, f"workflow.{status}", {"workflow": data}),
        notifications.part(workflow.user_id, ANNOUNCED[status], title, message, data),
    )
    return staged
