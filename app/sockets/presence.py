"""Who is connected to this web process, and the totals of all web processes through Redis.

One background loop per process (not one timer per socket) drops sockets that have not
authenticated in time and those whose token expired, and publishes this process's count of
authenticated sockets to a Redis key that expires unless refreshed, so that a crashed process
stops being counted on its own. Each round costs what it drops, not what the process holds:
the loop shares the process with every socket, and a scan of thousands would stall them all."""

from __future__ import annotations

import heapq
import logging
import os
import socket as socket_module
import time
from dataclasses import dataclass, field

from flask import Flask, current_app

from app.platform import runtime
from app.platform.redis_client import get_redis

log = logging.getLogger(__name__)

NAMESPACE = "/"
NODE_KEY_PREFIX = "jobsvc:ws:node:"
NODE_ID = f"{socket_module.gethostname()}:{os.getpid()}"
SWEEP_EVERY = 0.5
PUBLISH_EVERY = 2.0
NODE_TTL = 3 * PUBLISH_EVERY  # survives one missed publish, forgets a dead process quickly
STARTED_AT = time.time()


@dataclass
class SocketState:
    """What the process remembers about one of its sockets."""

    connected_at: float = field(default_factory=time.monotonic)
    user_id: str | None = None
    expires_at: float | None = None  # wall-clock expiry of the token
    jobs: set[str] = field(default_factory=set)  # job ids it subscribed to


sockets: dict[str, SocketState] = {}
_anonymous: dict[str, float] = {}  # sid -> connected_at of sockets yet to authenticate, oldest first
_expiries: list[tuple[float, str]] = []  # heap of (token expiry, sid); stale entries are skipped


def track_anonymous(sid: str) -> None:
    """A socket that connected without a token: it must authenticate within the timeout."""
    state = sockets[sid] = SocketState()
    _anonymous[sid] = state.connected_at


def sign_in(sid: str, user_id: str, expires_at: float) -> SocketState:
    """Record who the socket is until when; returns its state."""
    state = sockets.setdefault(sid, SocketState())
    state.user_id, state.expires_at = user_id, expires_at
    _anonymous.pop(sid, None)
    heapq.heappush(_expiries, (expires_at, sid))
    if len(_expiries) > 2 * len(sockets) + 1024:  # entries of sockets gone or re-authenticated
        _expiries[:] = [(s.expires_at, sid) for sid, s in sockets.items() if s.expires_at is not None]
        heapq.heapify(_expiries)
    return state


def forget(sid: str) -> None:
    sockets.pop(sid, None)
    _anonymous.pop(sid, None)


def authenticated_count() -> int:
    return len(sockets) - len(_anonymous)


def ensure_loop(socketio, app: Flask) -> None:
    """Start the sweep-and-publish loop once per process (on the first connection)."""
    state = runtime.current()
    if not state.presence_loop_started:
        state.presence_loop_started = True
        socketio.start_background_task(_loop, socketio, app)


def _loop(socketio, app: Flask) -> None:
    last_publish = float("-inf")
    while True:
        socketio.sleep(SWEEP_EVERY)
        # One bad round (a Redis outage, a socket in a strange state) must not end the loop:
        # without it no socket would ever time out again.
        try:
            sweep(socketio, app.config["WEBSOCKET_AUTH_TIMEOUT"])
        except Exception:
            log.exception("socket sweep failed")
        if time.monotonic() - last_publish >= PUBLISH_EVERY:
            last_publish = time.monotonic()
            with app.app_context():
                publish_count()


def sweep(socketio, auth_timeout: float) -> None:
    """Drop sockets that did not authenticate in time, or whose token expired."""
    now_mono, now_wall = time.monotonic(), time.time()
    overdue = []
    for sid, connected_at in _anonymous.items():  # oldest first: stop at the first still in time
        if now_mono - connected_at <= auth_timeout:
            break
        overdue.append(sid)
    for sid in overdue:
        drop(socketio, sid, ("unauthorized", {"message": "Authentication timeout"}))
    while _expiries and _expiries[0][0] <= now_wall:
        expires_at, sid = heapq.heappop(_expiries)
        state = sockets.get(sid)
        if state is not None and state.expires_at == expires_at:  # else gone, or a newer token
            drop(socketio, sid, ("unauthorized", {"message": "Token has expired"}))


def drop(socketio, sid: str, notice: tuple[str, dict] | None = None) -> None:
    """Tell a socket why (optional), disconnect it, then close its transport.

    The socket.io DISCONNECT tells a well-behaved client not to reconnect; closing the
    engine.io transport too means a client that ignores it cannot keep the connection."""
    forget(sid)
    server = socketio.server
    eio_sid = server.manager.eio_sid_from_sid(sid, NAMESPACE)
    if notice is not None:
        # Straight to this process's socket: a trip through the message queue would arrive
        # after the disconnect below, i.e. never.
        server.emit(notice[0], notice[1], to=sid, namespace=NAMESPACE, ignore_queue=True)
    server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
    if eio_sid is not None:
        # In its own task: closing waits for the send queue to drain, and a client that stopped
        # reading must not stall the caller (the sweep loop, or an event handler).
        socketio.start_background_task(_close_transport, server, eio_sid)


def _close_transport(server, eio_sid: str) -> None:
    try:
        server.eio.disconnect(eio_sid)
    except Exception as exc:  # already gone
        log.debug("closing transport %s: %s", eio_sid, exc)


def publish_count() -> None:
    """Refresh this process's count in Redis (needs an app context)."""
    try:
        get_redis().set(NODE_KEY_PREFIX + NODE_ID, authenticated_count(), ex=int(NODE_TTL))
    except Exception as exc:  # Redis down: the count is stale until it is back
        log.debug("socket count not published: %s", exc)


def unpublish_count() -> None:
    """Stop counting this process at once (graceful shutdown; needs an app context)."""
    try:
        get_redis().delete(NODE_KEY_PREFIX + NODE_ID)
    except Exception as exc:  # the key expires on its own
        log.debug("socket count not removed: %s", exc)


def connected_clients(redis) -> int:
    """Authenticated sockets of every live web process."""
    return sum(int(value or 0) for value in _node_counts(redis).values())


def _node_counts(redis) -> dict[str, str | None]:
    keys = list(redis.scan_iter(NODE_KEY_PREFIX + "*", count=100))
    return dict(zip(keys, redis.mget(keys), strict=True)) if keys else {}


def websocket_health() -> tuple[dict, int]:
    """GET /api/health/websocket: authenticated sockets of all web processes together."""
    try:
        counts = _node_counts(get_redis())
    except Exception as exc:
        return {"status": "unhealthy", "connectedClients": None, "error": type(exc).__name__}, 503
    body = {
        "status": "healthy",
        "connectedClients": sum(int(value or 0) for value in counts.values()),
        "webProcesses": len(counts),
        "uptime": round(time.time() - STARTED_AT, 1),
        "asyncMode": current_app.config["WEBSOCKET_ASYNC_MODE"],
    }
    return body, 200
