"""Validation of a job request: its type, its payload and its options, with defaults per type."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import current_app
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app.connections.service import require_owned_connection_id
from app.errors import ValidationFailed
from app.jobs.registry import JobType, enabled_types
from app.schemas.common import StrictBoolean
from app.workflows.dependencies import MAX_DEPENDENCIES, check_dependencies


class StartAfter(fields.Field):
    """An ISO 8601 time, or a number of seconds from now."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Must be an ISO 8601 time or a number of seconds.")
        if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
            seconds = float(value)
            if not 0 <= seconds <= 365 * 86400:
                raise ValidationError("Seconds must be between 0 and one year.")
            return datetime.now(UTC) + timedelta(seconds=seconds)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ValidationError("Must be an ISO 8601 time or a number of seconds.") from None
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        raise ValidationError("Must be an ISO 8601 time or a number of seconds.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class JobOptionsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    priority = fields.Integer(validate=validate.Range(min=0, max=100), strict=True)
    retryLimit = fields.Integer(validate=validate.Range(min=0, max=10), strict=True)
    retryDelay = fields.Integer(validate=validate.Range(min=0, max=86400), strict=True)
    retryBackoff = StrictBoolean()
    expireInSeconds = fields.Integer(validate=validate.Range(min=1, max=7 * 86400), strict=True)
    singletonKey = fields.String(validate=validate.Length(min=1, max=255))
    startAfter = StartAfter()
    # Workflows seam: ids of the caller's jobs that must complete before this one runs.
    dependsOn = fields.List(fields.UUID(), validate=validate.Length(max=MAX_DEPENDENCIES))


@dataclass
class JobRequest:
    job_type: JobType
    payload: dict
    priority: int
    max_attempts: int
    retry_delay: int
    retry_backoff: bool
    expire_in_seconds: int
    singleton_key: str | None
    start_after: datetime | None
    depends_on: list[uuid.UUID] = field(default_factory=list)
    blocked_by: list[uuid.UUID] = field(default_factory=list)


@cache
def schema_instance(schema_class: type[Schema]) -> Schema:
    """One instance per schema class, reused: building a marshmallow schema (it copies its
    declared fields) costs more than a load, and a load keeps no state on the instance."""
    return schema_class()


def validate_job_request(user_id: uuid.UUID, type_name, payload, options) -> JobRequest:
    """Everything checked and defaulted, or a 400 whose details name each bad field."""
    types = enabled_types()
    if not isinstance(type_name, str) or type_name not in types:
        known = ", ".join(sorted(types))
        raise ValidationFailed("Unknown job type", {"type": [f"Must be one of: {known}."]}, code="unknown_job_type")
    job_type = types[type_name]
    details: dict = {}
    if not isinstance(payload, dict):
        details["payload"] = ["Must be an object."]
    if options is not None and not isinstance(options, dict):
        details["options"] = ["Must be an object."]
    if details:
        raise ValidationFailed("Invalid job request", details)
    schema = schema_instance(job_type.payload_schema)
    try:
        clean_payload = schema.dump(schema.load(payload))
    except ValidationError as err:
        details["payload"] = err.messages
    try:
        opts = schema_instance(JobOptionsSchema).load(options or {})
    except ValidationError as err:
        details["options"] = err.messages
    if details:
        raise ValidationFailed("Invalid job request", details)
    _check_payload_references(user_id, job_type, clean_payload)
    depends_on = list(dict.fromkeys(opts.get("dependsOn", [])))
    # Workflows seam: 404 for an unknown or foreign dependency, 409 for one that already ended.
    blocked_by = check_dependencies(user_id, depends_on) if depends_on else []
    timeout = current_app.config["JOB_TIMEOUT_MINUTES"] * 60
    return JobRequest(
        job_type=job_type,
        payload=clean_payload,
        priority=opts.get("priority", 0),
        max_attempts=opts.get("retryLimit", job_type.retry_limit) + 1,
        retry_delay=opts.get("retryDelay", job_type.retry_delay),
        retry_backoff=opts.get("retryBackoff", job_type.retry_backoff),
        # One attempt never runs past the worker's hard limit, whatever was asked.
        expire_in_seconds=min(opts.get("expireInSeconds", job_type.expire_in_seconds), timeout),
        singleton_key=opts.get("singletonKey"),
        start_after=opts.get("startAfter"),
        depends_on=depends_on,
        blocked_by=blocked_by,
    )


def _check_payload_references(user_id: uuid.UUID, job_type: JobType, payload: dict) -> None:
    """Ids in a payload must name the caller's own objects."""
    if "connectionId" in payload:
        require_owned_connection_id(user_id, payload["connectionId"])
    if job_type.check_access is not None:
        job_type.check_access(user_id, payload)
