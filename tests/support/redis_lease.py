"""Redis database numbers leased per test session, so sessions running side by side (two
developers, or a developer and CI) never consume each other's Celery messages."""

from __future__ import annotations

import os

import redis
from sqlalchemy.engine import URL

LEASE_KEY = "jobsvc:test-lease:{}"
LEASE_SECONDS = 6 * 3600


def database_url(base: URL, number: int) -> str:
    return base.set(database=str(number)).render_as_string(hide_password=False)


def _holder_is_gone(admin: redis.Redis, key: str) -> bool:
    holder = admin.get(key)
    if holder is None:
        return True
    try:
        os.kill(int(holder), 0)
    except (ProcessLookupError, ValueError):
        return True
    except PermissionError:
        return False
    return False


def claim(base: URL) -> int:
    """Lease a free database number in 1..15 (the lease of a dead process is taken over)."""
    admin = redis.Redis.from_url(database_url(base, 0))
    for number in range(1, 16):
        key = LEASE_KEY.format(number)
        if admin.set(key, os.getpid(), nx=True, ex=LEASE_SECONDS) or (
            _holder_is_gone(admin, key) and admin.set(key, os.getpid(), ex=LEASE_SECONDS)
        ):
            redis.Redis.from_url(database_url(base, number)).flushdb()
            return number
    raise RuntimeError("all Redis databases 1..15 are leased by running test sessions")


def release(base: URL, number: int) -> None:
    redis.Redis.from_url(database_url(base, number)).flushdb()
    admin = redis.Redis.from_url(database_url(base, 0))
    if admin.get(LEASE_KEY.format(number)) == str(os.getpid()).encode():
        admin.delete(LEASE_KEY.format(number))
