"""Shapes of the operators' job statistics (`GET /api/admin/stats/jobs`)."""

from marshmallow import EXCLUDE, Schema, fields, validate

MAX_STATS_HOURS = 48


class JobStatsArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    hours = fields.Integer(
        load_default=24,
        validate=validate.Range(min=1, max=MAX_STATS_HOURS),
        metadata={"description": "The window: the last N hours, the current minute included"},
    )


class OutcomeCountsSchema(Schema):
    completed = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)


class MinuteCountsSchema(OutcomeCountsSchema):
    minute = fields.DateTime(required=True, metadata={"description": "Start of the minute (UTC)"})


class RunTimeSchema(Schema):
    type = fields.String(required=True)
    count = fields.Integer(required=True, metadata={"description": "Jobs of this type completed in the window"})
    avgSeconds = fields.Float(allow_none=True)
    p50Seconds = fields.Float(allow_none=True)
    p95Seconds = fields.Float(allow_none=True)
    maxSeconds = fields.Float(allow_none=True)


class RunTimeBucketSchema(Schema):
    bucket = fields.DateTime(required=True, metadata={"description": "Start of the bucket (UTC)"})
    type = fields.String(required=True)
    count = fields.Integer(required=True)
    p50Seconds = fields.Float(allow_none=True)
    p95Seconds = fields.Float(allow_none=True)


class JobStatsSchema(Schema):
    hours = fields.Integer(required=True)
    from_ = fields.DateTime(required=True, attribute="from", data_key="from", metadata={"description": "First minute"})
    to = fields.DateTime(required=True, metadata={"description": "Last (current) minute"})
    totals = fields.Nested(OutcomeCountsSchema, required=True, metadata={"description": "Jobs finished in the window"})
    perMinute = fields.List(
        fields.Nested(MinuteCountsSchema),
        required=True,
        metadata={"description": "Jobs finished per minute by outcome, every minute of the window, oldest first"},
    )
    runTimeBucketSeconds = fields.Integer(required=True)
    runTimeByType = fields.List(
        fields.Nested(RunTimeSchema),
        required=True,
        metadata={"description": "Run time (started to completed) of the jobs completed in the window"},
    )
    runTimeSeries = fields.List(
        fields.Nested(RunTimeBucketSchema),
        required=True,
        metadata={"description": "Run time per type and bucket; buckets without a completed job are left out"},
    )
