"""An idle system is quiet: worker and beat write at most about a line a minute at INFO, and
the 2-second release of due jobs is no Celery task (so Flower's task list shows jobs)."""

from __future__ import annotations

import time

from tests.support import processes
from tests.support.private_stack import private_stack

SETTLE_SECONDS = 6  # start-up: banners, and the hourly tasks' first run
IDLE_SECONDS = 20


def _info_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if " INFO " in line or "[INFO" in line]


def test_an_idle_worker_and_beat_write_almost_nothing_at_info(database):
    """On a database and a Redis of their own: nothing another test left due may wake them."""
    with private_stack(database, "idle", {"JOB_SWEEP_INTERVAL": "2"}, {}) as stack:
        _watch_idle(stack.env)


def _watch_idle(env: dict) -> None:
    worker = processes.start_worker(concurrency=1, name="idle", env=env)
    beat = processes.start_beat(env=env)
    try:
        time.sleep(SETTLE_SECONDS)
        before = {proc: len(_info_lines(processes.read_log(proc))) for proc in (worker, beat)}
        time.sleep(IDLE_SECONDS)
        assert worker.poll() is None and beat.poll() is None
        logs = {proc: processes.read_log(proc) for proc in (worker, beat)}
        new = [line for proc, text in logs.items() for line in _info_lines(text)[before[proc] :]]
    finally:
        processes.stop(beat)
        processes.stop(worker)
    assert len(new) <= 1, "\n".join(new)
    for text in logs.values():
        assert "maintenance.release_due_jobs" not in text
        assert "maintenance.recover_lost_jobs" not in text
