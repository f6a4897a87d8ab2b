"""Fixtures of the beat tests: a database and a Redis database of their own, so that the beat
and worker processes other tests run (on the session's database) never tick these schedules,
and the processes these tests start see nothing else."""

from __future__ import annotations

import uuid

import pytest

from tests.support import processes
from tests.support.private_stack import private_stack


@pytest.fixture(scope="module")
def sched(database):
    """(app, client, env) on a fresh migrated database and a leased Redis database, with
    SCHEDULE_MIN_INTERVAL_SECONDS=1 so that seconds-schedules are allowed."""
    with private_stack(
        database, "sch", {"SCHEDULE_MIN_INTERVAL_SECONDS": "1"}, {"SCHEDULE_MIN_INTERVAL_SECONDS": 1}
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def sched_worker(sched):
    """A worker on the schedules' own database and Redis."""
    worker = processes.start_worker(concurrency=2, name=f"sched-{uuid.uuid4().hex[:6]}", env=sched.env)
    yield worker
    processes.stop(worker)


def start_beat(env: dict):
    """A beat process whose schedule loop has started."""
    beat = processes.start_beat(env=env)
    processes.wait_for_log(beat, "schedules: due schedules are checked", timeout=30)
    return beat
