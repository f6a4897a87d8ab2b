"""The webhook sweep (beat): hand over every delivery that is due but in no one's hands.

That covers a retry whose delay was too long for a broker countdown, a task the broker lost
(Redis down at hand-off, or restarted), and a worker killed mid-attempt (its lease expired). A
delivery handed over recently is left alone unless JOB_STALE_ENQUEUE_SECONDS have passed.
Finished deliveries older than JOB_RETENTION_DAYS are deleted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from app.extensions import db
from app.webhooks import outbox
from app.webhooks.models import WebhookDelivery

log = logging.getLogger(__name__)

BATCH = 500


def resend_due() -> int:
    """Hand over due, unleased deliveries the broker does not hold; returns how many."""
    stale = timedelta(seconds=current_app.config["JOB_STALE_ENQUEUE_SECONDS"])
    due = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= func.now(),
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < func.now()),
            or_(WebhookDelivery.enqueued_at.is_(None), WebhookDelivery.enqueued_at < func.now() - stale),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    ids = list(
        db.session.scalars(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(due.scalar_subquery()))
            .values(enqueued_at=func.now())
            .returning(WebhookDelivery.id),
            execution_options={"synchronize_session": False},
        )
    )
    outbox.send_after_commit(ids)
    db.session.commit()
    if ids:
        log.info("webhook sweep: %d deliveries handed over", len(ids))
    return len(ids)


def purge_finished() -> int:
    """Delete succeeded and failed deliveries older than the job retention."""
    cutoff = func.now() - timedelta(days=current_app.config["JOB_RETENTION_DAYS"])
    done = db.session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status.in_(("succeeded", "failed")), WebhookDelivery.created_at < cutoff
        )
    ).rowcount
    db.session.commit()
    return done
