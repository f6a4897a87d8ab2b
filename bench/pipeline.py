"""Pipeline throughput: N no-op jobs created through the service layer and drained by the worker
with full tracking (Postgres transitions, notifications per default preferences, socket emits),
against raw Celery running a no-op task on the same Redis with the same pool and concurrency.

    python bench/pipeline.py [--jobs 5000] [--concurrency 4] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import support  # noqa: E402

# CPU seconds (creating process + worker process tree, PostgreSQL and Redis excluded) of the last
# measure_ours / measure_raw: steadier than throughput on a shared machine, where a neighbour's load
# moves the wall clock of the short raw run far more than the CPU either side spends per job.
last_cpu: dict[str, float] = {}


def measure_ours(app, jobs: int, concurrency: int) -> float:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.jobs import service as job_service
    from app.models import Job
    from app.users.service import create_user

    with app.app_context():
        user = create_user(f"bench-{time.time_ns()}@example.com", "benchmark-password")
        worker = support.start_worker(concurrency)
        cpu_before = time.process_time() + support.tree_cpu(worker.pid)
        started = time.perf_counter()
        for _ in range(jobs):
            job_service.create_job(user.id, "noop", {})
        while True:
            db.session.rollback()
            done = db.session.scalar(select(func.count()).select_from(Job).where(Job.status == "completed"))
            if done >= jobs:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        last_cpu["ours"] = time.process_time() + support.tree_cpu(worker.pid) - cpu_before
    support.stop_all()
    return elapsed


def measure_raw(jobs: int, concurrency: int) -> float:
    from bench.raw_celery import noop

    client = support.redis_client()
    client.delete("raw:done")
    worker = support.start_worker(concurrency, app="bench.raw_celery", queues="raw")
    cpu_before = time.process_time() + support.tree_cpu(worker.pid)
    started = time.perf_counter()
    for _ in range(jobs):
        noop.delay()
    while int(client.get("raw:done") or 0) < jobs:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    last_cpu["raw"] = time.process_time() + support.tree_cpu(worker.pid) - cpu_before
    support.stop_all()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="300 jobs: a smoke run")
    args = parser.parse_args()
    jobs = 300 if args.quick else args.jobs
    # A private redis-server: the jobs' socket events must not reach other servers on a shared Redis.
    with support.service_environment(private_redis=True) as app:
        raw = measure_raw(jobs, args.concurrency)
        ours = measure_ours(app, jobs, args.concurrency)
    rows = [
        ("ours: create + drain, full tracking", f"{jobs / ours:.0f} jobs/s", f"{ours:.2f} s"),
        ("raw Celery: delay + drain no-op", f"{jobs / raw:.0f} jobs/s", f"{raw:.2f} s"),
    ]
    support.print_table(rows, ("case", "throughput", "time"))
    print(f"\nratio (ours / raw throughput): {raw / ours:.2f}   [target >= 0.5]")
    ours_ms, raw_ms = (last_cpu[side] * 1000 / jobs for side in ("ours", "raw"))
    print(f"client CPU per job (creator + worker processes): ours {ours_ms:.1f} ms, raw {raw_ms:.1f} ms")


if __name__ == "__main__":
    main()
