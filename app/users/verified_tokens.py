"""Access tokens already verified by this process, remembered so that a client's next request with
the same token does not pay for its verification again.

flask-jwt-extended decodes a token three times per request (its claims unverified, its header,
then verified), and PyJWT checks the base64url alphabet of every character each time: about a
tenth of the CPU of `POST /api/jobs`. A token is the same string on every request of a session,
and its signature check can only give the same answer for the same string under the same key, so
the verified claims are kept per app (its key) in a bounded LRU map, keyed by the whole token.

What depends on time is checked again on every use: a remembered token past its `exp` (or before
its `nbf`) is forgotten and verified afresh, which refuses it as flask-jwt-extended would. Only
successful verifications are remembered: a token that fails, a forged one included, is verified
every time. What follows the decoding (the user's lookup, a blocklist if one is added) runs on
every request as before.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import timedelta

from flask import current_app
from flask_jwt_extended import JWTManager
from flask_jwt_extended.config import config

EXTENSION = "verified_tokens"  # the key in `app.extensions`
MAX_TOKENS = 4096


class VerifiedTokens:
    """A bounded map of verified token -> its claims, least recently used forgotten first."""

    def __init__(self, size: int = MAX_TOKENS):
        self.size = size
        self._claims: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, leeway: float = 0) -> dict | None:
        """The claims of a remembered token that is still within its validity, else None."""
        with self._lock:
            claims = self._claims.get(token)
            if claims is None:
                return None
            now = time.time()
            if ("exp" in claims and now >= claims["exp"] + leeway) or (
                "nbf" in claims and now < claims["nbf"] - leeway
            ):
                del self._claims[token]
                return None
            self._claims.move_to_end(token)
            return dict(claims)

    def put(self, token: str, claims: dict) -> None:
        with self._lock:
            self._claims[token] = dict(claims)
            self._claims.move_to_end(token)
            while len(self._claims) > self.size:
                self._claims.popitem(last=False)

    def __len__(self) -> int:
        return len(self._claims)


class RememberingJWTManager(JWTManager):
    """flask-jwt-extended's manager, decoding each access token string once per process."""

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
        if csrf_value is not None or allow_expired:  # not the service's ways: no shortcut
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        remembered = current_app.extensions.setdefault(EXTENSION, VerifiedTokens())
        leeway = config.leeway
        claims = remembered.get(encoded_token, leeway.total_seconds() if isinstance(leeway, timedelta) else leeway)
        if claims is None:
            claims = super()._decode_jwt_from_config(encoded_token)
            remembered.put(encoded_token, claims)
        return claims
