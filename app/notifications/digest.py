"""Email digests: a burst of job emails to one user becomes two emails, not hundreds.

The first job email to a user goes at once and opens a window of EMAIL_DIGEST_SECONDS. Job emails
to that user while the window is open are recorded as deliveries in status `digest`, pointing at
the window; they are not handed to the email queue. Once the window is due, beat's sweep
(`send_due_digests`) closes it and, in the same transaction, records one `job_digest` delivery
listing them and marks them `digested`; the digest is then sent like any other email (retries,
recorded failures, the pending-email sweep).

Postgres is the record of every step, so a worker or beat lost mid-window loses nothing: the
entries wait in their rows, and the next sweep closes the window. Closing is a guarded UPDATE of
a row locked with SKIP LOCKED, so two sweeps never send one digest twice. A job email joins a
window under a share lock on it, so the sweep that closes the window waits for that email's
transaction and sees it; an email that comes after the close opens the next window.
With EMAIL_DIGEST_SECONDS=0 every job email goes at once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, insert, select, text, update

from app.extensions import db
from app.models import EmailDelivery, EmailDigest, NotificationPreference
from app.notifications import outbox as email_outbox
from app.notifications import service as notifications
from app.platform.unit_of_work import on_commit

# Job emails; system and security emails (invitations, account notices) always go at once.
DIGEST_TYPES = frozenset({"job_completed", "job_failed", "batch_completed", "workflow_completed", "workflow_failed"})
DIGEST_TYPE = "job_digest"  # the notification type of the digest email itself
OUTCOMES = {
    "job_completed": "completed",
    "job_failed": "failed",
    "batch_completed": "completed",
    "workflow_completed": "completed",
    "workflow_failed": "failed",
}
SWEEP_BATCH = 100
# Namespace of the advisory locks taken while opening a user's window (first key of the pair).
_LOCK_NAMESPACE = 0x6D61696C  # "mail"


def digests(notification_type: str) -> bool:
    """Whether an email of this type may be collected by a digest window (digests are on)."""
    return notification_type in DIGEST_TYPES and current_app.config.get("EMAIL_DIGEST_SECONDS", 0) > 0


# The user's open window that is not due yet, share-locked until the email's transaction commits:
# a CTE of the statement that records the email (`app.notifications.service`), whose delivery
# joins it (`digest_id`, status `digest`). The lock makes the sweep's close wait for this
# transaction; a window that is due takes no new entries, so a steady stream of emails cannot
# hold its close off.
_JOINABLE_WINDOW_SQL = """
        SELECT id FROM email_digests
        WHERE user_id = :user_id AND status = 'open' AND due_at > clock_timestamp()
        ORDER BY due_at DESC LIMIT 1
        FOR SHARE"""
JOINABLE_WINDOW_CTE = f"notification_joinable AS ({_JOINABLE_WINDOW_SQL}\n    )"


def goes_first(user_id: uuid.UUID, delivery_id: uuid.UUID) -> bool:
    """The job email `delivery_id`, just recorded, found no open window: it goes at once and
    opens the user's next window, in the caller's transaction. Unless another email finishing
    together opened one first: only one of them may, under an advisory lock, and this one then
    joins that window instead (False: it goes with the digest)."""
    db.session.execute(select(func.pg_advisory_xact_lock(_LOCK_NAMESPACE, _lock_key(user_id))))
    window = _joinable_window(user_id)
    if window is not None:
        db.session.execute(
            update(EmailDelivery)
            .where(EmailDelivery.id == delivery_id)
            .values(status="digest", digest_id=window)
            .execution_options(synchronize_session=False)
        )
        return False
    seconds = current_app.config["EMAIL_DIGEST_SECONDS"]
    db.session.execute(
        insert(EmailDigest).values(
            id=uuid.uuid4(),
            user_id=user_id,
            status="open",
            due_at=func.clock_timestamp() + timedelta(seconds=seconds),
        )
    )
    return True


# The same lookup alone, once a first email holds the lock that opens a window.
_JOINABLE_WINDOW = text(_JOINABLE_WINDOW_SQL)


def _joinable_window(user_id: uuid.UUID) -> uuid.UUID | None:
    """The user's open window that is not due yet, share-locked until the caller commits."""
    return db.session.scalar(_JOINABLE_WINDOW, {"user_id": user_id})


def _lock_key(user_id: uuid.UUID) -> int:
    """A signed 32-bit key from the user id (a collision only makes two users wait for each other)."""
    return int.from_bytes(user_id.bytes[:4], "big", signed=True)


def send_due_digests() -> int:
    """Close every due window: record its digest email and hand it to the email queue.

    Returns the number of digest emails recorded. Each batch of windows is one transaction; its
    digests go to the email queue once it commits (the unit of work), and one the broker never
    received stays `pending` for the pending-email sweep."""
    recorded = 0
    while True:
        windows = db.session.execute(
            select(EmailDigest.id, EmailDigest.user_id)
            .where(EmailDigest.status == "open", EmailDigest.due_at <= func.now())
            .order_by(EmailDigest.due_at)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for window in windows:
            digest = _close(*window)
            if digest is not None:
                _queue_after_commit(digest)
                recorded += 1
        db.session.commit()
        if len(windows) < SWEEP_BATCH:
            return recorded


def _queue_after_commit(digest: EmailDelivery) -> None:
    """Stage the digest's hand-off to the email queue, with what it says captured now: the
    callback runs after the commit and must not touch the session."""
    args = (digest.id, digest.subject, digest.message, digest.data)
    on_commit(lambda: email_outbox.queue(*args))


def _close(window_id: uuid.UUID, user_id: uuid.UUID) -> EmailDelivery | None:
    """Close one locked window; the digest delivery it calls for, added to the session, if any."""
    closed = db.session.execute(
        update(EmailDigest)
        .where(EmailDigest.id == window_id, EmailDigest.status == "open")
        .values(status="closed", closed_at=func.now())
    ).rowcount
    if not closed:
        return None
    entries = db.session.scalars(
        select(EmailDelivery)
        .where(EmailDelivery.digest_id == window_id, EmailDelivery.status == "digest")
        .order_by(EmailDelivery.created_at, EmailDelivery.id)
    ).all()
    if not entries:
        return None
    allowed = _still_wanted(user_id)
    wanted = [entry for entry in entries if entry.notification_type in allowed]
    _set_status([entry.id for entry in entries if entry not in wanted], "disabled")
    if not wanted:
        return None
    _set_status([entry.id for entry in wanted], "digested")
    digest = _digest_delivery(window_id, user_id, wanted)
    db.session.add(digest)
    return digest


def _still_wanted(user_id: uuid.UUID) -> set[str]:
    """The digestible types whose email the user still allows: a preference turned off during
    the window stops the emails it collected, as it would have stopped each one."""
    enabled = set(
        db.session.scalars(
            select(NotificationPreference.notification_type).where(
                NotificationPreference.user_id == user_id,
                NotificationPreference.channel == "email",
                NotificationPreference.enabled.is_(True),
            )
        )
    )
    return {kind for kind in DIGEST_TYPES if notifications.PREFERENCE_TYPE.get(kind, "job_status") in enabled}


def _set_status(delivery_ids: list[uuid.UUID], status: str) -> None:
    if delivery_ids:
        db.session.execute(
            update(EmailDelivery)
            .where(EmailDelivery.id.in_(delivery_ids), EmailDelivery.status == "digest")
            .values(status=status)
        )


def _digest_delivery(window_id: uuid.UUID, user_id: uuid.UUID, entries: list[EmailDelivery]) -> EmailDelivery:
    """The digest email: its subject counts the updates, its data lists each with its outcome."""
    items = [
        {
            "type": entry.notification_type,
            "outcome": OUTCOMES.get(entry.notification_type, "updated"),
            "title": entry.subject,
            "message": entry.message or entry.subject,
            "url": (entry.data or {}).get("url"),
            "jobId": (entry.data or {}).get("jobId"),
        }
        for entry in entries
    ]
    return EmailDelivery(
        id=uuid.uuid4(),
        user_id=user_id,
        notification_type=DIGEST_TYPE,
        recipient=entries[-1].recipient,  # the address in force at the latest update
        subject=digest_subject(len(items)),
        message=digest_summary(items),
        data={"entries": items},
        status="pending",
        attempts=0,
        digest_id=window_id,
    )


def digest_subject(count: int) -> str:
    return f"{count} job update" if count == 1 else f"{count} job updates"


def digest_summary(items: list[dict]) -> str:
    """One line for the digest's message, e.g. "11 completed, 1 failed"."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item["outcome"]] = counts.get(item["outcome"], 0) + 1
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
