"""`backup-connection`: the schema of a connection as DDL, optionally with some tables' data."""

from marshmallow import EXCLUDE, Schema, fields, validate


class BackupConnectionPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    connectionId = fields.UUID(required=True)
    includeData = fields.Boolean(load_default=False)
    tables = fields.List(
        fields.String(validate=validate.Length(min=1, max=511)), load_default=list, validate=validate.Length(max=1000)
    )


def describe_result(result: dict) -> str:
    return f"Backup ready: {result.get('totalTables', 0):,} tables"
