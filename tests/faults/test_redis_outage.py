"""Fault 2: Redis stopped for ~10 s under load and started again (empty: no persistence, so the
messages it held are gone). The API answers 503 for what needs Redis and never 500; job creation
still answers 202 because the job is committed to PostgreSQL; every job then runs exactly once,
and the same worker and beat processes resume without a restart."""

from __future__ import annotations

import time
import uuid
from collections import Counter

from tests.faults.harness import Figures, check_exactly_once, create_jobs, job_rows, wait_all_final
from tests.support import processes

OUTAGE_SECONDS = 10
PAYLOAD = {"steps": 4, "stepSeconds": 0.25}


def test_redis_outage_is_503_and_every_job_runs_once_after(fault_app, private_redis):
    app, client, env, account = fault_app
    headers = account["headers"]
    beat = processes.start_beat(env=env)
    worker = processes.start_worker(
        concurrency=2, name=f"redis-out-{uuid.uuid4().hex[:6]}", queues="jobs,maintenance", env=env
    )
    statuses: Counter = Counter()
    health_during: list[tuple[int, str | None]] = []
    created_during: list[str] = []
    started = time.monotonic()
    try:
        before = create_jobs(client, headers, 20, PAYLOAD)
        deadline = time.monotonic() + 20
        while not any(status == "active" for status, _, _ in job_rows(before).values()):
            assert time.monotonic() < deadline, "no job started before the outage"
            time.sleep(0.1)

        private_redis.stop()
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < outage_ends:
            health = client.get("/api/health/jobs")
            health_during.append((health.status_code, health.headers.get("Retry-After")))
            created = client.post("/api/jobs", json={"type": "test-probe", "payload": PAYLOAD}, headers=headers)
            listed = client.get("/api/jobs", headers=headers)
            statuses.update([health.status_code, created.status_code, listed.status_code])
            if created.status_code == 202:
                created_during.append(created.get_json()["id"])
            time.sleep(0.5)
        private_redis.start()

        after = create_jobs(client, headers, 5, PAYLOAD)
        job_ids = before + created_during + after
        rows = wait_all_final(job_ids, timeout=120)
        healthy_again = _wait_healthy(client, timeout=30)
        assert worker.poll() is None and beat.poll() is None, "worker and beat must ride out the outage"
    finally:
        processes.stop(beat)
        processes.stop(worker)

    figures = check_exactly_once(job_ids, rows)
    figures.update(
        createdDuringOutage=len(created_during),
        requestsDuringOutage=sum(statuses.values()),
        http5xx=sum(count for status, count in statuses.items() if status >= 500),
        http500=sum(count for status, count in statuses.items() if status >= 500 and status != 503),
        statusCounts=dict(sorted(statuses.items())),
        healthRetryAfter=all(retry for _, retry in health_during),
        secondsToHealthy=healthy_again,
        seconds=round(time.monotonic() - started, 1),
    )
    Figures(f"Redis stopped {OUTAGE_SECONDS}s under load", figures).print()

    assert figures["http500"] == 0, statuses
    assert {status for status, _ in health_during} == {503}, health_during
    assert created_during and len(created_during) == statuses[202], "job creation must keep answering 202"
    assert figures["completed"] == len(job_ids), rows


def _wait_healthy(client, timeout: float) -> float:
    """Seconds until /api/health/jobs says healthy again (the worker reports in through Redis)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if client.get("/api/health/jobs").get_json()["status"] == "healthy":
            return round(time.monotonic() - started, 1)
        time.sleep(0.5)
    raise AssertionError(f"/api/health/jobs not healthy {timeout}s after Redis came back")
