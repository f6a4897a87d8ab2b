"""One watchdog per worker process for every attempt it runs: heartbeats and cancellation
between checkpoints.

Each poll it asks Postgres, in one statement for all the attempts it watches (and, once per
heartbeat interval, marks them alive in that same statement), which of them are still current.
One that is not (cancelled, or taken over after a lost heartbeat) has its handler stopped as
before: the grace period to reach a checkpoint, then JobCancelled raised in its thread, and as a
last resort the pool process killed (Celery replaces it; the job stays cancelled). The stopping
waits run on a thread of their own, so one stuck handler never delays the others' heartbeats.

A thread per process rather than per attempt: a short job starts no thread, and many running
attempts cost one statement per poll, not one each. The watchdog lives in the process's runtime
state, so a forked pool process starts its own and never shares its parent's.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
import uuid
from dataclasses import dataclass, field

from app.jobs import state
from app.jobs.errors import JobCancelled
from app.platform import runtime

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Watched:
    """One running attempt: what the watchdog checks, and how it stops the handler."""

    job_id: uuid.UUID
    attempt: int
    cancelled: threading.Event  # the handler's own flag, seen at its next checkpoint
    thread_id: int  # the handler's thread
    engine: object  # the app's engine (a process may serve several apps, in tests)
    grace: float
    finished: threading.Event = field(default_factory=threading.Event)

    def finish(self) -> None:
        """The handler returned or raised: nothing may interrupt its thread any more."""
        self.finished.set()
        _watchdog().forget(self)

    def stop(self) -> None:
        """Give the handler the grace period, then interrupt it, then stop the process."""
        if self.finished.wait(self.grace):
            return
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread_id), ctypes.py_object(JobCancelled))
        if self.finished.wait(self.grace):
            return
        log.error("job %s ignored cancellation; stopping its process", self.job_id)
        os.kill(os.getpid(), signal.SIGKILL)


class Watchdog:
    """The attempts this process runs, and the thread that watches them."""

    def __init__(self) -> None:
        self._watched: set[Watched] = set()
        self._lock = threading.Lock()
        self._beat = self._poll = 1.0
        self._thread: threading.Thread | None = None

    def watch(self, watched: Watched, beat: float) -> None:
        with self._lock:
            self._beat, self._poll = beat, min(1.0, beat)
            self._watched.add(watched)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="job-watchdog", daemon=True)
                self._thread.start()

    def forget(self, watched: Watched) -> None:
        with self._lock:
            self._watched.discard(watched)

    def _run(self) -> None:
        since_beat = 0.0
        idle = threading.Event()  # never set: a sleep that gevent and eventlet patch as well
        while True:
            idle.wait(self._poll)
            since_beat += self._poll
            beat = since_beat >= self._beat
            if beat:
                since_beat = 0.0
            with self._lock:
                watched = list(self._watched)
            by_engine: dict[object, list[Watched]] = {}
            for item in watched:
                by_engine.setdefault(item.engine, []).append(item)
            for engine, items in by_engine.items():
                self._check(engine, items, beat)

    def _check(self, engine, items: list[Watched], beat: bool) -> None:
        try:
            with engine.begin() as connection:
                current = state.heartbeats(connection, [(item.job_id, item.attempt) for item in items], beat)
        except Exception as exc:  # database unreachable: keep running, the next poll tries again
            log.warning("heartbeat failed: %s", type(exc).__name__)
            current = None
        for item in items:
            still_current = current is None or (item.job_id, item.attempt) in current
            if item.cancelled.is_set() or not still_current:
                item.cancelled.set()
                self.forget(item)
                threading.Thread(target=item.stop, name=f"stop-{item.job_id}", daemon=True).start()


def _watchdog() -> Watchdog:
    state_ = runtime.current()
    with state_.watchdog_lock:
        if state_.watchdog is None:
            state_.watchdog = Watchdog()
        return state_.watchdog


def watch(job_id: uuid.UUID, attempt: int, cancelled: threading.Event, engine, beat: float, grace: float) -> Watched:
    """Watch the attempt the calling thread is about to run; call `finish()` once it is done."""
    watched = Watched(job_id, attempt, cancelled, threading.get_ident(), engine, grace)
    _watchdog().watch(watched, beat)
    return watched
