"""The pipeline row of `bench/run.py`: bench/pipeline.py's two measurements (full tracking against
raw Celery, same Redis, pool and concurrency) on a private redis-server, so that the jobs' socket
events stay off any shared server's channels."""

from __future__ import annotations

from bench import pipeline, support

CONCURRENCY = 4
JOBS, QUICK_JOBS = 5000, 100  # 5,000 jobs: long enough for a steady rate on both sides


def collect(quick: bool = False) -> list[support.Row]:
    jobs = QUICK_JOBS if quick else JOBS
    with support.service_environment(private_redis=True) as app:
        raw = pipeline.measure_raw(jobs, CONCURRENCY)
        ours = pipeline.measure_ours(app, jobs, CONCURRENCY)
    return [
        support.Row(
            "pipeline.throughput",
            f"{jobs:,} noop jobs created + drained, prefork x{CONCURRENCY} (vs raw Celery no-op)",
            "jobs/s",
            jobs / ours,
            jobs / raw,
            ">= 0.5",
        ),
        support.Row(
            "pipeline.cpu-per-job",
            "client CPU per job, creating process + worker processes (vs raw Celery)",
            "ms",
            pipeline.last_cpu["ours"] * 1000 / jobs,
            pipeline.last_cpu["raw"] * 1000 / jobs,
            "",
        ),
    ]
