"""Workflows: create a DAG of jobs, read, list, cancel."""

from __future__ import annotations

import uuid

from flask import url_for

from app.api.blueprint import Blueprint
from app.api.security import caller_id, login_required
from app.platform.rate_limit import check_job_creation
from app.schemas.common import ErrorSchema, MessageSchema, PaginationArgsSchema, page_schema, paginated
from app.schemas.workflows import WorkflowCreateSchema, WorkflowSchema
from app.workflows import service

blp = Blueprint("workflows", __name__, url_prefix="/api/workflows", description="Workflows: DAGs of jobs")
WorkflowPageSchema = page_schema(WorkflowSchema, "WorkflowPage")


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(WorkflowCreateSchema)
@blp.response(202, WorkflowSchema)
@blp.alt_response(400, schema=ErrorSchema, description="An invalid job, a duplicate or unknown key, or a cycle")
@blp.alt_response(404, schema=ErrorSchema, description="A payload names something that is not the caller's")
@blp.alt_response(429, schema=ErrorSchema)
def create(data):
    """Create the jobs of a DAG in one transaction; each waits for the jobs its dependsOn names."""
    user_id = caller_id()
    check_job_creation(user_id)  # a workflow counts as one request, like a batch
    workflow, created = service.create_workflow(user_id, data.get("name"), data["jobs"])
    headers = {"Location": url_for("workflows.get", workflow_id=workflow.id)}
    return service.serialize_workflow(workflow, created), 202, headers


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, WorkflowPageSchema)
@blp.alt_response(400, schema=ErrorSchema)
def list_workflows(args):
    """The caller's workflows, newest first."""
    rows, total = service.list_workflows(caller_id(), args["page"], args["limit"])
    by_workflow = service.jobs_of([workflow.id for workflow in rows])
    items = [service.serialize_workflow(workflow, by_workflow[workflow.id]) for workflow in rows]
    return paginated(items, args["page"], args["limit"], total)


@blp.route("/<uuid:workflow_id>", methods=["GET"])
@login_required
@blp.response(200, WorkflowSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get(workflow_id: uuid.UUID):
    workflow = service.get_workflow(caller_id(), workflow_id)
    return service.serialize_workflow(workflow, service.jobs_of([workflow.id])[workflow.id])


@blp.route("/<uuid:workflow_id>", methods=["DELETE"])
@login_required
@blp.response(200, MessageSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="The workflow has already finished")
def cancel(workflow_id: uuid.UUID):
    """Cancel every unfinished job of the workflow."""
    service.cancel_workflow(caller_id(), workflow_id)
    return {"message": "Workflow cancelled"}
