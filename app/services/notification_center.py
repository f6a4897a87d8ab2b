"""The notification centre as users see it: list, read, delete, and preferences."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, update

from app.errors import NotFound
from app.extensions import db
from app.models import Notification, NotificationPreference
from app.models.base import iso


def list_notifications(user_id: uuid.UUID, page: int, limit: int, unread_only: bool) -> tuple[list, int, int]:
    """A newest-first page, its total, and the unread count (both served by partial indexes)."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read.is_(False))
    rows = db.session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc()).offset((page - 1) * limit).limit(limit)
    ).all()
    unread = unread_count(user_id)
    if unread_only:
        total = unread
    else:
        total = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == user_id))
    return list(rows), total, unread


def unread_count(user_id: uuid.UUID) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read.is_(False))
    )


def mark_read(user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound("Notification not found")
    if not notification.read:
        notification.read = True
        notification.read_at = func.now()
        db.session.commit()
        db.session.refresh(notification)
        from app.services import metrics

        metrics.incr("notifications_read_total")
    return notification


def mark_all_read(user_id: uuid.UUID) -> int:
    count = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read.is_(False))
        .values(read=True, read_at=func.now())
    ).rowcount
    db.session.commit()
    if count:
        from app.services import metrics

        metrics.incr("notifications_read_total", amount=count)
    return count


def delete_notification(user_id: uuid.UUID, notification_id: uuid.UUID) -> None:
    deleted = db.session.execute(
        delete(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
    ).rowcount
    db.session.commit()
    if not deleted:
        raise NotFound("Notification not found")


def list_preferences(user_id: uuid.UUID) -> list[NotificationPreference]:
    return list(
        db.session.scalars(
            select(NotificationPreference)
            .where(NotificationPreference.user_id == user_id)
            .order_by(NotificationPreference.notification_type, NotificationPreference.channel)
        )
    )


def update_preference(user_id: uuid.UUID, preference_id: uuid.UUID, enabled: bool) -> NotificationPreference:
    preference = db.session.get(NotificationPreference, preference_id)
    if preference is None or preference.user_id != user_id:
        raise NotFound("Preference not found")
    preference.enabled = enabled
    db.session.commit()
    return preference


def serialize_preference(preference: NotificationPreference) -> dict:
    return {
        "id": str(preference.id),
        "notificationType": preference.notification_type,
        "channel": preference.channel,
        "enabled": preference.enabled,
    }


def serialize_read(notification: Notification) -> dict:
    return {"id": str(notification.id), "read": True, "readAt": iso(notification.read_at)}
