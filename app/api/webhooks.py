"""Webhooks: endpoints that receive signed job events, and their deliveries."""

from __future__ import annotations

import uuid

from app.api.blueprint import Blueprint
from app.api.security import caller_id, login_required
from app.schemas.common import ErrorSchema, MessageSchema, PaginationArgsSchema, page_schema, paginated
from app.schemas.webhooks import (
    DeliveryDetailSchema,
    DeliverySchema,
    WebhookCreateSchema,
    WebhookSchema,
    WebhookUpdateSchema,
    WebhookWithSecretSchema,
)
from app.webhooks import deliveries, endpoints

blp = Blueprint("webhooks", __name__, url_prefix="/api/webhooks", description="Webhooks")
WebhookPageSchema = page_schema(WebhookSchema, "WebhookPage")
DeliveryPageSchema = page_schema(DeliverySchema, "WebhookDeliveryPage")
_NOT_ALLOWED = "Malformed URL, a scheme other than https, credentials in it, or a host that is not allowed"


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(WebhookCreateSchema)
@blp.response(201, WebhookWithSecretSchema)
@blp.alt_response(400, schema=ErrorSchema, description=_NOT_ALLOWED)
def create(data):
    """Add a webhook; its signing secret is in this answer only (and after a rotation)."""
    endpoint, secret = endpoints.create(caller_id(), data["url"], data["events"], data["description"])
    return endpoints.serialize(endpoint, secret)


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, WebhookPageSchema)
def list_webhooks(args):
    """The caller's webhooks, newest first, without secrets."""
    rows, total = endpoints.list_for(caller_id(), args["page"], args["limit"])
    return paginated([endpoints.serialize(e) for e in rows], args["page"], args["limit"], total)


@blp.route("/<uuid:webhook_id>", methods=["GET"])
@login_required
@blp.response(200, WebhookSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get(webhook_id: uuid.UUID):
    return endpoints.serialize(endpoints.get(caller_id(), webhook_id))


@blp.route("/<uuid:webhook_id>", methods=["PATCH"])
@login_required
@blp.arguments(WebhookUpdateSchema)
@blp.response(200, WebhookSchema)
@blp.alt_response(400, schema=ErrorSchema, description=_NOT_ALLOWED)
@blp.alt_response(404, schema=ErrorSchema)
def update(data, webhook_id: uuid.UUID):
    """Change the URL, the event types, the description, or enable / disable it."""
    return endpoints.serialize(endpoints.update(caller_id(), webhook_id, data))


@blp.route("/<uuid:webhook_id>", methods=["DELETE"])
@login_required
@blp.response(200, MessageSchema)
@blp.alt_response(404, schema=ErrorSchema)
def delete(webhook_id: uuid.UUID):
    """Delete a webhook and its deliveries."""
    endpoints.delete(caller_id(), webhook_id)
    return {"message": "Webhook deleted"}


@blp.route("/<uuid:webhook_id>/rotate-secret", methods=["POST"])
@login_required
@blp.response(200, WebhookWithSecretSchema)
@blp.alt_response(404, schema=ErrorSchema)
def rotate_secret(webhook_id: uuid.UUID):
    """A new signing secret, used from the next attempt on; the old one stops working at once."""
    endpoint, secret = endpoints.rotate_secret(caller_id(), webhook_id)
    return endpoints.serialize(endpoint, secret)


@blp.route("/<uuid:webhook_id>/test", methods=["POST"])
@login_required
@blp.response(202, DeliverySchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="The webhook is disabled")
def test(webhook_id: uuid.UUID):
    """Deliver a `webhook.test` event now."""
    return deliveries.serialize(deliveries.ping(caller_id(), webhook_id))


@blp.route("/<uuid:webhook_id>/deliveries", methods=["GET"])
@login_required
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, DeliveryPageSchema)
@blp.alt_response(404, schema=ErrorSchema)
def list_deliveries(args, webhook_id: uuid.UUID):
    """The webhook's deliveries, newest first."""
    rows, total = deliveries.list_for(caller_id(), webhook_id, args["page"], args["limit"])
    return paginated([deliveries.serialize(d) for d in rows], args["page"], args["limit"], total)


@blp.route("/<uuid:webhook_id>/deliveries/<uuid:delivery_id>", methods=["GET"])
@login_required
@blp.response(200, DeliveryDetailSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_delivery(webhook_id: uuid.UUID, delivery_id: uuid.UUID):
    """One delivery with every attempt: status, duration and the start of the receiver's answer."""
    return deliveries.serialize_detail(deliveries.get(caller_id(), webhook_id, delivery_id))


@blp.route("/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/redeliver", methods=["POST"])
@login_required
@blp.response(202, DeliverySchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="The webhook is disabled, or the delivery is being attempted")
def redeliver(webhook_id: uuid.UUID, delivery_id: uuid.UUID):
    """Send a delivery again now, with the same `webhook-id` and a fresh budget of attempts."""
    return deliveries.serialize(deliveries.redeliver(caller_id(), webhook_id, delivery_id))
