"""The notification service: one entry point, `send()`, fanning out to the channels a user's
preferences enable. In-app: a committed row, then a `notification` event. Email: a delivery row
(committed with the in-app row), then a task on the `email` queue that sends it with retries,
unless a digest window collects it (app/notifications/digest.py)."""

from __future__ import annotations

import functools
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Interval, Row
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import Notification
from app.models.base import iso
from app.notifications import digest as email_digest
from app.notifications import outbox as email_outbox
from app.platform import metrics, one_statement, realtime
from app.platform.one_statement import Fragment, Part
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


# The notification's writes, one part of the statement that records its event
# (`app.platform.one_statement`): the user's preferences for the type decide, inside the
# statement, whether the in-app row is written and whether an email delivery is; no preference is
# read into Python first. A job email also looks for the user's open digest window and joins it.
_IN_APP = """
    notification_allowed AS (
        SELECT channel FROM notification_preferences
        WHERE user_id = :user_id AND notification_type = :notification_preference AND enabled
    ), notification_in_app AS (
        INSERT INTO notifications (id, user_id, type, title, message, data, read, created_at, expires_at)
        SELECT gen_random_uuid(), :user_id, :notification_type, :notification_title, :notification_message,
               :notification_data, false, stamp.at, stamp.at + :notification_retention
        FROM (SELECT clock_timestamp() AS at) AS stamp  -- read once: expiry is exactly creation + retention
        WHERE EXISTS (SELECT 1 FROM notification_allowed WHERE channel = 'in_app')
        RETURNING id, created_at, expires_at
    )"""
_IN_APP_COLUMNS = """
    (SELECT id FROM notification_in_app) AS notification_id,
    (SELECT created_at FROM notification_in_app) AS notification_created_at,
    (SELECT expires_at FROM notification_in_app) AS notification_expires_at"""
_EMAIL = """, notification_recipient AS (
        SELECT email FROM users
        WHERE id = :user_id AND EXISTS (SELECT 1 FROM notification_allowed WHERE channel = 'email')
    ), {joinable}, notification_email AS (
        INSERT INTO email_deliveries
            (id, user_id, notification_type, recipient, subject, message, data, status, digest_id, attempts)
        SELECT gen_random_uuid(), :user_id, :notification_type, recipient.email, :notification_title,
               :notification_message, :notification_data,
               CASE WHEN joinable.id IS NULL THEN 'pending' ELSE 'digest' END, joinable.id, 0
        FROM notification_recipient AS recipient LEFT JOIN notification_joinable AS joinable ON true
        RETURNING id, digest_id
    )"""
_NO_DIGEST = "notification_joinable AS (SELECT CAST(NULL AS uuid) AS id WHERE false)"
_EMAIL_COLUMNS = """,
    (SELECT id FROM notification_email) AS email_delivery_id,
    (SELECT digest_id FROM notification_email) AS email_digest_id"""
_TYPES = (("notification_data", JSONB()), ("notification_retention", Interval()))


@functools.cache
def _fragment(emails: bool, digests: bool) -> Fragment:
    """The in-app row; with `emails`, the email delivery; with `digests`, its digest window."""
    if not emails:
        return Fragment(_IN_APP, _IN_APP_COLUMNS, _TYPES)
    joinable = email_digest.JOINABLE_WINDOW_CTE if digests else _NO_DIGEST
    return Fragment(_IN_APP + _EMAIL.format(joinable=joinable), _IN_APP_COLUMNS + _EMAIL_COLUMNS, _TYPES)


@dataclass
class Staged:
    """A notification added to the current transaction, to be pushed once it commits."""

    user_id: uuid.UUID
    type: str
    title: str
    message: str
    data: dict
    id: uuid.UUID | None  # the in-app row's; None: no in-app row
    created_at: datetime | None
    expires_at: datetime | None
    delivery_id: uuid.UUID | None
    email_now: bool = True  # False: a digest window collected the email; it goes with the digest
    started: float = field(default_factory=time.perf_counter)
    read = False  # new: read like a Notification by `serialize`
    read_at = None


def part(user_id: uuid.UUID, type: str, title: str, message: str, data: dict | None = None) -> Part:
    """The notification's part of the statement that records its event: the rows the user's
    preferences call for (in-app row, email delivery), not committed, and once run, the pushes
    staged for after the commit. Secrets are redacted first. The part answers with a `Staged`,
    or None when no channel is enabled."""
    title = redact(title)[:TITLE_MAX]
    message = redact(message)
    data = redact(data or {})
    config = current_app.config
    emails = type in EMAIL_TYPES and config["EMAIL_NOTIFICATIONS_ENABLED"]
    digests = emails and email_digest.digests(type)
    params = {
        "user_id": user_id,
        "notification_preference": PREFERENCE_TYPE.get(type, "system"),
        "notification_type": type,
        "notification_title": title,
        "notification_message": message,
        "notification_data": data,
        "notification_retention": timedelta(days=config["NOTIFICATION_RETENTION_DAYS"]),
    }

    def receive(row: Row) -> Staged | None:
        delivery_id = row.email_delivery_id if emails else None
        if row.notification_id is None and delivery_id is None:
            return None
        email_now = True
        if digests and delivery_id is not None:
            email_now = row.email_digest_id is None and email_digest.goes_first(user_id, delivery_id)
        staged = Staged(
            user_id,
            type,
            title,
            message,
            data,
            row.notification_id,
            row.notification_created_at,
            row.notification_expires_at,
            delivery_id,
            email_now,
        )
        on_commit(lambda: push(staged))
        return staged

    return Part(_fragment(emails, digests), params, receive)


def stage(user_id: uuid.UUID, type: str, title: str, message: str, data: dict | None = None) -> Staged | None:
    """Add the notification to the current transaction, without committing (a caller that
    records a state change commits both at once): `part`, alone in its statement."""
    [staged] = one_statement.run(part(user_id, type, title, message, data))
    return staged


def push(staged: Staged | None) -> None:
    """After the commit: the `notification` event, the email task, the metrics. Never raises."""
    if staged is None:
        return
    if staged.id is not None:
        realtime.emit("notification", serialize(staged), realtime.user_room(staged.user_id))
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
    return _as_notification(staged)


def _as_notification(staged: Staged) -> Notification | None:
    """The in-app row `send` made, as an entity (detached: the session has not loaded it)."""
    if staged.id is None:
        return None
    return Notification(
        id=staged.id,
        user_id=staged.user_id,
        type=staged.type,
        title=staged.title,
        message=staged.message,
        data=staged.data,
        read=False,
        created_at=staged.created_at,
        expires_at=staged.expires_at,
    )


def type_name(exc: BaseException) -> str:
    return type(exc).__name__


def serialize(notification: Notification | Staged) -> dict:
    """The notification as the API and the `notification` event show it (a new one, staged, reads alike)."""
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
