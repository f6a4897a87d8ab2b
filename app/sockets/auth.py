"""Socket authentication: the same access tokens as the REST API, checked once per socket."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask_jwt_extended import decode_token
from sqlalchemy import select

from app.extensions import db
from app.models import User

# A JWT of ours is a few hundred bytes; anything much longer is not worth decoding.
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class Identity:
    """Who a socket speaks for, and until when (the token's `exp`, seconds since the epoch)."""

    user_id: str
    expires_at: float


def verify_access_token(token: object) -> Identity | None:
    """The identity of a valid, unexpired access token of an existing user, else None.

    Refresh tokens are refused: they live for weeks and are meant for /api/auth/refresh only.
    Needs an app context (the handlers run in one): it looks the user up."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        claims = decode_token(token)  # checks signature, expiry and algorithm
        user_id = uuid.UUID(str(claims.get("sub")))
    except Exception:
        return None
    if claims.get("type") != "access" or "exp" not in claims:
        return None
    if not _user_exists(user_id):  # deleted since the token was issued
        return None
    return Identity(str(user_id), float(claims["exp"]))


def _user_exists(user_id: uuid.UUID) -> bool:
    """One indexed look-up on a pooled connection, without an ORM session: this runs once per
    socket, thousands of times in a row when clients reconnect after a restart."""
    with db.engine.connect() as connection:
        return connection.execute(select(User.id).where(User.id == user_id)).first() is not None
