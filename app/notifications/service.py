"""The notification service: one entry point, `send()`, fanning out to the channels a user's
preferences enable. In-app: a committed row, then a `notification` event. Email: a delivery row
(committed with the in-app row), then a task on the `email` queue that sends it with retries,
unless a digest window collects it (app/notifications/digest.py)."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import Interval, bindparam, insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import EmailDelivery, Notification
from app.models.base import iso
from app.notifications import digest as email_digest
from app.notifications import outbox as email_outbox
from app.platform import metrics, realtime
from app.platform.redaction import redact
from app.platform.unit_of_work import on_commit

log = logging.getLogger(__name__)

# Every user's six default preferences are created by a database trigger (migration 0001), so that
# no way of creating a user can forget them.
# Notification type -> the preference type that governs it.
PREFERENCE_TYPE = {
    "job_queued": "job_status",
    "job_started": "job_status",
    "job_completed": "job_status",
    "job_failed": "job_status",
    "job_cancelled": "job_status",
    "batch_completed": "job_status",
    "workflow_completed": "job_status",
    "workflow_failed": "job_status",
    "invitation": "invitations",
    "system": "system",
}
# Queued/started/cancelled are too chatty for a mailbox.
EMAIL_TYPES = {
    "job_completed",
    "job_failed",
    "batch_completed",
    "workflow_completed",
    "workflow_failed",
    "invitation",
    "system",
}
DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
TITLE_MAX = 255  # the column's size


# One statement for the in-app row and the email address: the user's preferences for the type
# decide, inside the INSERT, whether the in-app row is written, and whether the address (needed
# only for a type that emails) comes back. No preference is read into Python first.
_STAGE_IN_APP = text(
    """
    WITH allowed AS (
        SELECT channel FROM notification_preferences
        WHERE user_id = :user_id AND notification_type = :preference_type AND enabled
    ), in_app AS (
        INSERT INTO notifications (id, user_id, type, title, message, data, read, created_at, expires_at)
        SELECT gen_random_uuid(), :user_id, :type, :title, :message, :data, false, stamp.at, stamp.at + :retention
        FROM (SELECT clock_timestamp() AS at) AS stamp  -- read once: expiry is exactly creation + retention
        WHERE EXISTS (SELECT 1 FROM allowed WHERE channel = 'in_app')
        RETURNING id, created_at, expires_at
    )
    SELECT in_app.id, in_app.created_at, in_app.expires_at,
           (SELECT users.email FROM users
            WHERE users.id = :user_id AND :may_email
              AND EXISTS (SELECT 1 FROM allowed WHERE channel = 'email')) AS email
    FROM (VALUES (1)) AS one LEFT JOIN in_app ON true
    """
).bindparams(bindparam("data", type_=JSONB), bindparam("retention", type_=Interval))


@dataclass
class Staged:
    """A notification added to the current transaction, to be pushed once it commits."""

    user_id: uuid.UUID
    type: str
    title: str
    message: str
    data: dict
    notification: Notification | None
    event: dict | None
    delivery_id: uuid.UUID | None
    email_now: bool = True  # False: a digest window collected the email; it goes with the digest
    started: float = field(default_factory=time.perf_counter)


def stage(user_id: uuid.UUID, type: str, title: str, message: str, data: dict | None = None) -> Staged | None:
    """Add the rows the user's preferences call for (in-app row, email delivery) to the current
    transaction, without committing: a caller that records a state change commits both at once.
    Secrets are redacted first. None when no channel is enabled."""
    title = redact(title)[:TITLE_MAX]
    message = redact(message)
    data = redact(data or {})
    config = current_app.config
    params = {
        "user_id": user_id,
        "preference_type": PREFERENCE_TYPE.get(type, "system"),
        "type": type,
        "title": title,
        "message": message,
        "data": data,
        "retention": timedelta(days=config["NOTIFICATION_RETENTION_DAYS"]),
        "may_email": type in EMAIL_TYPES and config["EMAIL_NOTIFICATIONS_ENABLED"],
    }
    # No autoflush: these rows depend on none of the caller's pending objects, and flushing them
    # here would move the caller's integrity errors away from its own commit.
    with db.session.no_autoflush:
        row = db.session.execute(_STAGE_IN_APP, params).one()
    notification = event = delivery_id = digest_id = None
    if row.id is not None:
        notification = Notification(
            id=row.id,
            user_id=user_id,
            type=type,
            title=title,
            message=message,
            data=data,
            read=False,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )
        event = serialize(notification)
    if row.email is not None:
        digest_id = email_digest.collecting_digest(user_id, type)
        delivery_id = _add_email_delivery(user_id, row.email, type, title, message, data, digest_id)
    if notification is None and delivery_id is None:
        return None
    staged = Staged(user_id, type, title, message, data, notification, event, delivery_id, email_now=digest_id is None)
    on_commit(lambda: push(staged))
    return staged


def push(staged: Staged | None) -> None:
    """After the commit: the `notification` event, the email task, the metrics. Never raises."""
    if staged is None:
        return
    if staged.event is not None:
        realtime.emit("notification", staged.event, realtime.user_room(staged.user_id))
        metrics.incr("notifications_sent_total", {"channel": "in_app", "type": staged.type})
    if staged.delivery_id is not None and staged.email_now:
        email_outbox.queue(staged.delivery_id, staged.title, staged.message, staged.data)
    elapsed = time.perf_counter() - staged.started
    metrics.observe("notification_delivery_duration_seconds", elapsed, DELIVERY_BUCKETS)


def send(user_id: uuid.UUID, type: str, title: str, message: str, data: dict | None = None) -> Notification | None:
    """Deliver a notification on every channel the user's preferences enable; returns the in-app
    row if one was made. The one entry point for notifications that stand alone.

    Never raises for a database failure: a lost notification must not undo or stall the work it
    announces. The failure is logged as an error and counted."""
    try:
        staged = stage(user_id, type, title, message, data)
        if staged is None:
            return None
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.error("notification %s for user %s not recorded: %s", type, user_id, type_name(exc))
        metrics.incr("notifications_failed_total", {"channel": "in_app", "type": type})
        return None
    return staged.notification


_ADD_EMAIL_DELIVERY = insert(EmailDelivery.__table__).values(
    {
        column: bindparam(column)
        for column in ("id", "user_id", "notification_type", "recipient", "subject", "message", "data", "status")
    }
    | {"digest_id": bindparam("digest_id"), "attempts": 0}
)


def _add_email_delivery(
    user_id: uuid.UUID, email: str, type: str, subject: str, message: str, data: dict, digest_id: uuid.UUID | None
) -> uuid.UUID:
    """The delivery row: `pending` to go now, or `digest` to wait for the window `digest_id`."""
    delivery_id = uuid.uuid4()
    values = {
        "id": delivery_id,
        "user_id": user_id,
        "notification_type": type,
        "recipient": email,
        "subject": subject,
        "message": message,
        "data": data,
        "status": "pending" if digest_id is None else "digest",
        "digest_id": digest_id,
    }
    db.session.execute(_ADD_EMAIL_DELIVERY, values)
    return delivery_id


def type_name(exc: BaseException) -> str:
    return type(exc).__name__


def serialize(notification: Notification) -> dict:
    """The notification as the API and the `notification` event show it."""
    return {
        "id": str(notification.id),
        "type": notification.type,
        "title": notification.title,
        "message": notification.message,
        "data": notification.data or {},
        "read": notification.read,
        "readAt": iso(notification.read_at),
        "createdAt": iso(notification.created_at),
        "expiresAt": iso(notification.expires_at),
    }
