"""The in-process hot path of a tracked no-op job against its floor (bench/floor.py), in CPU.

    python bench/hot_path.py [--jobs 2000] [--quick] [--side both|ours|floor]

Ours: what the web process and a worker do for one job, minus HTTP and Celery, in this process and
one thread: `app.jobs.service.create_job` in an app context (as a request has), then
`app.jobs.runner.run_job(job_id, worker)` in an app context of its own with the noop handler (as
workers/jobs.py's task runs it). Whatever the checked-out app code does on that path counts:
its queries, its socket events, its broker hand-off, its background threads (metrics writer,
email outbox, watchdog).

Floor: bench/floor.py's hand-written minimum of the same job, on the same database and Redis.

CPU is `time.process_time()` (this process, every thread; PostgreSQL and Redis are not counted)
per job over N jobs, after a warm-up, the two sides alternating in blocks so that a neighbour's
load on the shared machine falls on both alike. `--side ours` runs only ours (for a profiler:
`py-spy record -o profile.svg -- python bench/hot_path.py --side ours`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import floor, support  # noqa: E402

JOBS, QUICK_JOBS = 2000, 100
WARMUP_JOBS, QUICK_WARMUP_JOBS = 50, 10
BLOCKS = 10
WORKER = "bench-hot-path@localhost"


def ours_one(app, user_id: uuid.UUID) -> tuple[float, float]:
    """One job through the service's code: (CPU seconds of create, of claim + run + complete)."""
    from app.jobs.runner import run_job
    from app.jobs.service import create_job
    from app.platform.logging_setup import clear_log_context

    began = time.process_time()
    with app.app_context():
        job, _ = create_job(user_id, "noop", {})
        job_id = str(job.id)
    created = time.process_time()
    with app.app_context():
        clear_log_context()  # what the Celery task does first (app.platform.celery_app.FlaskTask)
        outcome = run_job(job_id, WORKER)
    finished = time.process_time()
    if outcome != "completed":
        raise RuntimeError(f"run_job answered {outcome!r} for job {job_id}")
    return created - began, finished - created


def measure(app, jobs: int, warmup: int, sides: tuple[str, ...] = ("ours", "floor")) -> dict:
    """CPU seconds per job and phase of each side: {"ours": {"create", "run"}, "floor": {...}}."""
    user_id, _ = floor.bench_user(app)
    the_floor = floor.Floor(support.libpq_url(os.environ["DATABASE_URL"]), os.environ["REDIS_URL"])
    run = {"ours": lambda: ours_one(app, user_id), "floor": lambda: floor.run_one(the_floor, user_id, WORKER)}
    totals = {side: [0.0, 0.0] for side in sides}
    try:
        for side in sides:
            for _ in range(warmup):
                run[side]()
        per_block = max(1, jobs // BLOCKS)
        done = 0
        while done < jobs:
            block = min(per_block, jobs - done)
            for side in sides:
                for _ in range(block):
                    create, rest = run[side]()
                    totals[side][0] += create
                    totals[side][1] += rest
            done += block
    finally:
        the_floor.close()
    return {side: {"create": create / jobs, "run": rest / jobs} for side, (create, rest) in totals.items()}


def report(result: dict, jobs: int) -> None:
    """The per-phase split, for the log."""
    for side, phases in result.items():
        total = phases["create"] + phases["run"]
        print(
            f"{side}: {total * 1e3:.3f} ms CPU per job over {jobs:,} jobs "
            f"(create {phases['create'] * 1e3:.3f} ms, claim + run + complete {phases['run'] * 1e3:.3f} ms)",
            file=sys.stderr,
        )


def to_rows(result: dict, jobs: int) -> list[support.Row]:
    ours, base = result["ours"], result["floor"]
    vs = "(vs hand-written floor, bench/floor.py)"
    return [
        support.Row(
            "hot-path.in-process-vs-floor",
            f"in-process CPU per noop job, create_job + run_job, {jobs:,} jobs, one thread {vs}",
            "ms",
            (ours["create"] + ours["run"]) * 1e3,
            (base["create"] + base["run"]) * 1e3,
            "<= 2",
        ),
        support.Row(
            "hot-path.create-vs-floor",
            f"in-process CPU per noop job, create_job only {vs}",
            "ms",
            ours["create"] * 1e3,
            base["create"] * 1e3,
        ),
        support.Row(
            "hot-path.run-vs-floor",
            f"in-process CPU per noop job, run_job (claim + run + complete) {vs}",
            "ms",
            ours["run"] * 1e3,
            base["run"] * 1e3,
        ),
    ]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_JOBS} jobs")
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--side", choices=("both", "ours", "floor"), default="both")
    args = parser.parse_args(argv)
    args.warmup = QUICK_WARMUP_JOBS if args.quick else WARMUP_JOBS
    if args.quick:
        args.jobs = QUICK_JOBS
    return args


def measure_args(args: argparse.Namespace) -> dict:
    sides = ("ours", "floor") if args.side == "both" else (args.side,)
    # A private redis-server: the jobs' socket events stay off any shared server's channels.
    with support.service_environment(private_redis=True) as app:
        result = measure(app, args.jobs, args.warmup, sides)
    report(result, args.jobs)
    return result


def collect(quick: bool = False) -> list[support.Row]:
    """The rows of `bench/run.py`."""
    args = arguments(["--quick"] if quick else [])
    return to_rows(measure_args(args), args.jobs)


def main() -> None:
    args = arguments()
    result = measure_args(args)
    if args.side == "both":
        support.print_rows(to_rows(result, args.jobs))


if __name__ == "__main__":
    main()
