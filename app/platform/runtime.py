"""Per-process runtime state: what one process keeps between requests and tasks (buffers waiting
to be written, the clients its background threads use, which loops it started), in one object.

The object is made for the process and made again in a forked child (`os.register_at_fork`), so
a prefork worker's pool process never writes through its parent's Redis clients or Celery app,
never inherits a lock another thread held, and never sends its parent's buffered metrics or
emails a second time. Settings given to the process (the metrics interval) carry over.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Runtime:
    """The mutable state of this process."""

    pid: int = field(default_factory=os.getpid)
    # Email outbox (app.notifications.outbox): delivery ids waiting for the next batch.
    outbox_pending: list[str] = field(default_factory=list)
    outbox_oldest: float = 0.0  # when the first id now waiting arrived
    outbox_interval: float = 0.0
    outbox_lock: threading.Lock = field(default_factory=threading.Lock)
    outbox_arrived: threading.Condition = field(init=False)  # the sender sleeps on it while nothing waits
    outbox_celery: Any = None  # the Celery app, taken in an app context for the background sender
    # Metrics (app.platform.metrics): updates buffered until the next flush.
    metrics_pending: Counter = field(default_factory=Counter)
    metrics_lock: threading.Lock = field(default_factory=threading.Lock)
    metrics_interval: float = 0.0
    metrics_last_flush: float = 0.0
    metrics_client: Any = None  # the Redis client, taken in an app context for the background writer
    # Redis clients of the writes that follow a commit (app.platform.redis_writes), by URL.
    writers: dict[str, Any] = field(default_factory=dict)
    writers_lock: threading.Lock = field(default_factory=threading.Lock)
    # The watchdog of the job attempts this worker process runs (app.jobs.watchdog).
    watchdog: Any = None
    watchdog_lock: threading.Lock = field(default_factory=threading.Lock)
    # The web process's socket sweep loop (app.sockets.presence).
    presence_loop_started: bool = False
    # A worker's main process: when it last received a task (workers.liveness).
    last_task_received: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.outbox_arrived = threading.Condition(self.outbox_lock)

    def for_child(self) -> Runtime:
        """A fresh state for a forked child, keeping what the process was configured with."""
        return Runtime(metrics_interval=self.metrics_interval)


class _Holder:
    runtime = Runtime()


def current() -> Runtime:
    """This process's runtime state."""
    return _Holder.runtime


def _after_fork_in_child() -> None:
    _Holder.runtime = _Holder.runtime.for_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
