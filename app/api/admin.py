"""Administration (role `admin`): every user's jobs, dead letters and their redrive, audit log,
and the job statistics behind the operator page's charts."""

from __future__ import annotations

import uuid

from flask_jwt_extended import current_user

from app.api.blueprint import Blueprint, as_documented
from app.api.security import admin_required
from app.jobs import dead_letters as admin
from app.jobs import listing
from app.jobs import stats as job_stats
from app.jobs.announcements import serialize_job
from app.platform import audit
from app.schemas.admin import AdminJobListArgsSchema, AdminJobSchema, AuditEntrySchema, DeadLetterSchema
from app.schemas.common import ErrorSchema, PaginationArgsSchema, page_schema, paginated
from app.schemas.jobs import RetryResponseSchema
from app.schemas.stats import JobStatsArgsSchema, JobStatsSchema

blp = Blueprint("admin", __name__, url_prefix="/api/admin", description="Administration")


@blp.route("/jobs", methods=["GET"])
@admin_required
@blp.arguments(AdminJobListArgsSchema, location="query")
@blp.response(200, page_schema(AdminJobSchema, "AdminJobPage"))
@blp.alt_response(403, schema=ErrorSchema)
def all_jobs(args):
    rows, total = listing.list_jobs(
        args["page"], args["limit"], args.get("userId"), args.get("status"), args.get("type")
    )
    items = [{**serialize_job(job), "userId": str(job.user_id)} for job in rows]
    return as_documented(paginated(items, args["page"], args["limit"], total))


@blp.route("/dead-letter", methods=["GET"])
@admin_required
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, page_schema(DeadLetterSchema, "DeadLetterPage"))
@blp.alt_response(403, schema=ErrorSchema)
def dead_letters(args):
    rows, total = admin.list_dead_letters(args["page"], args["limit"])
    return paginated(rows, args["page"], args["limit"], total)


@blp.route("/dead-letter/<uuid:dead_letter_id>/redrive", methods=["POST"])
@admin_required
@blp.response(202, RetryResponseSchema)
@blp.alt_response(403, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema)
def redrive(dead_letter_id: uuid.UUID):
    return admin.redrive(current_user.id, dead_letter_id)


@blp.route("/audit-log", methods=["GET"])
@admin_required
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, page_schema(AuditEntrySchema, "AuditPage"))
@blp.alt_response(403, schema=ErrorSchema)
def audit_log(args):
    rows, total = audit.list_audit_log(args["page"], args["limit"])
    return paginated(rows, args["page"], args["limit"], total)


@blp.route("/stats/jobs", methods=["GET"])
@admin_required
@blp.arguments(JobStatsArgsSchema, location="query")
@blp.response(200, JobStatsSchema)
@blp.alt_response(403, schema=ErrorSchema)
def stats_jobs(args):
    """Jobs finished per minute by outcome and run time per type over the last `hours`, for charts."""
    return job_stats.job_stats(args["hours"])
