"""The email channel's task, on its own queue: deliver, retry transient failures with exponential
back-off, and record a permanent failure (or exhausted retries) on the delivery row.

Back-off tops out at 10 minutes, well under the broker's visibility timeout, so Celery's countdown
is safe here (the Redis ETA trap needs a countdown longer than the visibility timeout)."""

from __future__ import annotations

import uuid

from celery import shared_task

from app.services import email


# max_retries=None: the policy below decides, from configuration, not Celery's default of 3.
@shared_task(name="notifications.send_email", bind=True, acks_late=True, max_retries=None)
def send_email(self, delivery_id: str, title: str | None = None, message: str | None = None, data=None) -> str:
    """Deliver one recorded email; returns its status (`sent`, `logged`, `failed`, ...)."""
    delivery = uuid.UUID(delivery_id)
    try:
        return email.deliver(delivery, title, message, data or {})
    except Exception as exc:
        error = email.describe_error(exc)
        max_retries, first_delay = email.retry_policy()
        if email.is_transient(exc) and self.request.retries < max_retries:
            email.record_retry(delivery, error)
            countdown = email.retry_delay(self.request.retries, first_delay)
            raise self.retry(exc=exc, countdown=countdown) from None
        email.record_failure(delivery, error)
        return "failed"
