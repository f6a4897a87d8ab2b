"""Schedules: request and response shapes (validation of cron, zone and payload is the
service's, which answers 400 in the contract's shape)."""

from zoneinfo import available_timezones

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from app.schedules.cron import MACROS, MAX_EXPRESSION_LENGTH
from app.schemas.common import StrictBoolean

CRON_DESCRIPTION = (
    "5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, or one of "
    + ", ".join(MACROS)
    + ". Evaluated on the time zone's wall clock: a time that does not exist (DST gap) fires at "
    "the first valid moment after it, a repeated one at its first occurrence only."
)
TIMEZONE_DESCRIPTION = "An IANA time zone name, e.g. Europe/Berlin (default UTC)."
# The zones this machine's tz database knows: the document lists exactly what the server accepts.
TIMEZONES = tuple(sorted(available_timezones()))


def _cron_field(**kwargs):
    return fields.String(
        validate=validate.Length(min=1, max=MAX_EXPRESSION_LENGTH),
        metadata={"description": CRON_DESCRIPTION, "example": "0 9 * * 1"},
        **kwargs,
    )


def _timezone_field(**kwargs):
    return fields.String(
        validate=validate.OneOf(TIMEZONES, error="Unknown time zone: use an IANA name such as Europe/Berlin."),
        metadata={"description": TIMEZONE_DESCRIPTION, "example": "Asia/Tokyo"},
        **kwargs,
    )


def _name_field(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=255), **kwargs)


class ScheduleCreateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = _name_field(required=True)
    type = fields.String(required=True, metadata={"description": "A registered job type, as for POST /api/jobs"})
    payload = fields.Raw(load_default=dict, metadata={"type": "object", "description": "Validated by the job type"})
    options = fields.Raw(
        load_default=None, metadata={"type": "object", "description": "Job options (see JobOptions), for every run"}
    )
    cron = _cron_field(required=True)
    timezone = _timezone_field(load_default="UTC")
    enabled = StrictBoolean(load_default=True)


class ScheduleUpdateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = _name_field()
    cron = _cron_field()
    timezone = _timezone_field()
    payload = fields.Raw(metadata={"type": "object"})
    options = fields.Raw(allow_none=True, metadata={"type": "object"})
    enabled = StrictBoolean(metadata={"description": "false pauses, true resumes from the next tick"})

    @validates_schema
    def _not_empty(self, data, **_):
        if not data:
            raise ValidationError("Give at least one of name, cron, timezone, payload, options, enabled.", "body")


class ScheduleSchema(Schema):
    id = fields.String(metadata={"format": "uuid"})
    name = fields.String()
    type = fields.String()
    payload = fields.Dict()
    options = fields.Dict(allow_none=True)
    cron = fields.String()
    timezone = fields.String()
    enabled = fields.Boolean()
    nextRunAt = fields.String(allow_none=True, metadata={"format": "date-time", "description": "null while paused"})
    lastRunAt = fields.String(allow_none=True, metadata={"format": "date-time"})
    lastJobId = fields.String(allow_none=True, metadata={"format": "uuid"})
    createdAt = fields.String(metadata={"format": "date-time"})


class SchedulePreviewRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    cron = _cron_field(required=True)
    timezone = _timezone_field(load_default="UTC")
    count = fields.Integer(load_default=5, validate=validate.Range(min=1, max=20))


class SchedulePreviewSchema(Schema):
    cron = fields.String()
    timezone = fields.String()
    nextRuns = fields.List(fields.String(metadata={"format": "date-time"}))


class ScheduleRunSchema(Schema):
    jobId = fields.String(metadata={"format": "uuid"})
