"""Batches: many independent jobs created by one request (`POST /api/jobs/batch`)."""

from __future__ import annotations

from apispec import APISpec

from app.api.blueprint import Blueprint, as_documented
from app.api.jobs import IDEMPOTENCY_KEY, idempotency_key
from app.api.links import link, links
from app.api.security import caller_id, login_required
from app.batches import service
from app.platform.rate_limit import check_job_creation
from app.schemas.batches import JobBatchCreatedSchema, JobBatchCreateSchema
from app.schemas.common import ErrorSchema

blp = Blueprint("batches", __name__, url_prefix="/api/jobs/batch", description="Batches: many jobs in one request")


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(JobBatchCreateSchema)
@blp.response(202, JobBatchCreatedSchema)
@blp.alt_response(200, schema=JobBatchCreatedSchema, description="An Idempotency-Key repeat: the batch it created")
@blp.alt_response(400, schema=ErrorSchema, description="An invalid item (details keyed by its index), or too many")
@blp.alt_response(404, schema=ErrorSchema, description="An item's payload names something that is not the caller's")
@blp.alt_response(409, schema=ErrorSchema, description="Idempotency-Key reused with another body; singleton_conflict")
@blp.alt_response(429, schema=ErrorSchema)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": IDEMPOTENCY_KEY, "required": False}])
@blp.doc(operationId="createJobBatch", **links(202, ListBatchJobs=link("listJobs", batchId="$response.body#/batchId")))
def create(data):
    """Queue many jobs in one transaction: all of them, or none when one item is invalid."""
    user_id = caller_id()
    key = idempotency_key()
    check_job_creation(user_id)  # a batch counts as one request
    batch, created, fresh = service.create_batch(user_id, data["jobs"], key)
    body = {
        "batchId": str(batch.id),
        "count": batch.count,
        "data": [
            {"id": str(job.id), "type": job.type, "status": job.status, "createdAt": job.created_at.isoformat()}
            for job in created
        ],
    }
    return as_documented(body), 202 if fresh else 200  # already in its documented shape


def register_batch_docs(spec: APISpec, max_jobs: int) -> None:
    """State what the service checks of the items: each one a JobCreate, at most BATCH_MAX_JOBS
    of them (call after the blueprints are registered, once the component exists)."""
    jobs = spec.components.schemas["JobBatchCreate"]["properties"]["jobs"]
    jobs["items"] = {"$ref": "#/components/schemas/JobCreate"}
    jobs["maxItems"] = max_jobs
