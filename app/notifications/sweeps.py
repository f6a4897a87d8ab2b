"""The notification sweeps run by beat: resend emails the email queue never received, and delete
notifications past their expiry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, func, or_, select

from app.extensions import db
from app.models import EmailDelivery, Notification
from app.platform.celery_app import send_task
from app.platform.purge import purge_in_batches

PURGE_BATCH = 1000


def resend_pending_emails() -> int:
    """Emails recorded but never handed to the email queue (Redis was down) go out now."""
    cutoff = func.now() - timedelta(minutes=2)
    # A `retrying` row whose retry message was lost shows no change for longer than the longest
    # back-off (10 minutes): it is sent again as well.
    stuck = func.now() - timedelta(minutes=15)
    pending = db.session.scalars(
        select(EmailDelivery)
        .where(
            or_(
                and_(EmailDelivery.status == "pending", EmailDelivery.created_at < cutoff),
                and_(EmailDelivery.status == "retrying", EmailDelivery.updated_at < stuck),
            )
        )
        .limit(200)
        .with_for_update(skip_locked=True)  # a second beat running at once takes other rows
    ).all()
    for delivery in pending:
        args = [str(delivery.id), delivery.subject, delivery.message, delivery.data or {}]
        send_task("notifications.send_email", args=args, queue="email")
    db.session.commit()
    return len(pending)


def purge_expired_notifications() -> int:
    table = Notification.__table__
    return purge_in_batches(table, table.c.expires_at < func.now(), PURGE_BATCH)
