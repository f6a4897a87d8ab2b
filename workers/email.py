"""The email channel's tasks, on their own queue: deliver, retry transient failures with
exponential back-off, and record a permanent failure (or exhausted retries) on the delivery row.

`send_emails` takes a batch handed off together (see app/notifications/outbox.py): one message
for many emails, each tried once; an email that failed transiently continues as its own
`send_email` task, with the back-off.

Back-off tops out at 10 minutes, well under the broker's visibility timeout, so Celery's countdown
is safe here (the Redis ETA trap needs a countdown longer than the visibility timeout)."""

from __future__ import annotations

import uuid
from collections import Counter

from celery import shared_task

from app.notifications import email
from app.platform.celery_app import send_task


class _RetryLater(Exception):
    def __init__(self, exc: BaseException, countdown: float):
        super().__init__(str(exc))
        self.exc, self.countdown = exc, countdown


def _attempt(delivery_id: uuid.UUID, retries_so_far: int, title=None, message=None, data=None) -> str:
    """One attempt; raises _RetryLater when another one should follow."""
    try:
        return email.deliver(delivery_id, title, message, data or {})
    except Exception as exc:
        error = email.describe_delivery_error(exc)
        max_retries, first_delay = email.retry_policy()
        if email.is_transient(exc) and retries_so_far < max_retries:
            email.record_retry(delivery_id, error)
            raise _RetryLater(exc, email.retry_delay(retries_so_far, first_delay)) from None
        email.record_failure(delivery_id, error)
        return "failed"


# max_retries=None: the policy above decides, from configuration, not Celery's default of 3.
@shared_task(name="notifications.send_email", bind=True, acks_late=True, max_retries=None)
def send_email(self, delivery_id: str, title: str | None = None, message: str | None = None, data=None) -> str:
    """Deliver one recorded email; returns its status (`sent`, `logged`, `failed`, ...)."""
    try:
        return _attempt(uuid.UUID(delivery_id), self.request.retries, title, message, data)
    except _RetryLater as later:
        raise self.retry(exc=later.exc, countdown=later.countdown) from None


@shared_task(name="notifications.send_emails", acks_late=True)
def send_emails(delivery_ids: list[str]) -> dict:
    """Deliver a batch of recorded emails; returns how many ended in each status."""
    outcomes: Counter = Counter()
    for delivery_id in delivery_ids:
        try:
            outcomes[_attempt(uuid.UUID(delivery_id), 0)] += 1
        except _RetryLater as later:
            # The second attempt and those after it: the single-email task, counting from 1.
            send_task("notifications.send_email", [delivery_id], "email", countdown=later.countdown, retries=1)
            outcomes["retrying"] += 1
    return dict(outcomes)
