"""Prometheus metrics shared by every process.

Counters and histograms live in Redis so that /metrics counts the work of every web and worker
process, not only the one answering; gauges are read from Postgres at scrape time. Updates are
buffered in the process and written in one pipeline at most every `METRICS_FLUSH_SECONDS` (by a
background writer, so an idle process still delivers what it counted), or when the buffer grows:
a worker running hundreds of short jobs a second pays one round trip per interval, not per job.
With an interval of 0, the buffer is written at the end of every request and task.
"""

from __future__ import annotations

import functools
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


# The Redis hash and field of each series, worked out once per metric and label values: every
# job updates several series, and formatting their labels cost more than counting.
@functools.lru_cache(maxsize=4096)
def _counter(name: str, labels: tuple) -> tuple[str, str]:
    return PREFIX + name, _field(dict(labels))


@functools.lru_cache(maxsize=1024)
def _histogram(name: str, buckets: tuple[float, ...], labels: tuple) -> tuple:
    """((bound, bucket series) for every bucket and +Inf, the sum's series, the count's series)."""
    base = dict(labels)
    bounds = [(bound, repr(bound)) for bound in buckets] + [(float("inf"), "+Inf")]
    series = tuple((bound, (PREFIX + name + "_bucket", _field({**base, "le": le}))) for bound, le in bounds)
    return series, (PREFIX + name + "_sum", _field(base)), (PREFIX + name + "_count", _field(base))


def _labels(labels: dict | None) -> tuple:
    return tuple(sorted(labels.items())) if labels else ()


def incr(name: str, labels: dict | None = None, amount: float = 1) -> None:
    """Add to a counter shared by all processes (written at the next flush)."""
    series = _counter(name, _labels(labels))
    state = runtime.current()
    with state.metrics_lock:
        state.metrics_pending[series] += amount
        size = len(state.metrics_pending)
    if size >= FLUSH_AT:
        flush()


def observe(name: str, value: float, buckets: tuple[float, ...], labels: dict | None = None) -> None:
    """A histogram shared by all processes: cumulative buckets, sum and count."""
    buckets_series, sum_series, count_series = _histogram(name, buckets, _labels(labels))
    state = runtime.current()
    with state.metrics_lock:
        pending = state.metrics_pending
        for bound, series in buckets_series:
            if value <= bound:
                pending[series] += 1
        pending[sum_series] += value
        pending[count_series] += 1


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
