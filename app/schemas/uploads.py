"""Uploads: a CSV or JSON file kept for a while, for a `bulk-import` job to load."""

from marshmallow import EXCLUDE, Schema, fields, validate


class UploadArgsSchema(Schema):
    """Query parameters of a raw-body upload (a multipart upload names its file itself)."""

    class Meta:
        unknown = EXCLUDE

    filename = fields.String(
        validate=validate.Length(min=1, max=255),
        metadata={"description": "Name to keep for a raw `text/csv` or `application/json` body"},
    )


class UploadSchema(Schema):
    id = fields.String()
    filename = fields.String()
    contentType = fields.String(metadata={"description": "`text/csv` or `application/json`"})
    sizeBytes = fields.Integer()
    createdAt = fields.String()
    expiresAt = fields.String(metadata={"description": "When the upload and its file are deleted"})


# The request body is read as a stream by the view, not by a schema: this is its documentation.
UPLOAD_REQUEST_BODY = {
    "required": True,
    "description": (
        "The file, either as `multipart/form-data` (field `file`) or as the raw body with its own "
        "content type. CSV needs a header row; JSON is an array of objects or one object per line. "
        "UTF-8 only; at most UPLOAD_MAX_BYTES."
    ),
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]}},
    },
}
