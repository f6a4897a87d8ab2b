"""The notification centre and notification preferences, always scoped to the caller.

`login_required` sits right under `route`, above `arguments`: a caller without a valid token gets
401 before anything about the request is parsed or validated (and never learns what a valid body is).
"""

from __future__ import annotations

import uuid

from app.api.blueprint import Blueprint
from app.api.links import from_body, link, links
from app.api.security import caller_id, login_required
from app.notifications import center
from app.notifications.service import serialize
from app.schemas.common import ErrorSchema, MessageSchema, paginated
from app.schemas.notifications import (
    NotificationListArgsSchema,
    NotificationPageSchema,
    PreferenceSchema,
    PreferenceUpdateSchema,
    ReadAllResponseSchema,
    ReadResponseSchema,
)

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications", description="Notifications")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(NotificationListArgsSchema, location="query")
@blp.response(200, NotificationPageSchema)
@blp.alt_response(400, schema=ErrorSchema)
@blp.alt_response(401, schema=ErrorSchema)
@blp.doc(
    operationId="listNotifications",
    **links(
        200,
        ReadNotification=link("readNotification", notification_id=from_body("/data/0/id")),
        DeleteNotification=link("deleteNotification", notification_id=from_body("/data/0/id")),
    ),
)
def list_notifications(args):
    """The caller's notifications, newest first, with the unread count; `unread=true` lists only unread ones."""
    rows, total, unread = center.list_notifications(caller_id(), args["page"], args["limit"], args["unread"])
    body = paginated([serialize(n) for n in rows], args["page"], args["limit"], total)
    body["unreadCount"] = unread
    return body


@blp.route("/read-all", methods=["PATCH"])
@login_required
@blp.response(200, ReadAllResponseSchema)
@blp.alt_response(401, schema=ErrorSchema)
@blp.doc(operationId="readAllNotifications")
def read_all():
    """Mark every unread notification of the caller read; `count` is how many were unread."""
    return {"count": center.mark_all_read(caller_id())}


@blp.route("/<uuid:notification_id>/read", methods=["PATCH"])
@login_required
@blp.response(200, ReadResponseSchema)
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.doc(operationId="readNotification")
def read(notification_id: uuid.UUID):
    """Mark one notification read; reading it again keeps the first `readAt`."""
    return center.serialize_read(center.mark_read(caller_id(), notification_id))


@blp.route("/<uuid:notification_id>", methods=["DELETE"])
@login_required
@blp.response(200, MessageSchema)
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.doc(operationId="deleteNotification")
def delete(notification_id: uuid.UUID):
    """Delete one of the caller's notifications."""
    center.delete_notification(caller_id(), notification_id)
    return {"message": "Notification deleted"}


@blp.route("/preferences", methods=["GET"])
@login_required
@blp.response(200, PreferenceSchema(many=True))
@blp.alt_response(401, schema=ErrorSchema)
@blp.doc(
    operationId="listNotificationPreferences",
    **links(200, UpdatePreference=link("updateNotificationPreference", preference_id=from_body("/0/id"))),
)
def preferences():
    """The caller's preferences: one per notification type and channel."""
    return [center.serialize_preference(p) for p in center.list_preferences(caller_id())]


@blp.route("/preferences/<uuid:preference_id>", methods=["PATCH"])
@login_required
@blp.arguments(PreferenceUpdateSchema)
@blp.response(200, PreferenceSchema)
@blp.alt_response(400, schema=ErrorSchema)
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.doc(operationId="updateNotificationPreference")
def update_preference(data, preference_id: uuid.UUID):
    """Switch one of the caller's preferences on or off (`enabled` must be a JSON boolean)."""
    return center.serialize_preference(center.update_preference(caller_id(), preference_id, data["enabled"]))
