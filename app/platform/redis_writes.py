"""The Redis writes that follow a commit, in one pipeline: its socket events (PUBLISH on the
Socket.IO channel) first, then its broker hand-offs (LPUSH of a Celery message onto a queue's list).

Inside `collected()` (the unit of work opens it around what a commit staged) every write is
buffered and the block ends with one round trip, in the order the writes were made: a client
hears a commit's `job_queued` before a worker can take the job and announce `job_started`.
Outside it a write goes at once.

A failed round trip leaves every write of the pipeline uncertain: socket events are dropped
(clients catch up through the REST API, Postgres holds the truth) and each broker write's
`on_lost` runs, so that the sweep resends what may never have arrived.

The clients are made lazily in each process, one per Redis URL (the message queue's, and the
broker's when it differs), so a prefork child never inherits its parent's connections.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import redis
from flask import current_app

from app.platform import runtime
from app.platform.redis_client import STALE_CONNECTION_RETRY

log = logging.getLogger(__name__)

# A dead Redis must not hang a worker's emit forever.
REDIS_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "health_check_interval": 30,
    "retry": STALE_CONNECTION_RETRY,
}

_burst = threading.local()  # per thread (per greenlet once patched): the writes being collected


@dataclass(frozen=True)
class Write:
    """One Redis command; `on_sent` runs once it went through, `on_lost` if it may not have."""

    command: str  # "publish" or "lpush"
    key: str
    value: str
    on_sent: Callable[[], None] | None = None
    on_lost: Callable[[], None] | None = None
    url: str | None = None  # the Redis server written to; None: REDIS_URL (the message queue)


def client(url: str) -> redis.Redis:
    """This process's Redis client for writes to `url`, bytes in and out."""
    state = runtime.current()
    with state.writers_lock:
        if url not in state.writers:
            state.writers[url] = redis.Redis.from_url(url, **REDIS_OPTIONS)
        return state.writers[url]


def publish(channel: str, message: str, on_sent: Callable[[], None] | None = None) -> None:
    """PUBLISH `message` (with the others of the commit, inside `collected()`); never raises."""
    add(Write("publish", channel, message, on_sent=on_sent))


def add(write: Write) -> None:
    """Make a write: buffered inside `collected()`, at once outside it. Never raises."""
    pending = getattr(_burst, "writes", None)
    if pending is not None:
        pending.append(write)
    else:
        send([write])


def send(writes: list[Write]) -> bool:
    """Send writes now, one round trip per server (one in a deployment: the broker is REDIS_URL);
    False (after the failure callbacks) if any failed."""
    by_server: dict[str, list[Write]] = {}
    default_url = current_app.config["REDIS_URL"] if writes else None
    for write in writes:
        by_server.setdefault(write.url or default_url, []).append(write)
    sent = [_send_to(url, group) for url, group in by_server.items()]
    return all(sent)


def _send_to(url: str, writes: list[Write]) -> bool:
    try:
        round_trip(client(url), commands(writes))
    except Exception as exc:
        _lost(writes, exc)
        return False
    for write in writes:
        if write.on_sent is not None:
            write.on_sent()
    return True


def commands(writes: list[Write]) -> list[list[str]]:
    """The writes as Redis commands, in their order. Consecutive LPUSHes onto one list become one
    LPUSH of all their values, which leaves the list as the separate commands would (each value
    goes to the head in turn): a batch's thousand broker messages are one command, not a
    thousand for Redis to parse and answer."""
    out: list[list[str]] = []
    for write in writes:
        command = write.command.upper()
        last = out[-1] if out else None
        if command == "LPUSH" and last is not None and last[0] == "LPUSH" and last[1] == write.key:
            last.append(write.value)
        else:
            out.append([command, write.key, write.value])
    return out


def round_trip(connection_of: redis.Redis, commands: list[tuple]) -> list:
    """Send `commands` in one write on one pooled connection and read their replies, in order:
    what a non-transactional pipeline does, without redis-py's per-pipeline bookkeeping (command
    stack, observability hooks, callbacks per reply), which cost more than the round trip
    itself on every commit. A connection error is retried as the client retries its commands
    (`STALE_CONNECTION_RETRY`: once, on a fresh connection); anything else leaves the connection
    closed, so no reply of this batch is read by the next."""
    pool = connection_of.connection_pool
    connection = pool.get_connection()

    def send_and_read() -> list:
        connection.send_packed_command(connection.pack_commands(commands))
        return [connection.read_response() for _ in commands]

    try:
        return connection.retry.call_with_retry(send_and_read, lambda _error: connection.disconnect())
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)


@contextmanager
def collected():
    """Buffer the writes made inside and send them in one round trip at the end, in order.
    Nested use joins the outer collection."""
    if getattr(_burst, "writes", None) is not None:
        yield
        return
    _burst.writes = []
    try:
        yield
    finally:
        pending, _burst.writes = _burst.writes, None
        send(pending)


def _lost(writes: list[Write], exc: Exception) -> None:
    events = sum(1 for write in writes if write.command == "publish")
    if events:
        log.warning("%d socket event(s) dropped: %s", events, type(exc).__name__)
    recoveries = {id(write.on_lost): write.on_lost for write in writes if write.on_lost is not None}
    for on_lost in recoveries.values():  # writes that share a recovery run it once
        try:
            on_lost()
        except Exception:  # one failed recovery must not stop the others; the sweep still finds them
            log.exception("recording a lost broker message failed")
