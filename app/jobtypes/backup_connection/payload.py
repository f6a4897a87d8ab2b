"""`backup-connection`: the schema of a connection as DDL, optionally with some tables' data.

With `includeData` and no `tables`, every table's rows are included."""

import uuid

from marshmallow import EXCLUDE, Schema, fields, validate

from app.errors import ValidationFailed
from app.extensions import db
from app.jobtypes.backup_connection.tables import describe_unknown, resolve_tables
from app.models import SchemaCache
from app.schemas.common import StrictBoolean


class BackupConnectionPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    connectionId = fields.UUID(required=True)
    includeData = StrictBoolean(load_default=False)
    tables = fields.List(
        fields.String(validate=validate.Length(min=1, max=511)),
        load_default=list,
        validate=validate.Length(max=1000),
        metadata={"description": "Tables whose rows to include (`schema.table` or `table`); empty means all"},
    )


def describe_result(result: dict) -> str:
    return f"Backup ready: {result.get('totalTables', 0):,} tables"


def check_tables_exist(user_id: uuid.UUID, payload: dict) -> None:
    """Answer 400 at creation when the connection's cached schema shows that a requested table
    does not exist. Without a cached schema the job checks against the live database; a table
    created since the last rebuild is found once the schema is rebuilt."""
    if not payload.get("includeData") or not payload.get("tables"):
        return

    cache = db.session.get(SchemaCache, uuid.UUID(str(payload["connectionId"])))
    if cache is None:
        return
    _matched, unknown = resolve_tables(cache.tables, payload["tables"])
    if unknown:
        message = f"Not in the connection's schema (rebuild it if they were just created): {describe_unknown(unknown)}"
        raise ValidationFailed("Invalid payload", {"payload": {"tables": [message]}})
