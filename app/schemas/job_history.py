"""Shape of a job's history (`GET /api/jobs/:id/history`)."""

from marshmallow import Schema, fields, validate

from app.models.job_event import EVENT_KINDS
from app.schemas.jobs import ProgressSchema


class JobEventSchema(Schema):
    at = fields.DateTime(required=True)
    kind = fields.String(
        required=True,
        validate=validate.OneOf(EVENT_KINDS),
        metadata={
            "description": "started (an attempt began), progress (a checkpoint, at most one a second), retrying "
            "(the attempt failed and another is due), completed, failed, cancelled, requeued (retried or redriven)"
        },
    )
    attempt = fields.Integer(required=True, metadata={"description": "The attempt it belongs to (0 when requeued)"})
    progress = fields.Nested(ProgressSchema, allow_none=True)
    error = fields.String(allow_none=True)
