"""Job shapes: creation, the job itself, list filters."""

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from webargs.fields import DelimitedList

from app.jobs.options import JobOptionsSchema
from app.jobs.registry import enabled_types
from app.jobs.state import JobStatus
from app.schemas.common import PaginationArgsSchema

JOB_STATUSES = tuple(status.value for status in JobStatus)


class JobTypeName(fields.String):
    """The name of a job type this deployment accepts. The OpenAPI document lists them as its
    enum (app/openapi.py), from the same registry. With `check=False` the field leaves the check
    to the service, which answers `unknown_job_type`."""

    def __init__(self, *, check: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.check = check

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        if self.check and name not in enabled_types():
            raise ValidationError(f"Must be one of: {', '.join(sorted(enabled_types()))}.")
        return name


class JobCreateSchema(Schema):
    type = JobTypeName(check=False, required=True, metadata={"description": "A registered job type"})
    payload = fields.Raw(load_default=dict, metadata={"type": "object", "description": "Validated by the job type"})
    options = fields.Raw(load_default=None, metadata={"type": "object", "description": "See JobOptions"})


class JobCreatedSchema(Schema):
    id = fields.String()
    type = fields.String()
    status = fields.String(validate=validate.OneOf(JOB_STATUSES))
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
    # Dependencies and workflows.
    workflowId = fields.UUID(allow_none=True)
    blockedBy = fields.List(fields.UUID(), metadata={"description": "Its dependencies not completed yet"})
    scheduleId = fields.String(
        allow_none=True, metadata={"format": "uuid", "description": "The schedule that created the job"}
    )
    scheduledFor = fields.String(
        allow_none=True, metadata={"format": "date-time", "description": "The schedule's tick; null for run now"}
    )
    batchId = fields.UUID(allow_none=True, metadata={"description": "The batch that created the job"})


class JobListArgsSchema(PaginationArgsSchema):
    class Meta:
        unknown = EXCLUDE

    # Comma lists (`status=queued,active`): OpenAPI's form style without explode.
    # `status=` (nothing) is a mistake, not "any status".
    status = DelimitedList(fields.String(validate=validate.OneOf(JOB_STATUSES)), validate=validate.Length(min=1))
    type = DelimitedList(JobTypeName(), validate=validate.Length(min=1))
    batchId = fields.UUID(metadata={"description": "Only the jobs of this batch (POST /api/jobs/batch)"})
    workflowId = fields.UUID(metadata={"description": "Only the jobs of this workflow"})
    scheduleId = fields.UUID(metadata={"description": "Only the jobs this schedule created"})


class RetryResponseSchema(Schema):
    id = fields.String()
    status = fields.String()


__all__ = ["JobOptionsSchema"]
