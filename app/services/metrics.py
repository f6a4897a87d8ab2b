"""Prometheus metrics shared by every process.

Counters and histograms live in Redis so that /metrics counts the work of every web and worker
process, not only the one answering; gauges are read from Postgres at scrape time. Updates are
buffered in the process and written in one pipeline when a request or a task ends (or when the
buffer grows), so recording metrics costs one round trip per unit of work, not one per event.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

log = logging.getLogger(__name__)

PREFIX = "jobsvc:metrics:"
FLUSH_AT = 200  # pending updates that trigger a flush even in the middle of a long task

_pending: Counter = Counter()
_lock = threading.Lock()


def _field(labels: dict) -> str:
    return ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))


def incr(name: str, labels: dict | None = None, amount: float = 1) -> None:
    """Add to a counter shared by all processes (written at the next flush)."""
    with _lock:
        _pending[(PREFIX + name, _field(labels or {}))] += amount
        size = len(_pending)
    if size >= FLUSH_AT:
        flush()


def observe(name: str, value: float, buckets: tuple[float, ...], labels: dict | None = None) -> None:
    """A histogram shared by all processes: cumulative buckets, sum and count."""
    base = dict(labels or {})
    with _lock:
        for bound in (*buckets, float("inf")):
            if value <= bound:
                le = "+Inf" if bound == float("inf") else repr(bound)
                _pending[(PREFIX + name + "_bucket", _field({**base, "le": le}))] += 1
        _pending[(PREFIX + name + "_sum", _field(base))] += value
        _pending[(PREFIX + name + "_count", _field(base))] += 1


def count_socket_message(event: str) -> None:
    incr("websocket_messages_sent_total", {"event": event})


def flush() -> None:
    """Write the buffered updates in one pipeline; never raises (metrics must not break work).
    On failure the updates are dropped: counting must not grow memory while Redis is down."""
    with _lock:
        if not _pending:
            return
        batch = dict(_pending)
        _pending.clear()
    try:
        from app.services.redis_client import get_redis

        pipe = get_redis().pipeline(transaction=False)
        for (key, field), amount in batch.items():
            pipe.hincrbyfloat(key, field, amount)
        pipe.execute()
    except Exception as exc:
        log.debug("%d metric updates dropped: %s", len(batch), type(exc).__name__)
