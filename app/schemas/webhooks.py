"""Webhook endpoints and deliveries: what the API accepts and answers (and the OpenAPI document shows)."""

from marshmallow import Schema, ValidationError, fields, validate

from app.schemas.common import StrictBoolean
from app.webhooks.events import ANY_EVENT, DELIVERY_EVENT_TYPES, EVENT_TYPES

DELIVERY_STATUSES = ("pending", "succeeded", "failed")


def _distinct_events(value: list) -> None:
    if len(set(value)) != len(value):
        raise ValidationError("Each event type may be listed once")
    if ANY_EVENT in value and len(value) > 1:
        raise ValidationError('"*" stands alone: it already means every event type')


def _events_field(required: bool) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf((*EVENT_TYPES, ANY_EVENT))),
        required=required,
        validate=[validate.Length(min=1, max=len(EVENT_TYPES)), _distinct_events],
        metadata={"description": 'Event types to receive, or ["*"] for every one', "uniqueItems": True},
    )


class WebhookCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048), metadata={"format": "uri"})
    events = _events_field(required=True)
    description = fields.String(load_default="", validate=validate.Length(max=500))


class WebhookUpdateSchema(Schema):
    url = fields.String(validate=validate.Length(min=1, max=2048), metadata={"format": "uri"})
    events = _events_field(required=False)
    enabled = StrictBoolean()
    description = fields.String(validate=validate.Length(max=500))


class WebhookSchema(Schema):
    id = fields.String()
    url = fields.String(metadata={"format": "uri"})
    events = fields.List(fields.String(validate=validate.OneOf((*EVENT_TYPES, ANY_EVENT))))
    enabled = fields.Boolean()
    description = fields.String()
    disabledReason = fields.String(allow_none=True, metadata={"description": "Why the webhook was disabled"})
    createdAt = fields.String(metadata={"format": "date-time"})
    updatedAt = fields.String(metadata={"format": "date-time"})


class WebhookWithSecretSchema(WebhookSchema):
    secret = fields.String(
        metadata={"description": "`whsec_` + base64 of 32 random bytes; shown only on creation and rotation"}
    )


class DeliverySchema(Schema):
    id = fields.String(metadata={"description": "Also the `webhook-id` header, the same on every attempt"})
    eventType = fields.String(validate=validate.OneOf(DELIVERY_EVENT_TYPES))
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    attempts = fields.Integer()
    responseStatus = fields.Integer(allow_none=True)
    lastError = fields.String(allow_none=True)
    createdAt = fields.String(metadata={"format": "date-time"})
    deliveredAt = fields.String(allow_none=True, metadata={"format": "date-time"})
    nextAttemptAt = fields.String(allow_none=True, metadata={"format": "date-time"})


class AttemptSchema(Schema):
    attempt = fields.Integer()
    startedAt = fields.String(metadata={"format": "date-time"})
    durationMs = fields.Integer(allow_none=True)
    responseStatus = fields.Integer(allow_none=True)
    responseBody = fields.String(allow_none=True, metadata={"description": "The start of the receiver's answer"})
    error = fields.String(allow_none=True)


class DeliveryDetailSchema(DeliverySchema):
    attemptLog = fields.List(fields.Nested(AttemptSchema))
