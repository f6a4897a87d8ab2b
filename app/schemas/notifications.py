"""Notification centre shapes: list arguments, notifications, read results and preferences."""

from marshmallow import EXCLUDE, Schema, fields

from app.schemas.common import PaginationArgsSchema, PaginationSchema, QueryBoolean, StrictBoolean


class NotificationSchema(Schema):
    """A notification as the API and the `notification` socket event show it."""

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

    unread = QueryBoolean(load_default=False, metadata={"description": "true: unread notifications only"})


class NotificationPageSchema(Schema):
    data = fields.List(fields.Nested(NotificationSchema))
    pagination = fields.Nested(PaginationSchema)
    unreadCount = fields.Integer(metadata={"description": "All of the caller's unread notifications"})


class ReadResponseSchema(Schema):
    id = fields.String()
    read = fields.Boolean()
    readAt = fields.String()


class ReadAllResponseSchema(Schema):
    count = fields.Integer(metadata={"description": "How many were unread and are now read"})


class PreferenceSchema(Schema):
    id = fields.String()
    notificationType = fields.String(metadata={"description": "job_status, invitations or system"})
    channel = fields.String(metadata={"description": "in_app or email"})
    enabled = fields.Boolean()


class PreferenceUpdateSchema(Schema):
    """Unknown fields are refused (marshmallow's default), `enabled` must be a JSON boolean."""

    enabled = StrictBoolean(required=True)
