"""Flask-SocketIO on the web process: same port as the API, relayed through Redis."""
from __future__ import annotations

from flask import Flask


def async_mode(app: Flask) -> str:
    """The configured mode; one setting moves the service to gevent or threading."""
    return app.config["WEBSOCKET_ASYNC_MODE"]


def init_socketio(app: Flask) -> None:
    """Bind the socket server only in the web process (wsgi.py asks for it); other processes
    (workers, beat, CLI, tests of the REST API) emit through the write-only emitter instead."""
    if not app.config.get("SOCKETIO_SERVER"):
        return
    from app.extensions import socketio
    from app.services.realtime import CHANNEL
    from app.sockets import handlers

    origins = app.config["WEBSOCKET_CORS_ORIGIN"]
    socketio.init_app(
        app,
        async_mode=async_mode(app),
        message_queue=app.config["REDIS_URL"],
        channel=CHANNEL,
        cors_allowed_origins="*" if "*" in origins else (origins or []),
        ping_interval=app.config["WEBSOCKET_PING_INTERVAL"] / 1000,
        ping_timeout=app.config["WEBSOCKET_PING_TIMEOUT"] / 1000,
        max_http_buffer_size=app.config.get("WEBSOCKET_MAX_MESSAGE_BYTES", 64 * 1024),
        manage_session=False,
        logger=False,
        engineio_logger=False,
    )
    handlers.register(socketio)
