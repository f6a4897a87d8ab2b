"""Workflows: a DAG of jobs created at once, and how it is shown."""

from marshmallow import Schema, fields, validate

from app.schemas.jobs import JOB_STATUSES
from app.workflows.status import WORKFLOW_STATUSES

MAX_WORKFLOW_JOBS = 100
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class WorkflowJobCreateSchema(Schema):
    key = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), validate.Regexp(KEY_PATTERN, error="Letters, digits, _ . : -")],
        metadata={"description": "Names the job within this request; dependsOn refers to it"},
    )
    type = fields.String(required=True, metadata={"description": "A registered job type"})
    payload = fields.Raw(load_default=dict, metadata={"type": "object", "description": "Validated by the job type"})
    options = fields.Raw(
        load_default=None,
        metadata={"type": "object", "description": "As for POST /api/jobs, without dependsOn and singletonKey"},
    )
    dependsOn = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=list,
        validate=validate.Length(max=MAX_WORKFLOW_JOBS - 1),
        metadata={"description": "Keys of the jobs of this workflow that must complete first"},
    )


class WorkflowCreateSchema(Schema):
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    jobs = fields.List(
        fields.Nested(WorkflowJobCreateSchema), required=True, validate=validate.Length(min=1, max=MAX_WORKFLOW_JOBS)
    )


class WorkflowJobSchema(Schema):
    key = fields.String()
    id = fields.UUID()
    type = fields.String()
    status = fields.String(validate=validate.OneOf(JOB_STATUSES))
    dependsOn = fields.List(fields.String(), metadata={"description": "Keys of its dependencies"})
    blockedBy = fields.List(fields.String(), metadata={"description": "Keys of those not completed yet"})


class WorkflowSchema(Schema):
    id = fields.UUID()
    name = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(WORKFLOW_STATUSES))
    jobs = fields.List(fields.Nested(WorkflowJobSchema))
    createdAt = fields.String()
    completedAt = fields.String(allow_none=True)
