"""Schemas of the administration endpoints: the responses dump the model rows directly."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.models.base import iso
from app.schemas.jobs import JobListArgsSchema, JobSchema


class IsoTime(fields.String):
    """A timestamp as the string every response uses (ISO 8601 with a timezone)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return iso(value)


class AdminJobSchema(JobSchema):
    userId = fields.String()


class AdminJobListArgsSchema(JobListArgsSchema):
    userId = fields.UUID(metadata={"description": "Only this user's jobs"})


class DeadLetterSchema(Schema):
    id = fields.String()
    jobId = fields.String(attribute="job_id")
    userId = fields.String(attribute="user_id")
    jobType = fields.String(attribute="job_type")
    error = fields.String(allow_none=True)
    attempts = fields.Integer()
    createdAt = IsoTime(attribute="created_at")
    redrivenAt = IsoTime(attribute="redriven_at", allow_none=True)


class AuditEntrySchema(Schema):
    id = fields.Integer()
    actorId = fields.String(attribute="actor_id", allow_none=True)
    action = fields.String()
    targetType = fields.String(attribute="target_type")
    targetId = fields.String(attribute="target_id")
    details = fields.Dict()
    createdAt = IsoTime(attribute="created_at")
