"""Webhook tasks on the `webhooks` queue: one delivery attempt, and the hourly purge of old deliveries
(the resend sweep runs in beat itself: workers/beat.py)."""

from __future__ import annotations

import uuid

from celery import shared_task

from app.webhooks import sender, sweep

# An attempt is bounded by WEBHOOK_TIMEOUT_SECONDS itself; these limits only catch a bug.
HARD_LIMIT_SECONDS = 300


@shared_task(name="webhooks.deliver", acks_late=True, ignore_result=True, time_limit=HARD_LIMIT_SECONDS)
def deliver(delivery_id: str) -> str:
    """Attempt one recorded delivery; returns what happened."""
    return sender.deliver(uuid.UUID(delivery_id))


@shared_task(name="webhooks.purge", ignore_result=True)
def purge() -> int:
    return sweep.purge_finished()
