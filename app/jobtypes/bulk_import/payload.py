"""`bulk-import`: a file the user uploaded, loaded into a table of one of their connections."""

import uuid

from marshmallow import EXCLUDE, Schema, fields, validate

from app.files.uploads import require_owned_upload


class BulkImportPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    uploadId = fields.UUID(required=True, metadata={"description": "An upload of the caller (POST /api/uploads)"})
    connectionId = fields.UUID(required=True)
    table = fields.String(required=True, validate=validate.Length(min=1, max=255))
    schema = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=255),
        metadata={"description": "Needed only when several schemas of the cached schema have this table"},
    )
    batchSize = fields.Integer(strict=True, load_default=1000, validate=validate.Range(min=1, max=10_000))


def check_access(user_id: uuid.UUID, payload: dict) -> None:
    """The upload must be the caller's: another user's upload is a 404, like their connection."""
    require_owned_upload(user_id, payload)


def describe_result(result: dict) -> str:
    return f"Import finished: {result.get('rowsImported', 0):,} rows loaded"
