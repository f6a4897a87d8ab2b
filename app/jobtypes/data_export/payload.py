"""`data-export`: a read-only query on one of the user's connections, written as CSV or JSON."""

import uuid

from marshmallow import EXCLUDE, Schema, fields, validate

from app.errors import ValidationFailed
from app.extensions import db
from app.jobtypes.data_export.query_guard import QueryRefused, check_query
from app.jobtypes.data_export.sql_lexer import DIALECTS
from app.models import Connection


def _any_case(word: str) -> str:
    return "".join(f"[{letter.upper()}{letter.lower()}]" for letter in word)


_KEYWORD = "(" + "|".join(_any_case(word) for word in ("select", "with", "values", "table")) + ")"
# Outside quotes: anything but quotes, `;`, `#`, and `-` / `/` that would open a comment.
_PLAIN = "[^'\"`;#/\\u0000-]|-[^-'\"`;#/\\u0000]|/[^*'\"`;#\\u0000-]"
_QUOTED = "'[^'\\u0000]*'|\"[^\"\\u0000]*\"|`[^`\\u0000]*`"
QUERY_PATTERN = f"^\\s*{_KEYWORD}(\\s({_PLAIN}|{_QUOTED})*)?;?\\s*$"


class DataExportPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    connectionId = fields.UUID(required=True)
    query = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100_000),
        metadata={
            "description": (
                "One read-only SELECT (or WITH ... SELECT, VALUES, TABLE). The pattern is the form "
                "accepted by every dialect: quoted text balanced, no comment, at most a final `;`. "
                "Writes, DDL, INTO, locking clauses and several statements are refused (400 "
                "`query_not_allowed`); comments the dialect can read are accepted too."
            ),
            "pattern": QUERY_PATTERN,
        },
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
