"""Socket.IO events, emitted through the Redis message queue.

In the web process the app's own `socketio` server publishes to the queue; in any other process
(Celery workers, beat, CLI) a write-only message-queue client does, created lazily in each
process, so a prefork child never inherits its parent's Redis connection.
Events are a fast path: a failed publish is logged and dropped, Postgres holds the truth.
"""

from __future__ import annotations

import logging
import threading
import time

import socketio as python_socketio
from flask import current_app

from app.extensions import socketio
from app.platform import metrics, runtime

log = logging.getLogger(__name__)

# Flask-SocketIO's default channel, named here so that every emitter and server agree on it
# (python-socketio's own default is "socketio": a mismatch silently delivers nothing).
CHANNEL = "flask-socketio"

# A dead Redis must not hang a worker's emit forever.
PUBLISH_REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5, "health_check_interval": 30}


def user_room(user_id) -> str:
    return f"user:{user_id}"


def job_room(job_id) -> str:
    return f"job:{job_id}"


def write_only_emitter(url: str) -> python_socketio.RedisManager:
    """A publisher on CHANNEL (python-socketio's "emitting from an external process"); it
    connects on first use. A bare RedisManager rather than a Flask-SocketIO SocketIO: it needs
    no server object, takes Redis timeouts, and accepts `unix://` URLs, which Flask-SocketIO
    would hand to Kombu."""
    return python_socketio.RedisManager(
        url, channel=CHANNEL, write_only=True, redis_options=dict(PUBLISH_REDIS_OPTIONS)
    )


def _external_emitter() -> python_socketio.RedisManager:
    """This process's emitter, made after any fork (a prefork child never shares its parent's:
    its runtime state starts empty) and again when the Redis URL changes."""
    state = runtime.current()
    with state.emitter_lock:
        url = current_app.config["REDIS_URL"]
        if state.emitter is None or state.emitter[0] != url:
            state.emitter = (url, write_only_emitter(url))
        return state.emitter[1]


def emit(event: str, data: dict, room: str) -> None:
    """Publish an event to a room on every web process; never raises."""
    try:
        if getattr(socketio, "server", None) is not None:
            socketio.emit(event, data, to=room)
        else:
            _external_emitter().emit(event, data, namespace="/", room=room)
    except Exception as exc:  # the client catches up through the REST API
        log.warning("socket event %s to %s dropped: %s", event, room, type(exc).__name__)
        return

    metrics.count_socket_message(event)


class ProgressThrottle:
    """At most one progress event per job per interval; final events bypass it.

    Lives in the memory of the worker process that runs the job (a job runs in one process),
    so it costs no round trip. `forget()` is called when a job ends; entries of jobs whose
    process died are evicted once the table grows large."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def allow(self, job_id: str, interval: float) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(job_id, float("-inf")) < interval:
                return False
            if len(self._last) >= self.MAX_ENTRIES:
                self._evict(now, interval)
            self._last[job_id] = now
            return True

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._last.pop(job_id, None)

    def _evict(self, now: float, interval: float) -> None:
        stale = [job_id for job_id, at in self._last.items() if now - at >= interval]
        for job_id in stale or list(self._last)[: self.MAX_ENTRIES // 2]:
            del self._last[job_id]


progress_throttle = ProgressThrottle()
