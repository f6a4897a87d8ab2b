"""`bulk-import`: a file the user uploaded, loaded into a table of one of their connections."""

from marshmallow import EXCLUDE, Schema, fields, validate


class BulkImportPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    uploadId = fields.UUID(required=True)
    connectionId = fields.UUID(required=True)
    table = fields.String(required=True, validate=validate.Length(min=1, max=255))
    schema = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    batchSize = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=10_000))


def describe_result(result: dict) -> str:
    return f"Import finished: {result.get('rowsImported', 0):,} rows loaded"
