"""What a user sees of an endpoint's deliveries, and what they can ask of them: the list, one
delivery with its attempts, a redelivery, and a test ping."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models.base import iso
from app.platform import audit
from app.platform.pagination import fetch_page
from app.webhooks import endpoints, outbox
from app.webhooks.events import TEST_EVENT
from app.webhooks.models import WebhookAttempt, WebhookDelivery

BODY_SHOWN = 1000  # characters of a receiver's answer shown per attempt


def list_for(user_id: uuid.UUID, endpoint_id: uuid.UUID, page: int, limit: int) -> tuple[list, int]:
    """An endpoint's deliveries, newest first."""
    endpoints.get(user_id, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    return fetch_page(query, page, limit, WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())


def get(user_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery:
    endpoints.get(user_id, endpoint_id)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound("Delivery not found")
    return delivery


def attempts_of(delivery_id: uuid.UUID) -> list[WebhookAttempt]:
    return list(
        db.session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
        )
    )


def redeliver(user_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Send a delivery again now, with the same `webhook-id` and a fresh budget of attempts."""
    endpoint = endpoints.get(user_id, endpoint_id)
    get(user_id, endpoint_id, delivery_id)
    if not endpoint.enabled:
        raise Conflict("The webhook is disabled; enable it first", code="webhook_disabled")
    delivery = db.session.scalars(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            (WebhookDelivery.lease_until.is_(None)) | (WebhookDelivery.lease_until < func.now()),
        )
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=func.now(),
            lease_until=None,
            enqueued_at=func.now(),
            last_error=None,
        )
        .returning(WebhookDelivery),
        execution_options={"synchronize_session": False, "populate_existing": True},
    ).one_or_none()
    if delivery is None:
        db.session.rollback()
        raise Conflict("This delivery is being attempted right now", code="delivery_in_progress")
    audit.record(user_id, "webhook.redelivered", "webhook", endpoint_id, {"deliveryId": str(delivery_id)})
    outbox.send_after_commit([delivery.id])
    db.session.commit()
    return delivery


def ping(user_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookDelivery:
    """Record and send a `webhook.test` delivery to one endpoint."""
    endpoint = endpoints.get(user_id, endpoint_id)
    if not endpoint.enabled:
        raise Conflict("The webhook is disabled; enable it first", code="webhook_disabled")
    data = {"webhookId": str(endpoint.id), "message": "A test event from the job service"}
    delivery = WebhookDelivery(
        id=uuid.uuid4(),
        endpoint_id=endpoint.id,
        user_id=user_id,
        event_type=TEST_EVENT,
        body=outbox.body(TEST_EVENT, data),
        status="pending",
        attempts=0,
        next_attempt_at=func.now(),
        enqueued_at=func.now(),
    )
    db.session.add(delivery)
    audit.record(user_id, "webhook.tested", "webhook", endpoint.id)
    outbox.send_after_commit([delivery.id])
    db.session.commit()
    db.session.refresh(delivery)
    return delivery


def serialize(delivery: WebhookDelivery) -> dict:
    return {
        "id": str(delivery.id),
        "eventType": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "responseStatus": delivery.response_status,
        "lastError": delivery.last_error,
        "createdAt": iso(delivery.created_at),
        "deliveredAt": iso(delivery.delivered_at),
        "nextAttemptAt": iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
    }


def serialize_detail(delivery: WebhookDelivery) -> dict:
    """One delivery with every attempt: status, duration and the start of the receiver's answer."""
    return {
        **serialize(delivery),
        "attemptLog": [
            {
                "attempt": a.attempt,
                "startedAt": iso(a.started_at),
                "durationMs": a.duration_ms,
                "responseStatus": a.response_status,
                "responseBody": (a.response_body or "")[:BODY_SHOWN] if a.response_body is not None else None,
                "error": a.error,
            }
            for a in attempts_of(delivery.id)
        ],
    }
