"""A user's webhook endpoints: create, read, list, update, delete, rotate the secret, ping.

Another user's endpoint is never revealed (404). The secret is returned only by `create` and
`rotate_secret`; it is stored encrypted and never logged or audited.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.extensions import db
from app.models.base import iso
from app.platform import audit
from app.platform.ownership import get_owned
from app.platform.pagination import fetch_page
from app.webhooks import signing, ssrf
from app.webhooks.models import WebhookEndpoint

MAX_ENDPOINTS_PER_USER = 20
RESOLVE_TIMEOUT_SECONDS = 5.0


def allowed_hosts() -> ssrf.AllowList:
    return ssrf.allow_list(tuple(current_app.config["WEBHOOK_ALLOWED_HOSTS"]))


def check_url(url: str) -> str:
    """The URL as stored, or a 400 naming what is wrong with it."""
    try:
        ssrf.check(url, allowed_hosts(), timeout=RESOLVE_TIMEOUT_SECONDS)
    except ssrf.RefusedTarget as exc:
        raise ValidationFailed("Invalid webhook URL", {"url": [str(exc)]}) from None
    return url


def create(user_id: uuid.UUID, url: str, events: list[str], description: str = "") -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret (shown this once)."""
    count = db.session.scalar(select(func.count()).where(WebhookEndpoint.user_id == user_id))
    if count >= MAX_ENDPOINTS_PER_USER:
        raise ValidationFailed(f"At most {MAX_ENDPOINTS_PER_USER} webhooks per user", code="webhook_limit_reached")
    secret = signing.new_secret()
    now = datetime.now(UTC)
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        user_id=user_id,
        url=check_url(url),
        events=list(events),
        enabled=True,
        description=description or "",
        secret_encrypted=signing.seal(secret),
        created_at=now,
        updated_at=now,
    )
    db.session.add(endpoint)
    audit.record(user_id, "webhook.created", "webhook", endpoint.id, {"url": url, "events": list(events)})
    db.session.commit()
    return endpoint, secret


def get(user_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """The caller's endpoint, or 404."""
    return get_owned(WebhookEndpoint, endpoint_id, user_id, "Webhook")


def list_for(user_id: uuid.UUID, page: int, limit: int) -> tuple[list[WebhookEndpoint], int]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.user_id == user_id)
    return fetch_page(query, page, limit, WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc())


def update(user_id: uuid.UUID, endpoint_id: uuid.UUID, changes: dict) -> WebhookEndpoint:
    """Change url, events, enabled or description. Enabling again forgets past failures."""
    endpoint = get(user_id, endpoint_id)
    if "url" in changes:
        endpoint.url = check_url(changes["url"])
    if "events" in changes:
        endpoint.events = list(changes["events"])
    if "description" in changes:
        endpoint.description = changes["description"] or ""
    if "enabled" in changes:
        if changes["enabled"] and not endpoint.enabled:
            endpoint.failing_since, endpoint.disabled_reason = None, None
        elif not changes["enabled"] and endpoint.enabled:
            endpoint.disabled_reason = "Disabled by its owner"
        endpoint.enabled = changes["enabled"]
    audit.record(user_id, "webhook.updated", "webhook", endpoint.id, {"fields": sorted(changes)})
    db.session.commit()
    return endpoint


def delete(user_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    """Delete an endpoint with its deliveries."""
    endpoint = get(user_id, endpoint_id)
    audit.record(user_id, "webhook.deleted", "webhook", endpoint.id, {"url": endpoint.url})
    db.session.delete(endpoint)
    db.session.commit()


def rotate_secret(user_id: uuid.UUID, endpoint_id: uuid.UUID) -> tuple[WebhookEndpoint, str]:
    """A new secret, effective for every attempt from now on (pending retries included)."""
    endpoint = get(user_id, endpoint_id)
    secret = signing.new_secret()
    endpoint.secret_encrypted = signing.seal(secret)
    audit.record(user_id, "webhook.secret_rotated", "webhook", endpoint.id)
    db.session.commit()
    return endpoint, secret


def serialize(endpoint: WebhookEndpoint, secret: str | None = None) -> dict:
    body = {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "description": endpoint.description,
        "disabledReason": endpoint.disabled_reason,
        "createdAt": iso(endpoint.created_at),
        "updatedAt": iso(endpoint.updated_at),
    }
    if secret is not None:
        body["secret"] = secret
    return body
