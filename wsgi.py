"""The web entry point: REST API and Socket.IO on one port, served by eventlet (the default) or
gevent, as WEBSOCKET_ASYNC_MODE says.

The standard library is patched before anything else is imported, and psycopg2 is made
cooperative, so one slow query never blocks every socket of the process.
"""

import os
import sys

ASYNC_MODES = ("eventlet", "gevent", "threading")
ASYNC_MODE = os.environ.get("WEBSOCKET_ASYNC_MODE", "eventlet").strip() or "eventlet"

if ASYNC_MODE not in ASYNC_MODES:
    sys.exit(f"configuration error: WEBSOCKET_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, got {ASYNC_MODE!r}")
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
    from psycogreen.eventlet import patch_psycopg

    patch_psycopg()
elif ASYNC_MODE == "gevent":
    try:
        from gevent import monkey
    except ImportError:
        sys.exit("configuration error: WEBSOCKET_ASYNC_MODE=gevent needs the gevent package installed")
    monkey.patch_all()
    import gevent
    import gevent.pool
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()

import gc
import logging
import resource
import signal

from app import create_app
from app.config import ConfigError

log = logging.getLogger("wsgi")
# eventlet's WSGI server accepts 1,024 connections unless told otherwise, gevent's any number;
# every socket needs one.
DEFAULT_MAX_CONNECTIONS = 10_000
SHUTDOWN_GRACE_SECONDS = 5.0

try:
    app = create_app({"SOCKETIO_SERVER": True})
except ConfigError as exc:
    sys.exit(f"configuration error: {exc}")


def raise_open_files_limit(wanted: int) -> int:
    """Lift the soft RLIMIT_NOFILE towards `wanted` (never above the hard limit): each socket is
    a file descriptor, and the common soft default of 1,024 would cap the process far below
    its max_size. Returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def green_primitives() -> tuple:
    """(spawn, spawn_after, sleep) of the green-thread library serving this process."""
    if ASYNC_MODE == "eventlet":
        return eventlet.spawn, eventlet.spawn_after, eventlet.sleep
    return gevent.spawn, gevent.spawn_later, gevent.sleep


def install_graceful_shutdown() -> None:
    """On SIGTERM/SIGINT: stop being counted, close every transport, exit.

    Closing the transports (not a socket.io disconnect) makes clients reconnect at once, to
    another web process behind the load balancer. The work runs in a green thread because a
    signal handler may interrupt the hub, which must not block."""
    spawn, spawn_after, sleep = green_primitives()

    def shutdown() -> None:
        spawn_after(SHUTDOWN_GRACE_SECONDS, os._exit, 0)  # whatever hangs below
        from app.extensions import socketio
        from app.sockets import presence

        with app.app_context():
            presence.unpublish_count()
        socketio.server.eio.disconnect()
        sleep(0.2)  # let the close frames go out
        logging.shutdown()
        os._exit(0)

    def on_signal(signum, _frame=None) -> None:
        log.info("web: %s received, shutting down", signal.Signals(signum).name)
        spawn(shutdown)

    for signum in (signal.SIGTERM, signal.SIGINT):
        if ASYNC_MODE == "gevent":
            # Run by gevent's loop, outside any greenlet it might have interrupted.
            gevent.signal_handler(signum, on_signal, signum)
        else:
            signal.signal(signum, on_signal)


def main() -> None:
    """Check the dependencies, then serve until SIGTERM."""
    from app.extensions import socketio
    from app.startup import require_dependencies

    port = app.config["PORT"]
    host = os.environ.get("HOST", "0.0.0.0")
    max_size = max_connections()
    require_dependencies(app)  # waits up to STARTUP_WAIT_SECONDS, then one line and exit
    files = raise_open_files_limit(max_size + 256)  # + database, Redis and log files
    kwargs = {}
    if ASYNC_MODE == "eventlet":
        kwargs["max_size"] = max_size
        install_graceful_shutdown()
    elif ASYNC_MODE == "gevent":
        kwargs["spawn"] = gevent.pool.Pool(max_size)  # at most this many connections served at once
        install_graceful_shutdown()
    elif ASYNC_MODE == "threading":
        log.warning("web: WEBSOCKET_ASYNC_MODE=threading serves with Werkzeug's development server")
        kwargs["allow_unsafe_werkzeug"] = True
    # Everything built so far (the app, its modules, SQLAlchemy's and marshmallow's registries)
    # lives as long as the process. Frozen, a full collection no longer walks its ~170,000
    # objects, which took ~90 ms here, during which no socket was served.
    gc.collect()
    gc.freeze()
    # Tests and process managers wait for this line.
    print(f"web: serving on http://{host}:{port} ({ASYNC_MODE}, open files limit {files})", flush=True)
    socketio.run(app, host=host, port=port, log_output=False, **kwargs)


def max_connections() -> int:
    """WEB_MAX_CONNECTIONS: the sockets plus HTTP requests served at once (eventlet's max_size,
    gevent's connection pool)."""
    raw = os.environ.get("WEB_MAX_CONNECTIONS", "").strip()
    if not raw:
        return DEFAULT_MAX_CONNECTIONS
    if not raw.isdigit() or int(raw) < 1:
        sys.exit(f"configuration error: WEB_MAX_CONNECTIONS must be a positive integer, got {raw!r}")
    return int(raw)


if __name__ == "__main__":
    main()
