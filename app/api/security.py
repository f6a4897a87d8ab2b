"""Who is calling: the authenticated user, and the admin gate."""

from __future__ import annotations

import uuid
from functools import wraps

from flask_jwt_extended import current_user, jwt_required

from app.errors import Forbidden

BEARER = [{"bearerAuth": []}]


def caller_id() -> uuid.UUID:
    return current_user.id


def login_required(view):
    return jwt_required()(view)


def admin_required(view):
    @wraps(view)
    @jwt_required()
    def wrapper(*args, **kwargs):
        if current_user.role != "admin":
            raise Forbidden("Administrators only")
        return view(*args, **kwargs)

    return wrapper
