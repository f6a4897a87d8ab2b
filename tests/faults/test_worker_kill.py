"""Fault 1: workers SIGKILLed at random moments while many jobs run. Every job still reaches a
final state, and none completes twice in effect (the test-probe's completion record commits
atomically with the job's completion, so two `completed` records would be two effects)."""

from __future__ import annotations

import os
import random
import signal
import time
import uuid

import pytest

from tests.faults.harness import Figures, check_exactly_once, create_jobs, unfinished, wait_all_final
from tests.support import processes

WORKERS = 2
CONCURRENCY = 3
PAYLOAD = {"steps": 4, "stepSeconds": 0.2}
# Enough attempts that random kills do not exhaust them: the point is "never lost, never twice".
OPTIONS = {"retryLimit": 10, "retryDelay": 0}


def _start_worker(env: dict, index: int):
    return processes.start_worker(
        concurrency=CONCURRENCY, name=f"kill{index}-{uuid.uuid4().hex[:6]}", queues="jobs,maintenance", env=env
    )


def _run_with_kills(fault_app, jobs: int, kills: int, timeout: float) -> dict:
    app, client, env, account = fault_app
    rng = random.Random(int(os.environ.get("FAULTS_SEED", "0")) or None)
    beat = processes.start_beat(env=env)
    workers = [_start_worker(env, index) for index in range(WORKERS)]
    started = time.monotonic()
    killed = 0
    try:
        job_ids = create_jobs(client, account["headers"], jobs, PAYLOAD, OPTIONS)
        next_kill = time.monotonic() + rng.uniform(0.5, 2.5)

        def maybe_kill():
            nonlocal killed, next_kill
            if killed >= kills or time.monotonic() < next_kill:
                return
            index = rng.randrange(len(workers))
            victim = workers[index]
            os.killpg(victim.pid, signal.SIGKILL)  # the main process and every pool child at once
            victim.wait(10)
            killed += 1
            workers[index] = _start_worker(env, index + 10 * killed)
            next_kill = time.monotonic() + rng.uniform(0.5, 3.0)

        # Kill while there is still work in flight, then let recovery finish.
        while killed < kills and unfinished(job_ids):
            maybe_kill()
            time.sleep(0.1)
        rows = wait_all_final(job_ids, timeout=timeout)
    finally:
        for proc in [beat, *workers]:
            processes.stop(proc)
    figures = check_exactly_once(job_ids, rows)
    figures.update(
        kills=killed,
        retried=sum(1 for status, attempts, _ in rows.values() if attempts > 1),
        seconds=round(time.monotonic() - started, 1),
    )
    return figures


def test_sigkill_at_random_moments_loses_nothing_and_completes_nothing_twice(fault_app):
    figures = _run_with_kills(fault_app, jobs=100, kills=4, timeout=120)
    Figures("SIGKILL x4, 100 jobs", figures).print()
    assert figures["kills"] >= 1, "the jobs finished before any kill: the test proved nothing"
    assert figures["completed"] == figures["jobs"], figures


@pytest.mark.fault_full
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_sigkill_many_times_under_500_jobs(fault_app):
    figures = _run_with_kills(fault_app, jobs=500, kills=15, timeout=400)
    Figures("SIGKILL x15, 500 jobs", figures).print()
    assert figures["completed"] == figures["jobs"], figures
