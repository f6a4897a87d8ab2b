"""One Redis client per process (redis-py pools its connections and is fork-aware)."""

from __future__ import annotations

import os
import threading

import redis
from flask import current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

# One immediate retry, on a fresh connection, of a command whose pooled connection failed: after
# Redis restarted, every pooled connection is dead, and redis-py's check at checkout does not
# always see it (with hiredis under eventlet it never does), so without it the first command on
# each of them fails. A Redis that is really down still fails fast: it refuses both attempts.
STALE_CONNECTION_RETRY = Retry(NoBackoff(), 1)

_clients: dict[tuple[int, str], redis.Redis] = {}
_lock = threading.Lock()


def get_redis() -> redis.Redis:
    url = current_app.config["REDIS_URL"]
    key = (os.getpid(), url)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=2,
                socket_timeout=5,
                health_check_interval=30,
                retry=STALE_CONNECTION_RETRY,
                decode_responses=True,
            )
            _clients[key] = client
        return client
