"""Socket.IO events, emitted through the Redis message queue.

In the web process the app's own `socketio` publishes to the queue; in a worker, a write-only
`SocketIO(message_queue=...)` without an app does, created lazily in each (forked) process.
Events are a fast path: a failed publish is logged and dropped, Postgres holds the truth.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import current_app
from flask_socketio import SocketIO

from app.extensions import socketio

log = logging.getLogger(__name__)

# Flask-SocketIO's default channel, named here so that every emitter and server agree on it.
CHANNEL = "flask-socketio"

_external: tuple[int, SocketIO] | None = None
_external_lock = threading.Lock()


def user_room(user_id) -> str:
    return f"user:{user_id}"


def job_room(job_id) -> str:
    return f"job:{job_id}"


def _emitter() -> SocketIO:
    if getattr(socketio, "server", None) is not None:
        return socketio
    global _external
    with _external_lock:
        if _external is None or _external[0] != os.getpid():
            url = current_app.config["REDIS_URL"]
            # Threading mode: workers are not monkey-patched, and a write-only emitter needs no loop.
            _external = (os.getpid(), SocketIO(message_queue=url, channel=CHANNEL, async_mode="threading"))
        return _external[1]


def emit(event: str, data: dict, room: str) -> None:
    """Publish an event to a room on every web process; never raises."""
    try:
        _emitter().emit(event, data, to=room)
    except Exception as exc:  # Redis down: the client catches up through the REST API
        log.warning("socket event %s to %s dropped: %s", event, room, type(exc).__name__)
        return
    from app.services import metrics

    metrics.count_socket_message(event)


class ProgressThrottle:
    """At most one progress event per job per interval; final events bypass it."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def allow(self, job_id: str, interval: float) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(job_id, 0.0) < interval:
                return False
            self._last[job_id] = now
            return True

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._last.pop(job_id, None)


progress_throttle = ProgressThrottle()
