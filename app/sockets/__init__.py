"""Flask-SocketIO on the web process: same port as the API, relayed through Redis."""

from __future__ import annotations

from flask import Flask

from app.extensions import socketio
from app.platform.realtime import CHANNEL
from app.sockets import handlers
from app.sockets.resync import resync_job_rooms
from app.sockets.rooms import IndexedRedisManager

# Bigger messages close the connection. Clients only send small JSON objects ({token}, {jobId}).
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
# The subscription gets no read timeout: it blocks by design, and a timeout would make it
# resubscribe (missing messages meanwhile) every few seconds on a quiet channel.
LISTEN_REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_keepalive": True, "health_check_interval": 30}


def async_mode(app: Flask) -> str:
    """The configured mode; one setting moves the service to gevent or threading."""
    return app.config["WEBSOCKET_ASYNC_MODE"]


def cors_policy(origins: list[str]):
    """engine.io's `cors_allowed_origins` for WEBSOCKET_CORS_ORIGIN.

    Unset means same origin only (engine.io's None; its `[]` would switch the check off).
    A list allows those origins and still the service's own, which serves the API."""
    if "*" in origins:
        return "*"
    if not origins:
        return None
    allowed = set(origins)

    def allow(origin: str | None, environ: dict) -> bool:
        return origin in allowed or origin in _own_origins(environ)

    return allow


def _own_origins(environ: dict) -> set[str]:
    host = environ.get("HTTP_HOST", "")
    scheme = environ.get("wsgi.url_scheme", "http")
    forwarded_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
    forwarded_scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
    return {f"{scheme}://{host}", f"{forwarded_scheme}://{forwarded_host}"}


def init_socketio(app: Flask) -> None:
    """Bind the socket server only in the web process (wsgi.py asks for it); other processes
    (workers, beat, CLI, tests of the REST API) emit through the write-only emitter instead.

    Nothing connects here."""
    if not app.config.get("SOCKETIO_SERVER"):
        return

    # Built here, not by Flask-SocketIO: it takes Redis options and `unix://` URLs (Flask-SocketIO
    # hands those to Kombu), and it indexes rooms (see rooms.py). It connects with the first client.
    queue = IndexedRedisManager(
        app.config["REDIS_URL"],
        channel=CHANNEL,
        redis_options=dict(LISTEN_REDIS_OPTIONS),
        on_resubscribed=lambda: resync_job_rooms(app, queue),
    )

    socketio.init_app(
        app,
        async_mode=async_mode(app),
        client_manager=queue,
        cors_allowed_origins=cors_policy(app.config["WEBSOCKET_CORS_ORIGIN"]),
        ping_interval=app.config["WEBSOCKET_PING_INTERVAL"] / 1000,
        ping_timeout=app.config["WEBSOCKET_PING_TIMEOUT"] / 1000,
        max_http_buffer_size=app.config.get("WEBSOCKET_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES),
        manage_session=False,  # sockets authenticate with tokens, never with the Flask session
        logger=False,
        engineio_logger=False,
    )
    handlers.register(socketio)
