"""Cancellation, priorities, and surviving a killed or stopped worker — with real processes."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Job, JobExecution
from tests.support import processes
from tests.support.api import create_job, wait_for_job


def _executions(ctx, job_id: str) -> list[tuple[int, bool]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(JobExecution.attempt, JobExecution.completed).where(JobExecution.job_id == uuid.UUID(job_id))
    )
    return sorted(tuple(row) for row in rows)


def _wait_active(client, headers, job_id, timeout=20.0) -> dict:
    return _wait_for_progress(client, headers, job_id, at_least=1, timeout=timeout)


def test_cancelling_an_active_job_stops_it_within_5_seconds(private_queue, user, ctx):
    """With one worker slot: cancel a long job, and a job queued right after it gets the slot
    (and completes) within 5 seconds, so the cancelled one really stopped."""
    client, env = private_queue
    worker = processes.start_worker(concurrency=1, name=f"cancel-{uuid.uuid4().hex[:6]}", queues="jobs", env=env)
    try:
        long_id = create_job(client, user["headers"], payload={"steps": 100, "stepSeconds": 0.2}).get_json()["id"]
        _wait_for_progress(client, user["headers"], long_id, at_least=2)
        assert client.delete(f"/api/jobs/{long_id}", headers=user["headers"]).status_code == 200
        cancelled_at = time.monotonic()
        next_id = create_job(client, user["headers"], payload={"steps": 1}).get_json()["id"]
        wait_for_job(client, user["headers"], next_id, timeout=10)
        assert time.monotonic() - cancelled_at < 5
    finally:
        processes.stop(worker)
    job = client.get(f"/api/jobs/{long_id}", headers=user["headers"]).get_json()
    assert job["status"] == "cancelled"
    assert job["progress"]["current"] < 100
    assert _executions(ctx, long_id) == [(1, False)], "the cancelled run must not complete"


def test_a_job_that_ignores_cancellation_is_stopped_hard(private_queue, user, ctx):
    """A handler stuck between checkpoints (one long sleep) is interrupted by the watchdog."""
    client, env = private_queue
    worker = processes.start_worker(concurrency=1, name=f"stuck-{uuid.uuid4().hex[:6]}", queues="jobs", env=env)
    try:
        stuck_id = create_job(client, user["headers"], payload={"steps": 1, "stepSeconds": 60}).get_json()["id"]
        _wait_for_progress(client, user["headers"], stuck_id, at_least=1)
        assert client.delete(f"/api/jobs/{stuck_id}", headers=user["headers"]).status_code == 200
        cancelled_at = time.monotonic()
        next_id = create_job(client, user["headers"], payload={"steps": 1}).get_json()["id"]
        wait_for_job(client, user["headers"], next_id, timeout=15)
        assert time.monotonic() - cancelled_at < 8
    finally:
        processes.stop(worker)
    assert client.get(f"/api/jobs/{stuck_id}", headers=user["headers"]).get_json()["status"] == "cancelled"
    assert _executions(ctx, stuck_id) == [(1, False)]


def _wait_for_progress(client, headers, job_id, at_least: int, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    job = None
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=headers).get_json()
        if job["progress"] and job["progress"]["current"] >= at_least:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} made no progress: {job}")


def test_a_cancelled_queued_job_never_starts(client, user, worker, ctx):
    job_id = create_job(client, user["headers"], options={"startAfter": 2}).get_json()["id"]
    assert client.delete(f"/api/jobs/{job_id}", headers=user["headers"]).status_code == 200
    time.sleep(3)
    assert client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()["status"] == "cancelled"
    assert _executions(ctx, job_id) == []


def test_start_after_runs_the_job_once_due(client, user, worker, beat):
    job_id = create_job(client, user["headers"], options={"startAfter": 2}).get_json()["id"]
    time.sleep(1)
    assert client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()["status"] == "queued"
    job = wait_for_job(client, user["headers"], job_id, timeout=20)
    assert job["status"] == "completed"


@pytest.fixture()
def private_queue(private_redis_url):
    """An app and an environment on a Redis database of their own, so that only the worker
    processes a test starts can take its jobs."""
    # Not flushed between tests: the test process caches its queue declarations, and a flush
    # would drop the bindings until a worker declares them again.
    url = private_redis_url
    app = create_app({"REDIS_URL": url})
    with app.app_context():
        yield app.test_client(), {"REDIS_URL": url}


def test_priority_orders_waiting_jobs(private_queue, user, ctx):
    """Jobs queued while no worker runs are then taken highest priority first."""
    client, env = private_queue
    priorities = [0, 50, 100, 10, 90, 30, 70]
    ids = {}
    for priority in priorities:
        response = create_job(client, user["headers"], payload={"stepSeconds": 0.05}, options={"priority": priority})
        ids[uuid.UUID(response.get_json()["id"])] = priority
    worker = processes.start_worker(concurrency=1, name=f"prio-{uuid.uuid4().hex[:6]}", queues="jobs", env=env)
    try:
        for job_id in ids:
            wait_for_job(client, user["headers"], str(job_id), timeout=30)
    finally:
        processes.stop(worker)
    db.session.expire_all()
    order = db.session.execute(select(Job.id).where(Job.id.in_(ids)).order_by(Job.started_at)).scalars().all()
    assert [ids[job_id] for job_id in order] == sorted(priorities, reverse=True)


def test_worker_killed_mid_job_the_job_still_completes_once(private_queue, user, ctx):
    """SIGKILL the worker's whole process group while a job runs: a new worker picks the job up
    after the heartbeat timeout (recovery sweep by beat) and it completes exactly once."""
    client, env = private_queue
    name = f"victim-{uuid.uuid4().hex[:6]}"
    victim = processes.start_worker(concurrency=1, name=name, queues="jobs", env=env)
    job_id = create_job(client, user["headers"], payload={"steps": 20, "stepSeconds": 0.25}).get_json()["id"]
    active = _wait_active(client, user["headers"], job_id)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(10)
    assert active["attempts"] == 1
    rescuer = processes.start_worker(
        concurrency=1, name=f"rescuer-{uuid.uuid4().hex[:6]}", queues="jobs,maintenance", env=env
    )
    beat = processes.start_beat(env=env)
    try:
        job = wait_for_job(client, user["headers"], job_id, timeout=60)
    finally:
        processes.stop(beat)
        processes.stop(rescuer)
    assert job["status"] == "completed"
    assert job["attempts"] == 2
    runs = _executions(ctx, job_id)
    assert [completed for _, completed in runs].count(True) == 1, runs


def test_sigterm_lets_the_active_job_finish(private_queue, user, ctx):
    client, env = private_queue
    worker = processes.start_worker(concurrency=1, name=f"graceful-{uuid.uuid4().hex[:6]}", queues="jobs", env=env)
    job_id = create_job(client, user["headers"], payload={"steps": 6, "stepSeconds": 0.25}).get_json()["id"]
    _wait_active(client, user["headers"], job_id)
    os.kill(worker.pid, signal.SIGTERM)  # warm shutdown of the main process only
    worker.wait(30)
    job = client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()
    assert job["status"] == "completed"
    assert _executions(ctx, job_id) == [(1, True)]
