from marshmallow import EXCLUDE, Schema, fields

from app.schemas.common import PaginationArgsSchema, PaginationSchema, StrictBoolean


class NotificationSchema(Schema):
    id = fields.String()
    type = fields.String()
    title = fields.String()
    message = fields.String()
    data = fields.Dict()
    read = fields.Boolean()
    readAt = fields.String(allow_none=True)
    createdAt = fields.String()
    expiresAt = fields.String(allow_none=True)


class NotificationListArgsSchema(PaginationArgsSchema):
    class Meta:
        unknown = EXCLUDE

    unread = fields.Boolean(load_default=False)


class NotificationPageSchema(Schema):
    data = fields.List(fields.Nested(NotificationSchema))
    pagination = fields.Nested(PaginationSchema)
    unreadCount = fields.Integer()


class ReadResponseSchema(Schema):
    id = fields.String()
    read = fields.Boolean()
    readAt = fields.String()


class ReadAllResponseSchema(Schema):
    count = fields.Integer()


class PreferenceSchema(Schema):
    id = fields.String()
    notificationType = fields.String()
    channel = fields.String()
    enabled = fields.Boolean()


class PreferenceUpdateSchema(Schema):
    enabled = StrictBoolean(required=True)
