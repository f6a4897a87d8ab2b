"""`data-export`: a read-only query on one of the user's connections, written as CSV or JSON."""

import uuid

from marshmallow import EXCLUDE, Schema, fields, validate

from app.errors import ValidationFailed
from app.extensions import db
from app.jobtypes.data_export.query_guard import QueryRefused, check_query
from app.jobtypes.data_export.sql_lexer import DIALECTS
from app.models import Connection


class DataExportPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    connectionId = fields.UUID(required=True)
    query = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100_000),
        metadata={"description": "One read-only SELECT (or WITH ... SELECT, VALUES, TABLE)"},
    )
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "json"]))


def check_access(user_id: uuid.UUID, payload: dict) -> None:
    """Refuse anything but one read-only query before the job exists (400), with the lexing
    rules of the connection's dialect; the worker checks again with the session's settings."""
    connection = db.session.get(Connection, uuid.UUID(str(payload["connectionId"])))
    dialect = DIALECTS.get(connection.dialect if connection else "", DIALECTS["postgresql"])
    try:
        check_query(payload["query"], dialect)
    except QueryRefused as exc:
        raise ValidationFailed(str(exc), {"payload": {"query": [str(exc)]}}, code="query_not_allowed") from None


def describe_result(result: dict) -> str:
    return f"Export ready: {result.get('rowCount', 0):,} rows"
