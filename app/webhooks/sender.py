"""Sending one delivery: claim it, make one attempt, record what happened, plan the next one.

The claim is a guarded UPDATE that counts the attempt and takes a lease (the attempt's time limit
plus a margin): a duplicate task finds the lease and does nothing, and a delivery whose worker was
killed mid-attempt is free again once its lease expires, for the sweep to send. Every attempt is a
row with the receiver's status, the start of its answer and the duration.

Retries: WEBHOOK_RETRY_DELAY_SECONDS, doubling, with jitter, at most six hours, until
WEBHOOK_MAX_ATTEMPTS. A 410 answer disables the endpoint; so do failures that have lasted a day,
and the owner is told with a `system` notification.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, insert, or_, update

from app.extensions import db
from app.notifications import service as notifications
from app.webhooks import client, endpoints, outbox, signing
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

LEASE_MARGIN_SECONDS = 10
MAX_RETRY_DELAY = 6 * 3600
# A retry due within this goes to the broker with a countdown (far below its visibility timeout);
# later ones wait in Postgres for the sweep.
COUNTDOWN_MAX_SECONDS = 300
FAILING_TOO_LONG = timedelta(days=1)
BODY_KEPT = 2048  # characters of a receiver's answer stored per attempt
LOST_ATTEMPT = "The worker stopped before this attempt finished"


@dataclass(frozen=True)
class Claimed:
    delivery_id: uuid.UUID
    attempt: int
    attempt_row: int
    endpoint_id: uuid.UUID
    user_id: uuid.UUID
    url: str
    secret_encrypted: bytes
    body: str


def retry_delay(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: doubling from the first delay, +/-20% jitter, capped."""
    first = current_app.config["WEBHOOK_RETRY_DELAY_SECONDS"]
    delay = min(MAX_RETRY_DELAY, first * 2 ** (attempt - 1))
    return min(MAX_RETRY_DELAY, delay * random.uniform(0.8, 1.2))


def deliver(delivery_id: uuid.UUID) -> str:
    """Attempt one delivery if it is due and free; returns what happened (for logs and tests)."""
    claimed = claim(delivery_id)
    if claimed is None:
        return _fail_unclaimable(delivery_id)
    try:
        outcome = _attempt(claimed)
    except Exception as exc:  # a bug or an unreadable secret ends as a recorded failure, not a silent loop
        log.error("webhook delivery %s attempt %d broke: %s", delivery_id, claimed.attempt, type(exc).__name__)
        outcome = client.Outcome(None, b"", 0, f"Internal error ({type(exc).__name__})")
    return record(claimed, outcome)


def _attempt(claimed: Claimed) -> client.Outcome:
    headers = signing.headers(claimed.secret_encrypted, str(claimed.delivery_id), claimed.body)
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    return client.post(claimed.url, claimed.body.encode(), headers, timeout, endpoints.allowed_hosts())


def claim(delivery_id: uuid.UUID) -> Claimed | None:
    """pending, due and not leased -> leased, one more attempt; None when there is nothing to do."""
    lease = timedelta(seconds=current_app.config["WEBHOOK_TIMEOUT_SECONDS"] + LEASE_MARGIN_SECONDS)
    row = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            # A countdown may fire a moment before the time Postgres recorded.
            WebhookDelivery.next_attempt_at <= func.now() + timedelta(seconds=1),
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < func.now()),
            WebhookDelivery.attempts < current_app.config["WEBHOOK_MAX_ATTEMPTS"],
            WebhookEndpoint.id == WebhookDelivery.endpoint_id,
            WebhookEndpoint.enabled.is_(True),
        )
        .values(attempts=WebhookDelivery.attempts + 1, lease_until=func.now() + lease, enqueued_at=None)
        .returning(
            WebhookDelivery.attempts,
            WebhookDelivery.user_id,
            WebhookDelivery.body,
            WebhookEndpoint.id,
            WebhookEndpoint.url,
            WebhookEndpoint.secret_encrypted,
        ),
        execution_options={"synchronize_session": False},
    ).one_or_none()
    if row is None:
        db.session.rollback()
        return None
    attempt, user_id, body, endpoint_id, url, secret = row
    db.session.execute(
        update(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id, WebhookAttempt.finished_at.is_(None))
        .values(finished_at=func.now(), error=LOST_ATTEMPT)
    )
    attempt_row = db.session.scalar(
        insert(WebhookAttempt).values(delivery_id=delivery_id, attempt=attempt).returning(WebhookAttempt.id)
    )
    db.session.commit()
    return Claimed(delivery_id, attempt, attempt_row, endpoint_id, user_id, url, bytes(secret), body)


def _fail_unclaimable(delivery_id: uuid.UUID) -> str:
    """A due delivery that may not be attempted again ends as failed rather than waiting forever:
    its endpoint is disabled, or its attempts ran out on workers that died mid-attempt."""
    free = and_(
        WebhookDelivery.id == delivery_id,
        WebhookDelivery.status == "pending",
        or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < func.now()),
    )
    reasons = (
        (
            and_(WebhookEndpoint.id == WebhookDelivery.endpoint_id, WebhookEndpoint.enabled.is_(False)),
            "The webhook is disabled",
        ),
        (WebhookDelivery.attempts >= current_app.config["WEBHOOK_MAX_ATTEMPTS"], LOST_ATTEMPT),
    )
    for condition, error in reasons:
        done = db.session.execute(
            update(WebhookDelivery)
            .where(free, condition)
            .values(status="failed", last_error=error, next_attempt_at=None, enqueued_at=None),
            execution_options={"synchronize_session": False},
        ).rowcount
        db.session.commit()
        if done:
            return "failed"
    return "skipped"


def record(claimed: Claimed, outcome: client.Outcome) -> str:
    """Store the attempt and the delivery's new state, then hand a near retry to the broker."""
    _store_attempt(claimed, outcome)
    status, values, disable_reason, countdown = _next_state(claimed, outcome)
    done = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == claimed.delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.attempts == claimed.attempt,
        )
        .values(lease_until=None, response_status=outcome.status, **values)
    ).rowcount
    if not done:  # redelivered or deleted meanwhile: that newer state stands
        db.session.commit()
        return "superseded"
    if status == "succeeded":
        _mark_healthy(claimed.endpoint_id)
    else:
        disable_reason = disable_reason or _failing_too_long(claimed.endpoint_id)
    disabled = disable_reason is not None and _disable(claimed.endpoint_id, disable_reason)
    if countdown is not None:
        outbox.send_after_commit([claimed.delivery_id], countdown=countdown)
    db.session.commit()
    log.info("webhook delivery %s attempt %d: %s", claimed.delivery_id, claimed.attempt, status)
    if disabled:
        _tell_owner(claimed, disable_reason)
    return status


def _store_attempt(claimed: Claimed, outcome: client.Outcome) -> None:
    answer = outcome.body.decode("utf-8", errors="replace")[:BODY_KEPT] if outcome.status is not None else None
    db.session.execute(
        update(WebhookAttempt)
        .where(WebhookAttempt.id == claimed.attempt_row)
        .values(
            finished_at=func.now(),
            duration_ms=outcome.duration_ms,
            response_status=outcome.status,
            response_body=answer,
            error=(outcome.error or _status_error(outcome.status))[:1000] if not _succeeded(outcome) else None,
        )
    )


def _succeeded(outcome: client.Outcome) -> bool:
    return outcome.status is not None and 200 <= outcome.status < 300


def _status_error(status: int | None) -> str:
    return f"The receiver answered {status}" if status is not None else "No answer"


def _next_state(claimed: Claimed, outcome: client.Outcome) -> tuple[str, dict, str | None, float | None]:
    """(status, column values, why to disable the endpoint, countdown of the next attempt)."""
    if _succeeded(outcome):
        values = {"status": "succeeded", "delivered_at": func.now(), "last_error": None, "next_attempt_at": None}
        return "succeeded", values, None, None
    error = (outcome.error or _status_error(outcome.status))[:1000]
    failed = {"status": "failed", "last_error": error, "next_attempt_at": None, "enqueued_at": None}
    if outcome.status == 410:
        return "failed", failed, "The receiver answered 410 Gone", None
    if outcome.refused or claimed.attempt >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
        return "failed", failed, None, None
    delay = retry_delay(claimed.attempt)
    near = delay <= COUNTDOWN_MAX_SECONDS
    values = {
        "last_error": error,
        "next_attempt_at": datetime.now(UTC) + timedelta(seconds=delay),
        # Marked as handed over in the same commit when the broker holds the retry; else the sweep sends it.
        "enqueued_at": func.now() if near else None,
    }
    return "retrying", values, None, delay if near else None


def _mark_healthy(endpoint_id: uuid.UUID) -> None:
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_not(None))
        .values(failing_since=None)
    )


def _failing_too_long(endpoint_id: uuid.UUID) -> str | None:
    """Note the first failure; a reason to disable once failures have lasted a day."""
    since = db.session.scalar(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(failing_since=func.coalesce(WebhookEndpoint.failing_since, func.now()))
        .returning(WebhookEndpoint.failing_since)
    )
    if since is not None and since <= datetime.now(UTC) - FAILING_TOO_LONG:
        return "Deliveries have been failing for a day"
    return None


def _disable(endpoint_id: uuid.UUID, reason: str) -> bool:
    """enabled -> disabled; False when it already was (only one owner notification)."""
    return bool(
        db.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled.is_(True))
            .values(enabled=False, disabled_reason=reason)
        ).rowcount
    )


def _tell_owner(claimed: Claimed, reason: str) -> None:
    log.warning("webhook %s disabled: %s", claimed.endpoint_id, reason)
    notifications.send(
        claimed.user_id,
        "system",
        "Webhook disabled",
        f"Deliveries to {claimed.url} were stopped: {reason}. Fix the receiver, then enable the webhook again.",
        {"webhookId": str(claimed.endpoint_id), "url": f"{current_app.config['PUBLIC_URL']}/webhooks"},
    )
