"""The web entry point: REST API and Socket.IO on one port, served by eventlet.

The standard library is patched before anything else is imported, and psycopg2 is made
cooperative, so one slow query never blocks every socket of the process.
"""

import os

ASYNC_MODE = os.environ.get("WEBSOCKET_ASYNC_MODE", "eventlet")

if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
    from psycogreen.eventlet import patch_psycopg

    patch_psycopg()
elif ASYNC_MODE.startswith("gevent"):
    from gevent import monkey

    monkey.patch_all()
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()

import sys  # noqa: E402

from app import create_app  # noqa: E402
from app.config import ConfigError  # noqa: E402

try:
    app = create_app({"SOCKETIO_SERVER": True})
except ConfigError as exc:
    sys.exit(f"configuration error: {exc}")


def main() -> None:
    from app.extensions import socketio

    port = app.config["PORT"]
    host = os.environ.get("HOST", "0.0.0.0")
    # eventlet's WSGI server accepts 1,024 connections unless told otherwise.
    max_size = int(os.environ.get("WEB_MAX_CONNECTIONS", "10000"))
    kwargs = {"max_size": max_size} if ASYNC_MODE == "eventlet" else {}
    socketio.run(app, host=host, port=port, log_output=False, **kwargs)


if __name__ == "__main__":
    main()
