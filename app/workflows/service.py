"""Workflows as users see them: create a DAG of jobs in one transaction, read, list, cancel."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from app.errors import ApiError, Conflict, ValidationFailed
from app.extensions import db
from app.jobs import announcements as events
from app.jobs import broker as queue
from app.jobs import service as jobs
from app.jobs import state
from app.jobs.options import JobRequest, validate_job_request
from app.jobs.state import JobStatus
from app.models import Job
from app.models.base import iso
from app.platform import audit
from app.platform.ownership import get_owned
from app.platform.pagination import fetch_page
from app.workflows import dag
from app.workflows.models import Workflow
from app.workflows.status import aggregate_status

# Options that mean something else inside a workflow: dependencies are its keys, and a singleton
# answer ("here is the job that already waits") has no place in a DAG created at once.
WORKFLOW_REFUSED_OPTIONS = {
    "dependsOn": "Inside a workflow, dependencies are the job's dependsOn keys.",
    "singletonKey": "Not available for the jobs of a workflow.",
}


def create_workflow(user_id: uuid.UUID, name: str | None, specs: Sequence[dict]) -> tuple[Workflow, list[Job]]:
    """Validate every job and the DAG, then create them all in one transaction (400 and nothing
    created otherwise). Jobs without dependencies go to the broker after the commit."""
    requests = _validated_requests(user_id, specs)
    ids = {spec["key"]: uuid.uuid4() for spec in specs}
    workflow = Workflow(
        id=uuid.uuid4(),
        user_id=user_id,
        name=name,
        job_keys=[{"key": spec["key"], "id": str(ids[spec["key"]])} for spec in specs],
        created_at=datetime.now(UTC),
    )
    db.session.add(workflow)
    db.session.flush()  # the jobs reference it
    depended_on = {key for spec in specs for key in spec["dependsOn"]}
    created = [
        _new_workflow_job(user_id, workflow.id, ids, spec, requests[spec["key"]], spec["key"] in depended_on)
        for spec in specs
    ]
    db.session.add_all(created)
    audit.record(user_id, "workflow.created", "workflow", workflow.id, {"jobs": len(created)})
    for job in created:
        events.stage_created(job)
        queue.enqueue_after_commit(job)  # only those without dependencies: the others are blocked
    db.session.commit()
    return workflow, created


def _new_workflow_job(user_id, workflow_id, ids: dict, spec: dict, req: JobRequest, depended_on: bool) -> Job:
    req.depends_on = [ids[key] for key in dict.fromkeys(spec["dependsOn"])]
    req.blocked_by = list(req.depends_on)  # all of them are new: none has completed
    job = jobs.new_job_row(user_id, req)
    job.id, job.workflow_id, job.has_dependents = ids[spec["key"]], workflow_id, depended_on
    return job


def _validated_requests(user_id: uuid.UUID, specs: Sequence[dict]) -> dict[str, JobRequest]:
    errors = dag.structure_errors(specs)
    labels = _labels(specs)
    requests: dict[str, JobRequest] = {}
    for index, spec in enumerate(specs):
        label = labels[index]
        refused = _refused_options(spec.get("options"))
        if refused:
            errors.setdefault(label, {})["options"] = refused
            continue
        try:
            requests[spec["key"]] = validate_job_request(user_id, spec["type"], spec["payload"], spec["options"])
        except ValidationFailed as err:
            errors.setdefault(label, {}).update(err.details)
        except ApiError as err:  # e.g. a foreign connection in the payload: its own status, keyed by job
            db.session.rollback()
            raise type(err)(err.message, {label: err.details or {"payload": [err.message]}}, code=err.code) from None
    if not errors:
        errors = dag.cycle_errors(specs)
    if errors:
        db.session.rollback()
        raise ValidationFailed("Invalid workflow", errors)
    return requests


def _labels(specs: Sequence[dict]) -> list[str]:
    """Each job's name in error details: its key, or its index when the key is not unique."""
    seen: set[str] = set()
    labels = []
    for index, spec in enumerate(specs):
        labels.append(str(index) if spec["key"] in seen else spec["key"])
        seen.add(spec["key"])
    return labels


def _refused_options(options) -> dict | None:
    if not isinstance(options, dict):
        return None
    refused = {name: [message] for name, message in WORKFLOW_REFUSED_OPTIONS.items() if name in options}
    return refused or None


def get_workflow(user_id: uuid.UUID, workflow_id: uuid.UUID) -> Workflow:
    """The caller's workflow, or 404 (another user's is not revealed)."""
    return get_owned(Workflow, workflow_id, user_id, "Workflow")


def list_workflows(user_id: uuid.UUID, page: int, limit: int) -> tuple[list[Workflow], int]:
    """Newest first."""
    query = select(Workflow).where(Workflow.user_id == user_id)
    return fetch_page(query, page, limit, Workflow.created_at.desc(), Workflow.id.desc())


def cancel_workflow(user_id: uuid.UUID, workflow_id: uuid.UUID) -> list[Job]:
    """Cancel every unfinished job of it (and, through the lifecycle seam, the jobs outside it that
    wait for them); 409 when nothing is left to cancel."""
    get_workflow(user_id, workflow_id)
    # Running jobs are locked first: one completing now holds its own row and then takes its
    # dependents', so waiting for it before taking those cannot deadlock with it.
    waiting = db.session.scalars(
        select(Job.id)
        .where(Job.workflow_id == workflow_id, Job.status.in_(state.WAITING))
        .order_by(Job.status != JobStatus.ACTIVE, Job.id)
        .with_for_update()
    ).all()
    cancelled = state.cancel_all(list(waiting))
    if not cancelled:
        db.session.rollback()
        raise Conflict("The workflow has already finished", code="invalid_transition")
    for job in cancelled:
        events.stage_cancelled(job)
    audit.record(user_id, "workflow.cancelled", "workflow", workflow_id, {"jobs": len(cancelled)})
    db.session.commit()
    return cancelled


def jobs_of(workflow_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Job]]:
    """The jobs of these workflows, in one query."""
    found: dict[uuid.UUID, list[Job]] = {workflow_id: [] for workflow_id in workflow_ids}
    if workflow_ids:
        for job in db.session.scalars(select(Job).where(Job.workflow_id.in_(workflow_ids))):
            found[job.workflow_id].append(job)
    return found


def serialize_workflow(workflow: Workflow, workflow_jobs: Sequence[Job]) -> dict:
    """The workflow as the API shows it; its jobs in the order the request listed them."""
    by_id = {job.id: job for job in workflow_jobs}
    keys = {uuid.UUID(entry["id"]): entry["key"] for entry in workflow.job_keys}
    listed = [by_id[uuid.UUID(entry["id"])] for entry in workflow.job_keys if uuid.UUID(entry["id"]) in by_id]
    return {
        "id": str(workflow.id),
        "name": workflow.name,
        "status": aggregate_status((job.status, job.started_at is not None) for job in listed),
        "jobs": [
            {
                "key": keys[job.id],
                "id": str(job.id),
                "type": job.type,
                "status": job.status,
                "dependsOn": [keys.get(dep, str(dep)) for dep in job.depends_on or ()],
                "blockedBy": [keys.get(dep, str(dep)) for dep in job.blocked_by or ()],
            }
            for job in listed
        ],
        "createdAt": iso(workflow.created_at),
        "completedAt": iso(workflow.completed_at),
    }
