"""The one place that shapes every error: `{"error": {"code", "message", "details"}}`.

Services raise `ApiError` subclasses; dependency outages (Postgres, Redis) become 503 with
`Retry-After`; everything else that escapes is a logged 500 without internals in the body.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from flask import Flask, Response, jsonify
from kombu.exceptions import OperationalError as KombuOperationalError
from werkzeug.exceptions import HTTPException

from app.extensions import db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class ValidationFailed(ApiError):
    status, code = 400, "validation_error"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, {"retryAfter": retry_after})
        self.retry_after = retry_after


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"


def error_response(status: int, code: str, message: str, details: dict | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    if status in (429, 503):
        retry_after = (details or {}).get("retryAfter", RETRY_AFTER_SECONDS)
        response.headers["Retry-After"] = str(retry_after)
    return response


def is_dependency_outage(exc: BaseException) -> str | None:
    """Name the dependency ("database" / "redis") an exception says is unreachable, else None."""
    if isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
        return "database"
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return "database"
    if isinstance(exc, sqlalchemy.exc.TimeoutError):
        return "database"
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "redis"
    if isinstance(exc, KombuOperationalError | ConnectionError):
        return "redis"
    return None


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def _http_details(exc: HTTPException) -> tuple[int, str | None, dict[str, Any]]:
    """webargs/flask-smorest put field errors in `exc.data["messages"]`, per location; a body
    that is not valid JSON comes as a plain list under "json"."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or {}
    details: dict[str, Any] = {}
    code = None
    for location, errors in messages.items():
        if isinstance(errors, dict):
            details.update(errors)
            code = "validation_error"
        elif location == "json" and isinstance(errors, list):
            details["body"] = errors
            code = "malformed_json"
    status = 400 if exc.code == 422 else exc.code or 500
    return status, code, details


def register_error_handlers(app: Flask) -> None:
    """Every error leaves in the contract's shape, as JSON, never HTML."""

    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        status, code, details = _http_details(exc)
        if code == "malformed_json":
            message = "The request body is not valid JSON"
        elif code == "validation_error":
            message = "Invalid request"
        else:
            code, message = _HTTP_CODES.get(status, "http_error"), exc.description or exc.name
        response = error_response(status, code, message, details)
        # A 405 must say which methods the resource has (RFC 9110 `Allow`).
        valid_methods = getattr(exc, "valid_methods", None)
        if status == 405 and valid_methods:
            response.headers["Allow"] = ", ".join(sorted(valid_methods))
        return response

    @app.errorhandler(RecursionError)
    def handle_too_deep(exc: RecursionError):
        return error_response(400, "malformed_json", "The request body is nested too deeply")

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if _is_unstorable_text(exc):
            _reset_session()
            return error_response(
                400, "validation_error", "Text must not contain NUL characters or unpaired surrogates"
            )
        dependency = is_dependency_outage(exc)
        if dependency:
            log.warning("dependency unavailable: %s (%s)", dependency, type(exc).__name__)
            _reset_session()
            return error_response(
                503,
                "service_unavailable",
                f"The {dependency} is unavailable; try again shortly",
                {"dependency": dependency, "retryAfter": RETRY_AFTER_SECONDS},
            )
        log.exception("unhandled error")
        _reset_session()
        return error_response(500, "internal_error", "Something went wrong on our side")


def _is_unstorable_text(exc: BaseException) -> bool:
    """Text PostgreSQL cannot store (a NUL byte, an unpaired surrogate) is the client's mistake,
    wherever in a request it was found: the driver's error says so, at the cause of the chain."""
    for error in (exc, exc.__cause__, getattr(exc, "orig", None)):
        if isinstance(error, UnicodeEncodeError):
            return True
        if isinstance(error, ValueError) and "NUL (0x00)" in str(error):
            return True
    return False


def _reset_session() -> None:
    """A failed transaction must not poison the next request on this connection."""
    try:
        db.session.rollback()
    except Exception:  # the database may still be down; the pool reconnects later
        pass
