"""Jobs: create, read, list, cancel, retry, and download the files a job produced."""

from __future__ import annotations

import uuid

from flask import request, send_file, url_for
from marshmallow import EXCLUDE, Schema, fields

from app.api.blueprint import Blueprint, as_documented
from app.api.links import from_body, link, links
from app.api.security import caller_id, login_required
from app.errors import NotFound, ValidationFailed
from app.files.artifacts import artifact_store, describe, downloadable_artifacts
from app.jobs import listing
from app.jobs import service as jobs
from app.jobs.announcements import serialize_job
from app.platform.rate_limit import check_job_creation
from app.schemas.common import ErrorSchema, MessageSchema, page_schema, paginated
from app.schemas.jobs import JobCreatedSchema, JobCreateSchema, JobListArgsSchema, JobSchema, RetryResponseSchema

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Background jobs")
JobPageSchema = page_schema(JobSchema, "JobPage")


class ArtifactSchema(Schema):
    id = fields.UUID()
    filename = fields.String()
    contentType = fields.String()
    sizeBytes = fields.Integer()


class ArtifactArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    artifactId = fields.UUID(metadata={"description": "Which file, when the job made several (default: the first)"})


# What `idempotency_key` accepts, as the document states it.
IDEMPOTENCY_KEY = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    # HTTP strips spaces and tabs around a header value: a key needs something else.
    "pattern": "^[^\\u0000]*[^\\u0000\\t ][^\\u0000]*$",
}


def idempotency_key() -> str | None:
    """The request's Idempotency-Key header, checked (POST /api/jobs and /api/jobs/batch)."""
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
@blp.alt_response(404, schema=ErrorSchema, description="A dependency (dependsOn) that is not the caller's job")
@blp.alt_response(409, schema=ErrorSchema, description="Idempotency-Key reused with another body, or dependency_failed")
@blp.alt_response(429, schema=ErrorSchema)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": IDEMPOTENCY_KEY, "required": False}])
@blp.doc(
    operationId="createJob",
    **links(
        202,
        GetJob=link("getJob", job_id=from_body("/id")),
        CancelJob=link("cancelJob", job_id=from_body("/id")),
        RetryJob=link("retryJob", job_id=from_body("/id")),
        ListJobArtifacts=link("listJobArtifacts", job_id=from_body("/id")),
    ),
)
def create(data):
    """Queue a job of a registered type for the caller."""
    user_id = caller_id()
    key = idempotency_key()
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
@blp.doc(operationId="listJobs")
def list_jobs(args):
    """The caller's jobs, newest first, filtered by status (comma list), type, batch, workflow and schedule."""
    rows, total = listing.list_jobs(
        args["page"],
        args["limit"],
        caller_id(),
        args.get("status"),
        args.get("type"),
        workflow_id=args.get("workflowId"),
        schedule_id=args.get("scheduleId"),
        batch_id=args.get("batchId"),
    )
    return as_documented(paginated([serialize_job(job) for job in rows], args["page"], args["limit"], total))


@blp.route("/<uuid:job_id>", methods=["GET"])
@login_required
@blp.response(200, JobSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.doc(operationId="getJob")
def get(job_id: uuid.UUID):
    return as_documented(serialize_job(jobs.get_job(caller_id(), job_id)))


@blp.route("/<uuid:job_id>", methods=["DELETE"])
@login_required
@blp.response(200, MessageSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="The job already finished")
@blp.doc(operationId="cancelJob", **links(200, RetryJob=link("retryJob", job_id="$request.path.job_id")))
def cancel(job_id: uuid.UUID):
    """Cancel: a queued job never starts, an active one stops within seconds."""
    jobs.cancel_job(caller_id(), job_id)
    return {"message": "Job cancelled"}


@blp.route("/<uuid:job_id>/retry", methods=["POST"])
@login_required
@blp.response(202, RetryResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Only failed or cancelled jobs can be retried")
@blp.doc(
    operationId="retryJob",
    **links(202, GetJob=link("getJob", job_id=from_body("/id")), CancelJob=link("cancelJob", job_id=from_body("/id"))),
)
def retry(job_id: uuid.UUID):
    job = jobs.retry_job(caller_id(), job_id)
    return {"id": str(job.id), "status": job.status}


@blp.route("/<uuid:job_id>/artifacts", methods=["GET"])
@login_required
@blp.response(200, ArtifactSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema)
@blp.doc(operationId="listJobArtifacts")
def list_artifacts(job_id: uuid.UUID):
    """The files a job produced and that can still be downloaded."""
    job = jobs.get_job(caller_id(), job_id)
    return [describe(artifact) for artifact in downloadable_artifacts(job)]


@blp.route("/<uuid:job_id>/artifact", methods=["GET"])
@login_required
@blp.arguments(ArtifactArgsSchema, location="query")
@blp.response(
    200,
    {"type": "string", "format": "binary"},  # documentation only: the view returns the file itself
    description="The file, as an attachment named after the artifact",
    content_type="application/octet-stream",
    headers={"Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename=..."}},
)
@blp.alt_response(400, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such job, or it has no file (or it expired)")
@blp.doc(operationId="downloadJobArtifact")
def download_artifact(args, job_id: uuid.UUID):
    """Download a file the job produced (an export, a backup, a report)."""
    job = jobs.get_job(caller_id(), job_id)
    available = downloadable_artifacts(job)
    wanted = args.get("artifactId")
    artifact = next((a for a in available if wanted is None or a.id == wanted), None)
    if artifact is None:
        raise NotFound("This job has no file to download (it may have expired)", code="artifact_not_found")
    response = send_file(
        artifact_store().path(artifact.storage_key),
        mimetype=artifact.content_type,
        as_attachment=True,
        download_name=artifact.filename,
        max_age=0,
    )
    response.headers["Content-Type"] = artifact.content_type  # as recorded: no second charset added
    response.headers["Cache-Control"] = "private, no-store"  # a user's data: no shared caches
    return response
