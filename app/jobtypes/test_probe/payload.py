"""`test-probe`: fault injection for the test suites."""

from marshmallow import EXCLUDE, Schema, fields, validate

from app.schemas.common import StrictFloat


class TestProbePayload(Schema):
    """Fault-injection job for the test suites (registered only with ENABLE_TEST_JOB_TYPES)."""

    class Meta:
        unknown = EXCLUDE

    steps = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=10_000))
    stepSeconds = StrictFloat(load_default=0, validate=validate.Range(min=0, max=60))
    failAttempts = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=100))
    failWith = fields.String(load_default="retryable", validate=validate.OneOf(["retryable", "permanent", "crash"]))
