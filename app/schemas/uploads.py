"""Uploads: a CSV or JSON file kept for a while, for a `bulk-import` job to load."""

from marshmallow import EXCLUDE, Schema, fields, validate

from app.schemas.common import AnyText


class UploadArgsSchema(Schema):
    """Query parameters of a raw-body upload (a multipart upload names its file itself)."""

    class Meta:
        unknown = EXCLUDE

    # Control characters are removed from it before it is kept.
    filename = AnyText(
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


# Text with something in it besides ASCII white space, and no NUL character: what the intake
# (app/files/intake.py) accepts as the start of a CSV file.
NON_BLANK_TEXT = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\u000c\\r ][^\\u0000]*$"

# The request body is read as a stream by the view, not by a schema: this is its documentation.
UPLOAD_REQUEST_BODY = {
    "required": True,
    "description": (
        "The file, either as `multipart/form-data` (field `file`, a `text/csv` part, or an "
        "`application/json` one or a `.json` file name for JSON) or as the raw body with its own "
        "content type. CSV needs a header row; JSON is an array of objects or one object per line. "
        "UTF-8 only, not empty; at most UPLOAD_MAX_BYTES. Other media types are refused with 415."
    ),
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "pattern": NON_BLANK_TEXT}},
                "required": ["file"],
            },
            "encoding": {"file": {"contentType": "text/csv"}},
        },
        # No `type`: whatever is sent is text on the wire (a number too), and non-blank text is accepted.
        "text/csv": {"schema": {"pattern": NON_BLANK_TEXT}},
        # An array (of objects, for an import) or an object per line: what starts with `[` or `{`.
        "application/json": {"schema": {"anyOf": [{"type": "array"}, {"type": "object"}]}},
    },
}
