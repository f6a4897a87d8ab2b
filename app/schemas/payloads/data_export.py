"""`data-export`: a read-only query on one of the user's connections, written as CSV or JSON."""

from marshmallow import EXCLUDE, Schema, fields, validate


class DataExportPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    connectionId = fields.UUID(required=True)
    query = fields.String(required=True, validate=validate.Length(min=1, max=100_000))
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "json"]))


def describe_result(result: dict) -> str:
    return f"Export ready: {result.get('rowCount', 0):,} rows"
