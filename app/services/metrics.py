"""Prometheus metrics. Counters live in Redis so that /metrics counts the work of every web and
worker process, not only the one answering; gauges are read from Postgres at scrape time."""

from __future__ import annotations

import logging

from flask import current_app

log = logging.getLogger(__name__)

PREFIX = "jobsvc:metrics:"


def _redis():
    from app.services.redis_client import get_redis

    return get_redis()


def incr(name: str, labels: dict | None = None, amount: float = 1) -> None:
    """Add to a counter shared by all processes; never raises (metrics must not break work)."""
    field = ",".join(f'{k}="{v}"' for k, v in sorted((labels or {}).items()))
    try:
        _redis().hincrbyfloat(PREFIX + name, field, amount)
    except Exception as exc:
        log.debug("metric %s not recorded: %s", name, exc)


def observe(name: str, value: float, buckets: tuple[float, ...], labels: dict | None = None) -> None:
    """A histogram shared by all processes: cumulative buckets, sum and count."""
    base = dict(labels or {})
    try:
        pipe = _redis().pipeline(transaction=False)
        for bound in (*buckets, float("inf")):
            if value <= bound:
                le = "+Inf" if bound == float("inf") else repr(bound)
                field = ",".join(f'{k}="{v}"' for k, v in sorted({**base, "le": le}.items()))
                pipe.hincrbyfloat(PREFIX + name + "_bucket", field, 1)
        plain = ",".join(f'{k}="{v}"' for k, v in sorted(base.items()))
        pipe.hincrbyfloat(PREFIX + name + "_sum", plain, value)
        pipe.hincrbyfloat(PREFIX + name + "_count", plain, 1)
        pipe.execute()
    except Exception as exc:
        log.debug("metric %s not recorded: %s", name, exc)


def count_socket_message(event: str) -> None:
    if current_app:
        incr("websocket_messages_sent_total", {"event": event})
