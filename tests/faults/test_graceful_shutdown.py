"""Fault 5: SIGTERM to a worker with jobs in flight. Nothing is lost: the jobs it runs finish (warm
shutdown) or are taken over, the ones it held in reserve go back to the broker, and another
worker runs them; none completes twice."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from tests.faults.harness import Figures, check_exactly_once, create_jobs, job_rows, wait_all_final
from tests.support import processes

PAYLOAD = {"steps": 8, "stepSeconds": 0.25}


def _active_on(job_ids, worker_name: str) -> list[str]:
    return [
        job_id
        for job_id, (status, _, worker) in job_rows(job_ids).items()
        if status == "active" and (worker or "").startswith(worker_name + "@")
    ]


@pytest.mark.parametrize(
    "target",
    [
        "main",  # `kill -TERM <pid>`: Celery's warm shutdown
        pytest.param("group", marks=[pytest.mark.fault_full, pytest.mark.slow]),  # the pool children too
    ],
)
def test_sigterm_with_jobs_in_flight_loses_nothing(fault_app, target):
    app, client, env, account = fault_app
    beat = processes.start_beat(env=env)
    name_a, name_b = f"term-a-{uuid.uuid4().hex[:6]}", f"term-b-{uuid.uuid4().hex[:6]}"
    worker_a = processes.start_worker(concurrency=2, name=name_a, queues="jobs,maintenance", env=env)
    worker_b = None
    started = time.monotonic()
    try:
        job_ids = create_jobs(client, account["headers"], 10, PAYLOAD)
        deadline = time.monotonic() + 20
        while len(in_flight := _active_on(job_ids, name_a)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(in_flight) == 2, "worker A never had two jobs running"
        worker_b = processes.start_worker(concurrency=2, name=name_b, queues="jobs,maintenance", env=env)
        in_flight = _active_on(job_ids, name_a)
        if target == "main":
            os.kill(worker_a.pid, signal.SIGTERM)
        else:
            os.killpg(worker_a.pid, signal.SIGTERM)
        exit_code = worker_a.wait(60)
        rows = wait_all_final(job_ids, timeout=90)
    finally:
        for proc in (beat, worker_a, worker_b):
            if proc is not None:
                processes.stop(proc)
    figures = check_exactly_once(job_ids, rows)
    by_b = [job_id for job_id, (_, _, worker) in rows.items() if (worker or "").startswith(name_b + "@")]
    figures.update(
        inFlightAtSigterm=len(in_flight),
        finishedByOtherWorker=len(by_b),
        workerExitCode=exit_code,
        seconds=round(time.monotonic() - started, 1),
    )
    Figures(f"SIGTERM ({target}) with jobs in flight", figures).print()
    assert figures["completed"] == len(job_ids), rows
    assert by_b, "the other worker took none of the jobs"
    if target == "main":
        assert exit_code == 0
        # Warm shutdown: what was running finished where it was, on its first attempt.
        assert all(rows[job_id][:2] == ("completed", 1) for job_id in in_flight), [rows[j] for j in in_flight]
