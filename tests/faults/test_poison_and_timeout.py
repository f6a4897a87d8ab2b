"""Fault 4: a job that overruns its time limit, and a poison job that kills its worker process
on every attempt. Each ends `failed` and dead-lettered after its attempts, and the worker keeps
serving other jobs meanwhile (same main process, never restarted by the test)."""

from __future__ import annotations

import time
import uuid

from tests.faults.harness import Figures, check_exactly_once, create_jobs, dead_lettered, job_rows, wait_all_final
from tests.support import processes


def test_timeout_and_poison_jobs_are_dead_lettered_and_the_worker_serves_on(fault_app):
    app, client, env, account = fault_app
    headers = account["headers"]
    beat = processes.start_beat(env=env)
    worker = processes.start_worker(
        concurrency=2, name=f"poison-{uuid.uuid4().hex[:6]}", queues="jobs,maintenance", env=env
    )
    started = time.monotonic()
    try:
        # 30 s of sleep against a 2 s limit, two attempts.
        limits = {"expireInSeconds": 2, "retryLimit": 1, "retryDelay": 0}
        overrun = create_jobs(client, headers, 1, {"steps": 1, "stepSeconds": 30}, limits)
        # SIGKILLs its own pool process on every attempt, two attempts.
        poison = create_jobs(
            client, headers, 1, {"failAttempts": 100, "failWith": "crash"}, {"retryLimit": 1, "retryDelay": 0}
        )
        healthy = []
        # Ordinary jobs keep arriving while the bad ones crash and time out.
        for _ in range(6):
            healthy += create_jobs(client, headers, 3, {"steps": 2, "stepSeconds": 0.1})
            time.sleep(1)
        healthy_rows = wait_all_final(healthy, timeout=60)
        wait_all_final(overrun + poison, timeout=90)
        assert worker.poll() is None, "the worker's main process must survive its poison job"
    finally:
        processes.stop(beat)
        processes.stop(worker)
    log = processes.read_log(worker)

    assert {status for status, _, _ in healthy_rows.values()} == {"completed"}, healthy_rows
    figures = check_exactly_once(healthy, healthy_rows)

    rows = job_rows(overrun + poison)
    (overrun_id,), (poison_id,) = overrun, poison
    assert rows[overrun_id][:2] == ("failed", 2), rows[overrun_id]
    assert rows[poison_id][:2] == ("failed", 2), rows[poison_id]
    detail = client.get(f"/api/jobs/{overrun_id}", headers=headers).get_json()
    assert "time limit" in (detail.get("error") or ""), detail
    assert dead_lettered([overrun_id, poison_id]) == {overrun_id, poison_id}
    assert check_exactly_once([overrun_id, poison_id], rows)["completed"] == 0

    Figures(
        "time limit + poison job",
        {
            "healthyJobs": figures["jobs"],
            "healthyCompleted": figures["completed"],
            "lost": figures["lost"],
            "duplicated": figures["duplicated"],
            "overrunAttempts": rows[overrun_id][1],
            "poisonAttempts": rows[poison_id][1],
            "deadLettered": 2,
            "poolProcessesKilled": log.count("exited with 'signal 9"),
            "seconds": round(time.monotonic() - started, 1),
        },
    ).print()
