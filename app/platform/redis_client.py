"""One Redis client per process (redis-py pools its connections and is fork-aware)."""

from __future__ import annotations

import os
import threading

import redis
from flask import current_app

_clients: dict[tuple[int, str], redis.Redis] = {}
_lock = threading.Lock()


def get_redis() -> redis.Redis:
    url = current_app.config["REDIS_URL"]
    key = (os.getpid(), url)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30, decode_responses=True
            )
            _clients[key] = client
        return client
