"""The notification centre and notification preferences."""
from __future__ import annotations

import uuid

from flask_smorest import Blueprint

from app.api.security import caller_id, login_required
from app.schemas.common import ErrorSchema, MessageSchema, paginated
from app.schemas.notifications import (
    NotificationListArgsSchema,
    NotificationPageSchema,
    PreferenceSchema,
    PreferenceUpdateSchema,
    ReadAllResponseSchema,
    ReadResponseSchema,
)
from app.services import notification_center as center
from app.services.notifications import serialize

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications", description="Notifications")


@blp.route("", methods=["GET"])
@blp.arguments(NotificationListArgsSchema, location="query")
@blp.response(200, NotificationPageSchema)
@blp.alt_response(400, schema=ErrorSchema)
@login_required
def list_notifications(args):
    """Newest first, with the unread count; `unread=true` lists only unread ones."""
    rows, total, unread = center.list_notifications(caller_id(), args["page"], args["limit"], args["unread"])
    body = paginated([serialize(n) for n in rows], args["page"], args["limit"], total)
    body["unreadCount"] = unread
    return body


@blp.route("/read-all", methods=["PATCH"])
@blp.response(200, ReadAllResponseSchema)
@login_required
def read_all():
    return {"count": center.mark_all_read(caller_id())}


@blp.route("/<uuid:notification_id>/read", methods=["PATCH"])
@blp.response(200, ReadResponseSchema)
@blp.alt_response(404, schema=ErrorSchema)
@login_required
def read(notification_id: uuid.UUID):
    return center.serialize_read(center.mark_read(caller_id(), notification_id))


@blp.route("/<uuid:notification_id>", methods=["DELETE"])
@blp.response(200, MessageSchema)
@blp.alt_response(404, schema=ErrorSchema)
@login_required
def delete(notification_id: uuid.UUID):
    center.delete_notification(caller_id(), notification_id)
    return {"message": "Notification deleted"}


@blp.route("/preferences", methods=["GET"])
@blp.response(200, PreferenceSchema(many=True))
@login_required
def preferences():
    return [center.serialize_preference(p) for p in center.list_preferences(caller_id())]


@blp.route("/preferences/<uuid:preference_id>", methods=["PATCH"])
@blp.arguments(PreferenceUpdateSchema)
@blp.response(200, PreferenceSchema)
@blp.alt_response(404, schema=ErrorSchema)
@login_required
def update_preference(data, preference_id: uuid.UUID):
    return center.serialize_preference(center.update_preference(caller_id(), preference_id, data["enabled"]))
