"""`noop`: the canary of health checks and benchmarks."""

from marshmallow import EXCLUDE, Schema, validate

from app.schemas.common import StrictFloat


class NoopPayload(Schema):
    """The canary: does nothing, optionally for a while. Used by health checks and benchmarks."""

    class Meta:
        unknown = EXCLUDE

    sleepSeconds = StrictFloat(load_default=0, validate=validate.Range(min=0, max=60))
