"""The notification centre as users see it: list, read, delete, and preferences.

Every query is scoped to the caller; another user's notification or preference is "not found".
The statements behind the list are built by public functions so that bench/notifications.py
times and EXPLAINs exactly what the service runs.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, func, not_, select, update

from app.errors import NotFound
from app.extensions import db
from app.models import Notification, NotificationPreference
from app.models.base import iso
from app.platform import metrics
from app.platform.ownership import get_owned
from app.platform.pagination import offset


def _owned(user_id: uuid.UUID, unread_only: bool = False) -> list:
    """WHERE clauses for a user's (unread) notifications.

    `NOT read`, not `read IS false`: only the former matches the predicate of the partial index
    ix_notifications_user_unread, so only it lets the planner use that index (IS FALSE made the
    unread count read every one of the user's rows)."""
    clauses = [Notification.user_id == user_id]
    if unread_only:
        clauses.append(not_(Notification.read))
    return clauses


def _newest_first() -> tuple:
    return Notification.created_at.desc(), Notification.id.desc()


def page_statement(user_id: uuid.UUID, page: int, limit: int, unread_only: bool = False) -> Select:
    """One newest-first page of a user's notifications (ties on created_at broken by id).

    A deferred join: the OFFSET is walked in the inner query, which reads only `id` and so is an
    index-only scan of ix_notifications_user_created (user_id, created_at DESC, id DESC); only the
    page's own rows are then fetched from the table. A plain OFFSET fetched every skipped row from
    the heap: page 1,000 cost a thousand times what page 1 did in heap reads."""
    ids = (
        select(Notification.id)
        .where(*_owned(user_id, unread_only))
        .order_by(*_newest_first())
        .offset(offset(page, limit))
        .limit(limit)
        .scalar_subquery()
    )
    return select(Notification).where(Notification.id.in_(ids)).order_by(*_newest_first())


def total_statement(user_id: uuid.UUID) -> Select:
    return select(func.count()).select_from(Notification).where(*_owned(user_id))


def unread_statement(user_id: uuid.UUID) -> Select:
    """Served by the partial index on unread rows: cost follows the unread, not the total."""
    return select(func.count()).select_from(Notification).where(*_owned(user_id, unread_only=True))


def page_rows(user_id: uuid.UUID, page: int, limit: int, unread_only: bool = False) -> list[Notification]:
    return list(db.session.scalars(page_statement(user_id, page, limit, unread_only)))


def total_count(user_id: uuid.UUID) -> int:
    return db.session.scalar(total_statement(user_id))


def unread_count(user_id: uuid.UUID) -> int:
    return db.session.scalar(unread_statement(user_id))


def list_notifications(user_id: uuid.UUID, page: int, limit: int, unread_only: bool) -> tuple[list, int, int]:
    """A newest-first page, the total it is a page of, and the unread count."""
    rows = page_rows(user_id, page, limit, unread_only)
    unread = unread_count(user_id)
    total = unread if unread_only else total_count(user_id)
    return rows, total, unread


def mark_read(user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
    """Mark one read; reading it again keeps the first read time."""
    # Locked: of two concurrent reads, the second waits and then sees the first one's readAt.
    notification = get_owned(Notification, notification_id, user_id, "Notification", with_for_update=True)
    if not notification.read:
        notification.read = True
        notification.read_at = func.now()
        db.session.commit()
        db.session.refresh(notification)
        metrics.incr("notifications_read_total")
    return notification


def mark_all_read(user_id: uuid.UUID) -> int:
    """Mark every unread notification of the user read; returns how many there were."""
    count = db.session.execute(
        update(Notification).where(*_owned(user_id, unread_only=True)).values(read=True, read_at=func.now())
    ).rowcount
    db.session.commit()
    if count:
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
    preference = get_owned(NotificationPreference, preference_id, user_id, "Preference")
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
