"""The web process's Socket.IO client manager: python-socketio's Redis manager plus an index of
the rooms each socket is in.

python-socketio finds the rooms of a leaving socket by scanning every room of the namespace, and
every socket has a room of its own, so one disconnect costs O(sockets) and a crowd leaving at
once (a network blip, a load balancer restart) O(sockets^2): measured at 5,000 sockets, the
process answered nothing for over ten seconds. With the index a disconnect costs O(its rooms).
The room table itself (`self.rooms`) is left exactly as the library keeps it.

It also listens to Redis with a short, capped back-off and reports each re-subscription after a
failure: pub/sub keeps nothing for an absent subscriber, so whatever was published between Redis
coming back and this process subscribing again is lost, and the subscribers must be caught up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import socketio

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.25
MAX_RETRY_SECONDS = 2.0  # the library doubles up to 60 s: a minute of silence after Redis is back


class IndexedRedisManager(socketio.RedisManager):
    """RedisManager whose disconnects and room look-ups do not scan every room."""

    def __init__(self, *args, on_resubscribed: Callable[[], None] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[tuple[str, str], set] = {}  # (namespace, sid) -> rooms, None included
        self._on_resubscribed = on_resubscribed

    def _redis_listen_with_retries(self):
        """The library's listening loop (python-socketio 5.x), with the back-off capped and a
        call to `on_resubscribed` once listening works again after a failure."""
        retry_sleep, failed = FIRST_RETRY_SECONDS, False
        while True:
            try:
                self._redis_connect()
                pubsub = self.pubsub
                pubsub.subscribe(self.channel)
                if failed and self._on_resubscribed is not None:
                    self.server.start_background_task(self._on_resubscribed)
                retry_sleep, failed = FIRST_RETRY_SECONDS, False
                yield from pubsub.listen()
            except Exception as exc:
                log.error(
                    "socket relay lost its Redis subscription (%s); retrying in %.2fs", type(exc).__name__, retry_sleep
                )
                failed = True
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, MAX_RETRY_SECONDS)

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid, namespace, **kwargs):
        """The library's own, with the scan over all rooms replaced by the index."""
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    def get_rooms(self, sid, namespace):
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]


def local_job_rooms(manager: socketio.RedisManager) -> list[str]:
    """The job rooms with at least one socket of this process."""
    return [room for room in manager.rooms.get("/", {}) if isinstance(room, str) and room.startswith("job:")]
