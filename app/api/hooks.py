"""Per-request plumbing: request ids, JSON-only bodies, security headers and CORS."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

from app.errors import error_response
from app.platform.logging_setup import request_id_var, user_id_var

access_log = logging.getLogger("app.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def register_hooks(app: Flask) -> None:
    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()
        request_id_var.set(g.request_id)
        user_id_var.set(None)

    @app.before_request
    def require_json_bodies():
        """A body that is not JSON is a 415, before any parsing."""
        if request.method not in _BODY_METHODS or not request.path.startswith("/api/"):
            return None
        if request.routing_exception is not None:
            return None  # no such route or method: its 404 / 405 (with `Allow`) comes first
        if request.content_length in (None, 0) and not request.headers.get("Transfer-Encoding"):
            return None
        if getattr(app.view_functions.get(request.endpoint), "accepts_file_bodies", False):
            return None  # the view reads and checks its own body (uploads)
        if request.mimetype != "application/json":
            return error_response(415, "unsupported_media_type", "Request bodies must be application/json")
        return None

    @app.before_request
    def answer_preflight():
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            return app.response_class(status=204)
        return None

    @app.after_request
    def decorate_response(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.path.startswith("/api/docs"):
            response.headers.setdefault("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
        _apply_cors(app, response)
        # The path only: query strings and bodies may carry what must never be logged.
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        access_log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed)
        return response


def _apply_cors(app: Flask, response) -> None:
    origin = request.headers.get("Origin")
    allowed = app.config["WEBSOCKET_CORS_ORIGIN"]
    if not origin or ("*" not in allowed and origin not in allowed):
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE, OPTIONS"
    response.headers["Access-Control-Expose-Headers"] = "Location, Retry-After, X-Request-ID"
