"""Prometheus metrics shared by every process.

Counters and histograms live in Redis so that /metrics counts the work of every web and worker
process, not only the one answering; gauges are read from Postgres at scrape time. Updates are
buffered in the process and written in one pipeline at most every `METRICS_FLUSH_SECONDS` (by a
background writer, so an idle process still delivers what it counted), or when the buffer grows:
a worker running hundreds of short jobs a second pays one round trip per interval, not per job.
With an interval of 0, the buffer is written at the end of every request and task.
"""

from __future__ import annotations

import logging
import time

from app.platform import runtime
from app.platform.background import start_once_per_process
from app.platform.redis_client import get_redis

log = logging.getLogger(__name__)

PREFIX = "jobsvc:metrics:"
FLUSH_AT = 200  # pending updates that trigger a flush even in the middle of a long task


def configure(interval: float) -> None:
    """How often this process writes its buffered updates (0: at the end of every unit of work)."""
    runtime.current().metrics_interval = max(0.0, interval)


def end_of_unit_of_work() -> None:
    """Called when a request, a task or a socket event ends (inside its app context)."""
    state = runtime.current()
    try:
        state.metrics_client = get_redis()
    except Exception:  # no app context or no config: the next flush finds its own client
        pass
    if state.metrics_interval <= 0 or time.monotonic() - state.metrics_last_flush >= state.metrics_interval:
        flush()
    else:
        start_once_per_process("metrics-writer", _write_periodically)


def _write_periodically() -> None:
    while True:
        time.sleep(runtime.current().metrics_interval)
        flush()


def _field(labels: dict) -> str:
    return ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))


def incr(name: str, labels: dict | None = None, amount: float = 1) -> None:
    """Add to a counter shared by all processes (written at the next flush)."""
    state = runtime.current()
    with state.metrics_lock:
        state.metrics_pending[(PREFIX + name, _field(labels or {}))] += amount
        size = len(state.metrics_pending)
    if size >= FLUSH_AT:
        flush()


def observe(name: str, value: float, buckets: tuple[float, ...], labels: dict | None = None) -> None:
    """A histogram shared by all processes: cumulative buckets, sum and count."""
    base = dict(labels or {})
    state = runtime.current()
    with state.metrics_lock:
        pending = state.metrics_pending
        for bound in (*buckets, float("inf")):
            if value <= bound:
                le = "+Inf" if bound == float("inf") else repr(bound)
                pending[(PREFIX + name + "_bucket", _field({**base, "le": le}))] += 1
        pending[(PREFIX + name + "_sum", _field(base))] += value
        pending[(PREFIX + name + "_count", _field(base))] += 1


def count_socket_message(event: str) -> None:
    incr("websocket_messages_sent_total", {"event": event})


def flush() -> None:
    """Write the buffered updates in one pipeline; never raises (metrics must not break work).
    On failure the updates are dropped: counting must not grow memory while Redis is down."""
    state = runtime.current()
    with state.metrics_lock:
        state.metrics_last_flush = time.monotonic()
        if not state.metrics_pending:
            return
        batch = dict(state.metrics_pending)
        state.metrics_pending.clear()
    try:
        client = state.metrics_client if state.metrics_client is not None else get_redis()
        pipe = client.pipeline(transaction=False)
        for (key, field), amount in batch.items():
            pipe.hincrbyfloat(key, field, amount)
        pipe.execute()
    except Exception as exc:
        log.debug("%d metric updates dropped: %s", len(batch), type(exc).__name__)
