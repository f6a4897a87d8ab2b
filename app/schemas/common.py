"""Shapes shared by every resource: errors, pagination, messages."""

from marshmallow import EXCLUDE, Schema, fields, validate

MAX_PAGE = 1_000_000


class AnyText(fields.String):
    """Text the service never stores as given (it is hashed, or cleaned first), so it takes any
    character, a NUL included; other text fields refuse a NUL (see app/openapi.py)."""


class StrictBoolean(fields.Boolean):
    """Only JSON true or false: "yes", 1 or "true" are refused rather than guessed."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class StrictFloat(fields.Float):
    """Only a JSON number: a string such as "1.5", or a boolean, is refused rather than converted."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class QueryBoolean(fields.Boolean):
    """A boolean query parameter spelled `true` or `false`, as OpenAPI clients send one; `1`,
    `yes` or `on` are refused rather than guessed (the document says boolean)."""

    def __init__(self, **kwargs):
        super().__init__(truthy={"true"}, falsy={"false"}, **kwargs)


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()


class ApiErrorSchema(Schema):
    """The one error shape of every endpoint."""

    error = fields.Nested(ErrorBodySchema, required=True)


ErrorSchema = ApiErrorSchema


class PaginationArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PaginationSchema(Schema):
    page = fields.Integer()
    limit = fields.Integer()
    total = fields.Integer()
    totalPages = fields.Integer()


class MessageSchema(Schema):
    message = fields.String()


def paginated(items: list, page: int, limit: int, total: int) -> dict:
    return {
        "data": items,
        "pagination": {"page": page, "limit": limit, "total": total, "totalPages": (total + limit - 1) // limit},
    }


def page_schema(item_schema: type[Schema], name: str, **extra_fields) -> type[Schema]:
    """A `{data: [...], pagination: {...}}` schema for one item type."""
    attrs = {
        "data": fields.List(fields.Nested(item_schema)),
        "pagination": fields.Nested(PaginationSchema),
        **extra_fields,
    }
    return Schema.from_dict(attrs, name=name)
