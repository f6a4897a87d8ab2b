"""Secrets and signatures per the Standard Webhooks specification, with its reference library.

A secret is `whsec_` + base64 of 32 random bytes; it is stored encrypted like connection
credentials (app/connections/crypto.py) and decrypted only to sign.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from app.connections import crypto

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def seal(secret: str) -> bytes:
    """The secret as stored."""
    return crypto.encrypt(secret)


def unseal(sealed: bytes) -> str:
    return crypto.decrypt(sealed)


def headers(sealed_secret: bytes, message_id: str, body: str, now: datetime | None = None) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature` for one attempt."""
    now = now or datetime.now(UTC)
    signature = Webhook(unseal(sealed_secret)).sign(message_id, now, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
