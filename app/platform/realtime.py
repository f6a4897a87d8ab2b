"""Socket.IO events, published on the Redis message queue that every web process listens to.

Every process (web, Celery workers, beat, CLI) publishes the same way: python-socketio's pub/sub
message (`PubSubManager.emit` builds the same dict) as JSON on CHANNEL, through
`app.platform.redis_writes` (a client made lazily in each process). Each web
process's manager delivers a message to its own clients when it comes back from Redis (its
listener skips only the messages of its own host id, which these never carry).

The events a commit announces go in the one pipeline of its Redis writes, before its broker
hand-offs: one round trip per transition, however many events it reports.
Events are a fast path: a failed publish is logged and dropped, Postgres holds the truth.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid

from app.platform import metrics, redis_writes

log = logging.getLogger(__name__)

# Flask-SocketIO's default channel, named here so that every emitter and server agree on it
# (python-socketio's own default is "socketio": a mismatch silently delivers nothing).
CHANNEL = "flask-socketio"

# This process's host id in the messages (python-socketio uses it to answer callbacks, which
# these events never ask for, and to skip its own messages, which no server here shares).
HOST_ID = uuid.uuid4().hex


def user_room(user_id) -> str:
    return f"user:{user_id}"


def job_room(job_id) -> str:
    return f"job:{job_id}"


def pubsub_message(event: str, data: dict, room: str) -> str:
    """The message python-socketio's managers read from the queue (a JSON event, no callback)."""
    message = {
        "method": "emit",
        "event": event,
        "data": [data],
        "binary": False,
        "namespace": "/",
        "room": room,
        "skip_sid": None,
        "callback": None,
        "host_id": HOST_ID,
    }
    return json.dumps(message, separators=(",", ":"))


def emit(event: str, data: dict, room: str) -> None:
    """Publish an event to a room on every web process (with the other writes of the commit being
    announced, inside `redis_writes.collected()`); never raises."""
    try:
        message = pubsub_message(event, data, room)
    except (TypeError, ValueError):
        log.exception("socket event %s not serialisable; dropped", event)
        return
    redis_writes.publish(CHANNEL, message, on_sent=lambda: metrics.count_socket_message(event))


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
