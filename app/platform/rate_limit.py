"""Rate limits kept in Redis, so they hold across every web process.

Fixed windows with INCR + EXPIRE: cheap, and precise enough for abuse control. When Redis is
unreachable the limits fail open (logged): refusing every login during an outage would be worse.
"""

from __future__ import annotations

import hashlib
import logging
import time

from flask import current_app, request

from app.errors import RateLimited
from app.platform.redis_client import get_redis
from app.platform.redis_writes import round_trip

log = logging.getLogger(__name__)

LOGIN_WINDOW_SECONDS = 900


def _key(*parts: str) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return f"jobsvc:rl:{parts[0]}:{digest}"


def _window(window: int) -> tuple[int, int]:
    now = int(time.time())
    start = now - now % window
    return start, start + window - now


def _incr(name: str, identity: str, window: int) -> int | None:
    """Count one event in the current window; None when Redis cannot be reached."""
    start, _ = _window(window)
    key = _key(name, identity, str(start))
    try:
        # One transaction in one round trip on the lean path (redis-py's pipeline object costs
        # about as much CPU as the round trip itself, on every job a user creates).
        *_, (count, _expired) = round_trip(
            get_redis(), [("MULTI",), ("INCR", key), ("EXPIRE", key, window + 1), ("EXEC",)]
        )
        return count
    except Exception as exc:
        log.warning("rate limit %s not counted: %s", name, type(exc).__name__)
        return None


def hit(name: str, identity: str, limit: int, window: int) -> None:
    """Count one event; raise RateLimited once `limit` is passed within the window."""
    if limit <= 0:
        return
    count = _incr(name, identity, window)
    if count is not None and count > limit:
        raise RateLimited(f"Too many requests; try again in {_window(window)[1]} seconds", _window(window)[1])


def _peek(name: str, identity: str, window: int) -> tuple[int, int]:
    start, retry_after = _window(window)
    try:
        value = get_redis().get(_key(name, identity, str(start)))
    except Exception as exc:
        log.warning("rate limit %s not checked: %s", name, type(exc).__name__)
        return 0, retry_after
    return int(value or 0), retry_after


def check_job_creation(user_id) -> None:
    hit("jobs", str(user_id), current_app.config["JOB_RATE_LIMIT_PER_MINUTE"], 60)


def _address() -> str:
    return request.remote_addr or "unknown"


def check_login_rate(email: str) -> None:
    """Refuse a login while its account or its address has failed too often recently."""
    for name, identity, limit in (
        ("login-account", email.strip().lower(), current_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        ("login-address", _address(), current_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    ):
        count, retry_after = _peek(name, identity, LOGIN_WINDOW_SECONDS)
        if count >= limit:
            raise RateLimited(f"Too many failed logins; try again in {retry_after} seconds", retry_after)


def record_login_failure(email: str) -> None:
    for name, identity in (("login-account", email.strip().lower()), ("login-address", _address())):
        _incr(name, identity, LOGIN_WINDOW_SECONDS)
