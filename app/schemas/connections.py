"""Database connection shapes: creation, the stored connection, its test and its cached schema."""

from marshmallow import Schema, fields, validate

from app.schemas.common import StrictBoolean


class ConnectionUrl(fields.String):
    """An SQLAlchemy URL; the service checks it (app/connections/urls.py) and the
    OpenAPI document states the form it accepts, built from the same dialect table."""


class ConnectionCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    url = ConnectionUrl(
        required=True,
        validate=validate.Length(min=1, max=2048),
        metadata={"description": "e.g. postgresql://user:password@host:5432/database"},
    )


class ConnectionSchema(Schema):
    id = fields.String()
    name = fields.String()
    dialect = fields.String()
    url = fields.String(metadata={"description": "The URL with its password masked"})
    createdAt = fields.String()
    updatedAt = fields.String()


class ConnectionTestSchema(Schema):
    ok = fields.Boolean()
    latencyMs = fields.Float(allow_none=True)
    error = fields.String()


class RebuildArgsSchema(Schema):
    force = StrictBoolean(load_default=False)


class RebuildResponseSchema(Schema):
    jobId = fields.String()
    message = fields.String()


class ColumnSchema(Schema):
    name = fields.String()
    type = fields.String()
    nullable = fields.Boolean()
    default = fields.String(allow_none=True)
    primaryKey = fields.Boolean()


class ForeignKeySchema(Schema):
    name = fields.String(allow_none=True)
    columns = fields.List(fields.String())
    referredSchema = fields.String(allow_none=True)
    referredTable = fields.String()
    referredColumns = fields.List(fields.String())
    onDelete = fields.String(allow_none=True)
    onUpdate = fields.String(allow_none=True)


class IndexSchema(Schema):
    name = fields.String(allow_none=True)
    columns = fields.List(fields.String(allow_none=True))
    unique = fields.Boolean()
    primary = fields.Boolean()


class TableSchema(Schema):
    schema = fields.String(allow_none=True)
    name = fields.String()
    columns = fields.List(fields.Nested(ColumnSchema))
    primaryKey = fields.List(fields.String())
    foreignKeys = fields.List(fields.Nested(ForeignKeySchema))
    indexes = fields.List(fields.Nested(IndexSchema))


class CachedSchemaSchema(Schema):
    connectionId = fields.String()
    builtAt = fields.String()
    totalTables = fields.Integer()
    tables = fields.List(fields.Nested(TableSchema))
