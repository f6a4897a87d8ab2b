"""Handing emails to the `email` queue in batches.

A worker finishing hundreds of short jobs a second would otherwise publish one task per email
and make the email worker pay a task's overhead for each. Delivery ids wait here, in the memory
of the process that recorded them, for at most `EMAIL_BATCH_SECONDS`, then go as one
`notifications.send_emails` task. Nothing is lost if the process dies meanwhile: the delivery rows
are committed and `pending`, and the pending-email sweep re-sends them.

With `EMAIL_BATCH_SECONDS=0` every email is handed over on its own, at once.
"""

from __future__ import annotations

import logging
import time
import uuid

from flask import current_app

from app.platform import runtime
from app.platform.background import start_once_per_process

log = logging.getLogger(__name__)

BATCH_MAX = 100  # ids per task: a batch is sent early once this many are waiting


def queue(delivery_id: uuid.UUID, title: str, message: str, data: dict) -> None:
    """Hand one recorded email over (now, or with the next batch). Never raises."""
    state = runtime.current()
    interval = current_app.config.get("EMAIL_BATCH_SECONDS", 0)
    try:
        if interval <= 0:
            args = [str(delivery_id), title, message, data]
            current_app.extensions["celery"].send_task("notifications.send_email", args=args, queue="email")
            return
        state.outbox_celery = current_app.extensions["celery"]
    except Exception as exc:  # the delivery row stays `pending`; the sweep re-sends it
        log.warning("email %s not queued now (%s); the sweep will retry", delivery_id, type(exc).__name__)
        return
    with state.outbox_lock:
        if not state.outbox_pending:
            state.outbox_oldest = time.monotonic()
        state.outbox_pending.append(str(delivery_id))
        state.outbox_interval = interval
        full = len(state.outbox_pending) >= BATCH_MAX
        state.outbox_arrived.notify()
    if full:
        flush()
    else:
        start_once_per_process("email-outbox", _send_when_due)


def flush() -> int:
    """Send what is waiting as one task; returns how many emails it carried."""
    state = runtime.current()
    with state.outbox_lock:
        batch = state.outbox_pending[:BATCH_MAX]
        del state.outbox_pending[: len(batch)]
        state.outbox_oldest = time.monotonic()
    if not batch:
        return 0
    try:
        state.outbox_celery.send_task("notifications.send_emails", args=[batch], queue="email")
    except Exception as exc:
        log.warning("%d emails not queued now (%s); the sweep will retry", len(batch), type(exc).__name__)
    return len(batch)


def _send_when_due() -> None:
    """Asleep while nothing waits; sends once the oldest waiting email is the interval old."""
    state = runtime.current()
    while True:
        with state.outbox_lock:
            while not state.outbox_pending:
                state.outbox_arrived.wait()
            remaining = state.outbox_oldest + state.outbox_interval - time.monotonic()
            if remaining > 0:
                state.outbox_arrived.wait(remaining)  # an arrival wakes it early: the interval may have changed
                continue
        while flush() == BATCH_MAX:
            pass
