"""Who is connected to this web process, and the totals of all of them through Redis.

One background loop per process (not one timer per socket) drops sockets that have not
authenticated in time and those whose token expired, and publishes this process's count."""
from __future__ import annotations

import os
import socket as socket_module
import time
from dataclasses import dataclass, field

from flask import current_app

NODE_KEY_PREFIX = "jobsvc:ws:node:"
NODE_ID = f"{socket_module.gethostname()}:{os.getpid()}"
PUBLISH_EVERY = 2.0
NODE_TTL = 15
STARTED_AT = time.time()


@dataclass
class SocketState:
    connected_at: float = field(default_factory=time.monotonic)
    user_id: str | None = None
    expires_at: float | None = None  # wall-clock expiry of the token


sockets: dict[str, SocketState] = {}
_loop_started = False


def ensure_loop(socketio, app) -> None:
    global _loop_started
    if not _loop_started:
        _loop_started = True
        socketio.start_background_task(_loop, socketio, app)


def _loop(socketio, app) -> None:
    last_publish = 0.0
    while True:
        socketio.sleep(0.5)
        _drop_overdue(socketio, app.config["WEBSOCKET_AUTH_TIMEOUT"])
        if time.monotonic() - last_publish >= PUBLISH_EVERY:
            last_publish = time.monotonic()
            with app.app_context():
                _publish_count()


def _drop_overdue(socketio, auth_timeout: float) -> None:
    now_mono, now_wall = time.monotonic(), time.time()
    for sid, state in list(sockets.items()):
        if state.user_id is None and now_mono - state.connected_at > auth_timeout:
            sockets.pop(sid, None)
            socketio.server.disconnect(sid)
        elif state.expires_at is not None and now_wall >= state.expires_at:
            sockets.pop(sid, None)
            socketio.emit("unauthorized", {"message": "Token has expired"}, to=sid)
            socketio.server.disconnect(sid)


def _publish_count() -> None:
    from app.services.redis_client import get_redis

    try:
        get_redis().set(NODE_KEY_PREFIX + NODE_ID, sum(1 for s in sockets.values() if s.user_id), ex=NODE_TTL)
    except Exception:  # Redis down: the count is stale until it is back
        pass


def connected_clients(redis) -> int:
    total = 0
    for key in redis.scan_iter(NODE_KEY_PREFIX + "*", count=100):
        total += int(redis.get(key) or 0)
    return total


def websocket_health() -> tuple[dict, int]:
    from app.services.redis_client import get_redis

    try:
        redis = get_redis()
        clients = connected_clients(redis)
        nodes = sum(1 for _ in redis.scan_iter(NODE_KEY_PREFIX + "*", count=100))
    except Exception as exc:
        return {"status": "unhealthy", "connectedClients": None, "error": type(exc).__name__}, 503
    body = {
        "status": "healthy",
        "connectedClients": clients,
        "webProcesses": nodes,
        "uptime": round(time.time() - STARTED_AT, 1),
        "asyncMode": current_app.config["WEBSOCKET_ASYNC_MODE"],
    }
    return body, 200
