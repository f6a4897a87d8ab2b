"""The email channel's task, on its own queue, retried with exponential back-off.

Back-off tops out at 10 minutes, well under the broker's visibility timeout, so Celery's countdown
is safe here (the Redis ETA trap needs a countdown longer than the visibility timeout)."""
from __future__ import annotations

import smtplib
import socket
import uuid

from celery import shared_task

from app.services.email import deliver, record_failure

RETRYABLE = (smtplib.SMTPException, socket.error, TimeoutError, ConnectionError)
MAX_RETRIES = 5


@shared_task(name="notifications.send_email", bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_email(self, delivery_id: str, title: str | None, message: str | None, data: dict) -> str:
    try:
        return deliver(uuid.UUID(delivery_id), title, message, data or {}, attempt=self.request.retries + 1)
    except RETRYABLE as exc:
        if self.request.retries >= MAX_RETRIES:
            record_failure(uuid.UUID(delivery_id), f"{type(exc).__name__}: {exc}")
            return "failed"
        countdown = min(600, 2 ** self.request.retries * 5)
        raise self.retry(exc=exc, countdown=countdown) from None
