from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app.jobs.options import JobOptionsSchema
from app.jobs.state import JobStatus
from app.schemas.common import PaginationArgsSchema

JOB_STATUSES = tuple(status.value for status in JobStatus)


class JobCreateSchema(Schema):
    type = fields.String(required=True, metadata={"description": "A registered job type, e.g. schema-rebuild"})
    payload = fields.Raw(load_default=dict, metadata={"type": "object", "description": "Validated by the job type"})
    options = fields.Raw(load_default=None, metadata={"type": "object", "description": "See JobOptions"})


class JobCreatedSchema(Schema):
    id = fields.String()
    type = fields.String()
    status = fields.String()
    createdAt = fields.String()


class ProgressSchema(Schema):
    current = fields.Integer()
    total = fields.Integer()
    percentage = fields.Integer()
    message = fields.String(allow_none=True)


class JobSchema(Schema):
    id = fields.String()
    type = fields.String()
    status = fields.String(validate=validate.OneOf(JOB_STATUSES))
    payload = fields.Dict()
    progress = fields.Nested(ProgressSchema, allow_none=True)
    result = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    attempts = fields.Integer()
    maxAttempts = fields.Integer()
    priority = fields.Integer()
    createdAt = fields.String()
    startedAt = fields.String(allow_none=True)
    completedAt = fields.String(allow_none=True)
    nextAttemptAt = fields.String(allow_none=True)
    scheduleId = fields.String(
        allow_none=True, metadata={"format": "uuid", "description": "The schedule that created the job"}
    )
    scheduledFor = fields.String(
        allow_none=True, metadata={"format": "date-time", "description": "The schedule's tick; null for run now"}
    )


class CommaList(fields.String):
    """`a,b,c` in a query string, each item checked against `choices` when given."""

    def __init__(self, choices=None, **kwargs):
        super().__init__(**kwargs)
        self.choices = choices

    def _deserialize(self, value, attr, data, **kwargs):
        items = [item.strip() for item in super()._deserialize(value, attr, data, **kwargs).split(",") if item.strip()]
        if self.choices:
            unknown = [item for item in items if item not in self.choices]
            if unknown:
                raise ValidationError(f"Unknown value(s): {', '.join(unknown)}. Allowed: {', '.join(self.choices)}.")
        return items


class JobListArgsSchema(PaginationArgsSchema):
    class Meta:
        unknown = EXCLUDE

    status = CommaList(choices=JOB_STATUSES)
    type = CommaList()
    scheduleId = fields.UUID(metadata={"description": "Only the jobs this schedule created"})


class RetryResponseSchema(Schema):
    id = fields.String()
    status = fields.String()


__all__ = ["JobOptionsSchema"]
