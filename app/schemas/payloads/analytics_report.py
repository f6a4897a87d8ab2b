"""`analytics-report`: the user's job history (admins: everyone's) as JSON and CSV."""

from marshmallow import EXCLUDE, Schema, fields, validate


class AnalyticsReportPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=366))
    allUsers = fields.Boolean(load_default=False)


def describe_result(result: dict) -> str:
    return f"Report ready: {result.get('totalJobs', 0):,} jobs over {result.get('days', 0)} days"
