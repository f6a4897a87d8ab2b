"""A job's history: its attempts, progress checkpoints, errors and outcomes, oldest first."""

from __future__ import annotations

import uuid

from app.api.blueprint import Blueprint
from app.api.security import caller_id, login_required
from app.jobs import history as job_history
from app.schemas.common import ErrorSchema
from app.schemas.job_history import JobEventSchema

blp = Blueprint("job_history", __name__, url_prefix="/api/jobs", description="What happened to a job")


@blp.route("/<uuid:job_id>/history", methods=["GET"])
@login_required
@blp.response(200, JobEventSchema(many=True))
@blp.alt_response(404, schema=ErrorSchema)
def history(job_id: uuid.UUID):
    """The job's events, oldest first (the newest 500); another user's job is 404."""
    return job_history.history(caller_id(), job_id)
