"""flask-jwt-extended callbacks: every token failure is a 401 in the contract's shape."""

from __future__ import annotations

import uuid

from flask_jwt_extended import JWTManager

from app.errors import error_response
from app.platform.logging_setup import user_id_var
from app.users.service import get_caller


def register_jwt_callbacks(jwt: JWTManager) -> None:
    def unauthorized(message: str):
        return error_response(401, "unauthorized", message)

    jwt.unauthorized_loader(lambda reason: unauthorized("Missing or malformed Authorization header"))
    jwt.invalid_token_loader(lambda reason: unauthorized("Invalid token"))
    jwt.expired_token_loader(lambda header, payload: unauthorized("Token has expired"))
    jwt.revoked_token_loader(lambda header, payload: unauthorized("Token has been revoked"))
    jwt.needs_fresh_token_loader(lambda header, payload: unauthorized("Fresh token required"))

    @jwt.user_lookup_loader
    def load_user(_header, payload):
        try:
            user_id = uuid.UUID(str(payload["sub"]))
        except (KeyError, ValueError):
            return None
        user = get_caller(user_id)
        if user is not None:
            user_id_var.set(str(user.id))
        return user

    @jwt.user_lookup_error_loader
    def user_gone(_header, _payload):
        return unauthorized("The user of this token no longer exists")
