"""Batches: what `POST /api/jobs/batch` costs against the same jobs sent one request each, and
the broker hand-off of a batch on one producer against one `send_task` per job from the pool.

    python bench/batches.py [--jobs 1000] [--singles 200] [--quick]

A migrated throw-away database and a leased Redis database (bench/support.py); no worker runs,
so the messages only pile up in that Redis database, which is flushed between runs. Inside the
app, through its test client (no HTTP server: this measures the service, not the transport):
one batch of --jobs noop jobs, against --singles `POST /api/jobs` (per job); and the hand-off of
--jobs committed jobs, as `enqueue_many_after_commit` sends them (one producer for the loop)
against `send_job` per job (a producer taken from the pool each time). Medians of three runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import support  # noqa: E402

RUNS = 3


def median_seconds(run) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(jobs: int, singles: int) -> dict[str, float]:
    """Milliseconds per job of each way."""
    from app.jobs import broker
    from tests.support.api import register

    with support.service_environment() as app:
        client = app.test_client()
        headers = register(client)["headers"]
        noop = {"type": "noop", "payload": {}}

        def one_batch():
            assert client.post("/api/jobs/batch", json={"jobs": [noop] * jobs}, headers=headers).status_code == 202

        def single_requests():
            for _ in range(singles):
                assert client.post("/api/jobs", json=noop, headers=headers).status_code == 202

        entries = [(uuid.uuid4(), "noop", 0, 60) for _ in range(jobs)]

        def one_by_one():
            for entry in entries:
                broker.send_job(*entry)

        def one_producer():
            assert broker._send_all_or_leave_to_sweep(entries) == jobs

        one_batch()  # warm up: connections, caches
        figures = {
            "batch": median_seconds(one_batch) * 1000 / jobs,
            "singles": median_seconds(single_requests) * 1000 / singles,
        }
        with app.app_context():
            broker.send_job(*entries[0])
            figures["hand-off, one producer"] = median_seconds(one_producer) * 1000 / jobs
            figures["hand-off, send_task each"] = median_seconds(one_by_one) * 1000 / jobs
        support.redis_client().flushdb()
    return figures


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="100 jobs, 50 single requests")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.singles = 100, 50
    return args


def collect(quick: bool = False) -> list:
    """The rows of `bench/run.py`: a batch per job against single requests, and its hand-off."""
    from bench.support import Row

    args = arguments(["--quick"] if quick else [])
    figures = measure(args.jobs, args.singles)
    return [
        Row(
            "batches.per-job",
            f"POST /api/jobs/batch of {args.jobs}, per job (vs POST /api/jobs)",
            "ms",
            figures["batch"],
            figures["singles"],
            "<= 0.5",
        ),
        Row(
            "batches.hand-off",
            f"broker hand-off of {args.jobs} jobs on one producer, per job (vs send_task each)",
            "ms",
            figures["hand-off, one producer"],
            figures["hand-off, send_task each"],
            "",  # reported only: both pay one Redis round trip per message (kombu's LPUSH)
        ),
    ]


def main() -> int:
    args = arguments()
    for name, value in measure(args.jobs, args.singles).items():
        print(f"{name:>26}: {value:.3f} ms per job")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
