"""Schedules: cron jobs of the caller's, in a time zone; pause, resume, run now, preview."""

from __future__ import annotations

import uuid

from app.api.blueprint import Blueprint
from app.api.security import caller_id, login_required
from app.platform.rate_limit import check_job_creation
from app.schedules import service
from app.schemas.common import ErrorSchema, PaginationArgsSchema, page_schema, paginated
from app.schemas.schedules import (
    ScheduleCreateSchema,
    SchedulePreviewRequestSchema,
    SchedulePreviewSchema,
    ScheduleRunSchema,
    ScheduleSchema,
    ScheduleUpdateSchema,
)

blp = Blueprint("schedules", __name__, url_prefix="/api/schedules", description="Scheduled jobs (cron)")
SchedulePageSchema = page_schema(ScheduleSchema, "SchedulePage")


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(ScheduleCreateSchema)
@blp.response(201, ScheduleSchema)
@blp.alt_response(
    400, schema=ErrorSchema, description="Bad cron or time zone, interval too short, payload refused, too many"
)
def create(data):
    """Create a schedule; each tick creates one job exactly as POST /api/jobs would."""
    return service.serialize(service.create_schedule(caller_id(), data), None)


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, SchedulePageSchema)
@blp.alt_response(400, schema=ErrorSchema)
def list_schedules(args):
    """The caller's schedules, newest first."""
    rows, total = service.list_schedules(caller_id(), args["page"], args["limit"])
    return paginated(service.serialize_many(rows), args["page"], args["limit"], total)


@blp.route("/preview", methods=["POST"])
@login_required
@blp.arguments(SchedulePreviewRequestSchema)
@blp.response(200, SchedulePreviewSchema)
@blp.alt_response(400, schema=ErrorSchema)
def preview(args):
    """The next fire times of an expression in a time zone, checked as a schedule would be;
    nothing is stored."""
    return service.preview(args["cron"], args["timezone"], args["count"])


@blp.route("/<uuid:schedule_id>", methods=["GET"])
@login_required
@blp.response(200, ScheduleSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get(schedule_id: uuid.UUID):
    return service.serialize_many([service.get_schedule(caller_id(), schedule_id)])[0]


@blp.route("/<uuid:schedule_id>", methods=["PATCH"])
@login_required
@blp.arguments(ScheduleUpdateSchema)
@blp.response(200, ScheduleSchema)
@blp.alt_response(400, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
def update(data, schedule_id: uuid.UUID):
    """Change it; `enabled: false` pauses, `true` resumes from the next tick after now."""
    return service.serialize_many([service.update_schedule(caller_id(), schedule_id, data)])[0]


@blp.route("/<uuid:schedule_id>", methods=["DELETE"])
@login_required
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema)
def delete(schedule_id: uuid.UUID):
    """Delete it; its jobs stay, and one that is running finishes."""
    service.delete_schedule(caller_id(), schedule_id)
    return ""


@blp.route("/<uuid:schedule_id>/run", methods=["POST"])
@login_required
@blp.response(202, ScheduleRunSchema)
@blp.alt_response(400, schema=ErrorSchema, description="The job type refuses the payload (e.g. connection gone)")
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(429, schema=ErrorSchema)
def run(schedule_id: uuid.UUID):
    """Create one job now, outside the cron (also while paused); the next tick stays as it was."""
    user_id = caller_id()
    check_job_creation(user_id)  # a job created by hand, as by POST /api/jobs
    job = service.run_now(user_id, schedule_id)
    return {"jobId": str(job.id)}


def register_schedule_docs(spec) -> None:
    """A schedule's `type` and `payload` are a job's: the same enum of enabled types and the same
    payload schemas as JobCreate (call after `register_payload_schemas`). A schedule's body is
    not split per type like JobCreate's, so its payload is any one of the types' payloads."""
    schemas = spec.components.schemas
    job_payload = schemas.get("JobCreate", {}).get("x-payload", {})
    payload_refs = job_payload.get("x-payload-schemas", {})
    types = [job_type["type"] for job_type in spec.options.get("x-job-types", [])]
    for name in ("ScheduleCreate", "ScheduleUpdate"):
        properties = schemas.get(name, {}).get("properties", {})
        if "type" in properties and types:
            properties["type"]["enum"] = types
        if "payload" in properties and payload_refs:
            properties["payload"].update(
                {
                    "description": job_payload.get("description", properties["payload"].get("description")),
                    "anyOf": [{"$ref": ref} for ref in payload_refs.values()],
                    "x-payload-schemas": payload_refs,
                }
            )
