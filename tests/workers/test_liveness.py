"""The stall guard of a worker (workers/liveness.py): a worker restarts itself when messages wait
in its own queues while it has free slots and has received nothing for WORKER_STALL_SECONDS. Only
its own queues count: a worker of `-Q webhooks` must keep serving while jobs wait for the job
workers (it used to restart every two minutes during a backlog of jobs)."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from app.jobs.sweeps import broker_backlog
from tests.support import processes
from tests.support.private_stack import private_stack

STALL_SECONDS = 2
BEAT_SECONDS = 5  # workers.liveness.BEAT_SECONDS: how often the guard looks


@pytest.fixture()
def stack(database):
    """A database and a Redis of the test's own: nothing else consumes its lists."""
    with private_stack(database, "stall", {"WORKER_STALL_SECONDS": str(STALL_SECONDS)}, {}) as stack:
        yield stack


def test_the_backlog_counts_every_priority_list_of_the_queues_asked_for(stack):
    broker = redis.Redis.from_url(stack.env["REDIS_URL"])
    for key in ("jobs", "jobs:4", "jobs:9", "webhooks:9", "email"):
        broker.lpush(key, "waiting")
    with stack.app.app_context():
        assert broker_backlog() == 3  # the job queue by default
        assert broker_backlog(["webhooks"]) == 1
        assert broker_backlog(["jobs", "email"]) == 4
        assert broker_backlog(["maintenance"]) == 0


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_worker_of_other_queues_keeps_serving_while_jobs_wait(stack):
    broker = redis.Redis.from_url(stack.env["REDIS_URL"])
    broker.lpush("jobs", "waiting for a job worker")  # no job worker runs here
    worker = processes.start_worker(
        concurrency=1, name=f"stall-{uuid.uuid4().hex[:6]}", queues="webhooks", env=stack.env
    )
    try:
        time.sleep(STALL_SECONDS + 2 * BEAT_SECONDS + 1)  # two looks after the stall time has passed
        assert worker.poll() is None, processes.read_log(worker)[-2000:]
        assert "restarting" not in processes.read_log(worker)
    finally:
        processes.stop(worker)
