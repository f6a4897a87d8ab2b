"""`schema-rebuild`: introspect a connection's database and cache the tables found."""

from marshmallow import EXCLUDE, Schema, fields

from app.schemas.common import StrictBoolean


class SchemaRebuildPayload(Schema):
    class Meta:
        unknown = EXCLUDE  # a `userId` sent by a client is ignored: the owner is the caller

    connectionId = fields.UUID(required=True)
    force = StrictBoolean(load_default=False)


def describe_result(result: dict) -> str:
    return f"Schema rebuild completed successfully with {result.get('totalTables', 0)} tables"
