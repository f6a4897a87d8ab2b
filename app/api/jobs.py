"""Jobs: create, read, list, cancel, retry."""

from __future__ import annotations

import uuid

from flask import request, url_for

from app.api.blueprint import Blueprint
from app.api.security import caller_id, login_required
from app.errors import ValidationFailed
from app.schemas.common import ErrorSchema, MessageSchema, page_schema, paginated
from app.schemas.jobs import JobCreatedSchema, JobCreateSchema, JobListArgsSchema, JobSchema, RetryResponseSchema
from app.services import jobs
from app.services.events import serialize_job

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Background jobs")
JobPageSchema = page_schema(JobSchema, "JobPage")


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or "\x00" in key:
        raise ValidationFailed("Invalid Idempotency-Key", {"Idempotency-Key": ["Must be 1 to 255 characters."]})
    return key


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(JobCreateSchema)
@blp.response(202, JobCreatedSchema)
@blp.alt_response(200, schema=JobCreatedSchema, description="An Idempotency-Key or singletonKey repeat")
@blp.alt_response(400, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Idempotency-Key reused with another body")
@blp.alt_response(429, schema=ErrorSchema)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}, "required": False}])
def create(data):
    """Queue a job of a registered type for the caller."""
    from app.services.rate_limit import check_job_creation

    user_id = caller_id()
    key = _idempotency_key()
    check_job_creation(user_id)
    job, created = jobs.create_job(user_id, data["type"], data.get("payload"), data.get("options"), key)
    body = {"id": str(job.id), "type": job.type, "status": job.status, "createdAt": job.created_at.isoformat()}
    headers = {"Location": url_for("jobs.get", job_id=job.id)}
    return body, 202 if created else 200, headers


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(JobListArgsSchema, location="query")
@blp.response(200, JobPageSchema)
@blp.alt_response(400, schema=ErrorSchema)
def list_jobs(args):
    """The caller's jobs, newest first, filtered by status (comma list) and type."""
    rows, total = jobs.list_jobs(args["page"], args["limit"], caller_id(), args.get("status"), args.get("type"))
    return paginated([serialize_job(job) for job in rows], args["page"], args["limit"], total)


@blp.route("/<uuid:job_id>", methods=["GET"])
@login_required
@blp.response(200, JobSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get(job_id: uuid.UUID):
    return serialize_job(jobs.get_job(caller_id(), job_id))


@blp.route("/<uuid:job_id>", methods=["DELETE"])
@login_required
@blp.response(200, MessageSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="The job already finished")
def cancel(job_id: uuid.UUID):
    """Cancel: a queued job never starts, an active one stops within seconds."""
    jobs.cancel_job(caller_id(), job_id)
    return {"message": "Job cancelled"}


@blp.route("/<uuid:job_id>/retry", methods=["POST"])
@login_required
@blp.response(202, RetryResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Only failed or cancelled jobs can be retried")
def retry(job_id: uuid.UUID):
    job = jobs.retry_job(caller_id(), job_id)
    return {"id": str(job.id), "status": job.status}
