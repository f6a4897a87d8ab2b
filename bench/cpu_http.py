"""CPU and throughput of tracked no-op jobs through the service's own processes, over HTTP, against
raw Celery no-op tasks on the same Redis with the same pool.

    python bench/cpu_http.py [--quick] [--jobs 1000] [--clients 8] [--concurrency 4]

Ours: the Procfile's web process (`python wsgi.py`) and its worker (`celery -A workers worker`,
prefork, on the Procfile's queues); N client threads create noop jobs with `POST /api/jobs` until
all are sent; the run ends when PostgreSQL says every job completed. No beat process runs (nothing
of a noop job's path needs it). CPU: the web and worker process trees; the client threads are the
load generator, not the service, and are left out.

Raw: bench/raw_celery.py's worker (same pool and concurrency); the same number of threads call
`noop.delay()`; the run ends when every task has counted itself. CPU: the worker tree plus the
senders' own CPU, since `delay()` is what creating a task costs there.

Both: a warm-up first (not counted), one private redis-server (else a leased database of
REDIS_URL), a fresh migrated database. Throughput is jobs created and drained per second, from the
first request to the last completion.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import support  # noqa: E402

PROCFILE_QUEUES = "jobs,email,maintenance,webhooks"
WARMUP_JOBS, QUICK_WARMUP_JOBS = 20, 8
DRAIN_TIMEOUT = 180


def split(total: int, parts: int) -> list[int]:
    """`total` as `parts` near-equal shares."""
    return [total // parts + (1 if n < total % parts else 0) for n in range(parts)]


def post_jobs(url: str, headers: dict, jobs: int, clients: int) -> None:
    """`jobs` noop jobs created by `clients` threads, each on its own keep-alive connection."""
    parts = urlsplit(url)
    body = json.dumps({"type": "noop", "payload": {}}).encode()
    headers = {**headers, "Content-Type": "application/json"}
    failures: list[str] = []

    def client(share: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            for _ in range(share):
                conn.request("POST", "/api/jobs", body=body, headers=headers)
                response = conn.getresponse()
                text = response.read()
                if response.status != 202:
                    failures.append(f"{response.status} {text[:200]!r}")
                    return
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(share,)) for share in split(jobs, clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"POST /api/jobs failed: {failures[0]}")


def wait_until(done, target: int, what: str) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while done() < target:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: {done()} of {target} within {DRAIN_TIMEOUT} s")
        time.sleep(0.02)


def measure_ours(app, jobs: int, clients: int, concurrency: int, warmup: int) -> dict:
    import psycopg2

    from tests.support.api import register
    from tests.support.web import start_web

    user = register(app.test_client())
    web = start_web(name="bench-cpu-web")
    worker = support.start_worker(concurrency, queues=PROCFILE_QUEUES)
    conn = psycopg2.connect(support.libpq_url(os.environ["DATABASE_URL"]))
    conn.autocommit = True

    def completed() -> int:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM jobs WHERE status = 'completed'")
            return cursor.fetchone()[0]

    try:
        post_jobs(web.url, user["headers"], warmup, clients)
        wait_until(completed, warmup, "warm-up jobs completed")
        web_before, worker_before = support.tree_cpu(web.proc.pid), support.tree_cpu(worker.pid)
        consumer_before = support.process_cpu(worker.pid)
        started = time.perf_counter()
        post_jobs(web.url, user["headers"], jobs, clients)
        wait_until(completed, warmup + jobs, "jobs completed")
        elapsed = time.perf_counter() - started
        web_cpu = support.tree_cpu(web.proc.pid) - web_before
        worker_cpu = support.tree_cpu(worker.pid) - worker_before
        consumer_cpu = support.process_cpu(worker.pid) - consumer_before
    finally:
        conn.close()
        web.stop()
        support.stop_all()
    return {
        "seconds": elapsed,
        "cpu": web_cpu + worker_cpu,
        "web_cpu": web_cpu,
        "worker_cpu": worker_cpu,
        "consumer_cpu": consumer_cpu,
    }


def send_raw(tasks: int, senders: int) -> float:
    """`tasks` raw no-op tasks sent with `delay()` from `senders` threads; their CPU seconds."""
    from bench.raw_celery import noop

    cpu = []

    def sender(share: int) -> None:
        began = time.thread_time()
        for _ in range(share):
            noop.delay()
        cpu.append(time.thread_time() - began)

    threads = [threading.Thread(target=sender, args=(share,)) for share in split(tasks, senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(cpu)


def measure_raw(jobs: int, clients: int, concurrency: int, warmup: int) -> dict:
    client = support.redis_client()
    client.delete("raw:done")
    worker = support.start_worker(concurrency, app="bench.raw_celery", queues="raw")

    def counted() -> int:
        return int(client.get("raw:done") or 0)

    try:
        send_raw(warmup, clients)
        wait_until(counted, warmup, "warm-up tasks counted")
        worker_before, consumer_before = support.tree_cpu(worker.pid), support.process_cpu(worker.pid)
        started = time.perf_counter()
        sender_cpu = send_raw(jobs, clients)
        wait_until(counted, warmup + jobs, "tasks counted")
        elapsed = time.perf_counter() - started
        cpu = support.tree_cpu(worker.pid) - worker_before + sender_cpu
        consumer_cpu = support.process_cpu(worker.pid) - consumer_before
    finally:
        support.stop_all()
    return {"seconds": elapsed, "cpu": cpu, "sender_cpu": sender_cpu, "consumer_cpu": consumer_cpu}


def measure(jobs: int, clients: int, concurrency: int, warmup: int = WARMUP_JOBS) -> dict:
    with support.service_environment(private_redis=True) as app:
        raw = measure_raw(jobs, clients, concurrency, warmup)
        ours = measure_ours(app, jobs, clients, concurrency, warmup)
    print(
        f"ours: {ours['seconds']:.2f} s, {ours['cpu']:.2f} CPU s (web {ours['web_cpu']:.2f} + worker "
        f"{ours['worker_cpu']:.2f}, of which its consumer process {ours['consumer_cpu']:.2f}); "
        f"raw: {raw['seconds']:.2f} s, {raw['cpu']:.2f} CPU s (worker + senders {raw['sender_cpu']:.2f}; "
        f"the worker's consumer process {raw['consumer_cpu']:.2f})",
        file=sys.stderr,
    )
    return {"ours": ours, "raw": raw}


def to_rows(result: dict, jobs: int, clients: int, concurrency: int) -> list[support.Row]:
    ours, raw = result["ours"], result["raw"]
    how = f"{jobs:,} noop jobs, {clients} HTTP clients, prefork x{concurrency}"
    return [
        support.Row(
            "cpu-http.cpu-per-job",
            f"CPU per job, web + worker trees, {how} "
            f"(vs raw Celery worker + delay() senders; our HTTP clients not counted)",
            "ms",
            ours["cpu"] * 1000 / jobs,
            raw["cpu"] * 1000 / jobs,
            "<= 2.5",
        ),
        support.Row(
            "cpu-http.throughput",
            f"jobs created over HTTP + drained, {how} (vs raw Celery delay() from {clients} threads)",
            "jobs/s",
            jobs / ours["seconds"],
            jobs / raw["seconds"],
            ">= 0.5",
        ),
    ]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="50 jobs")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4, help="prefork processes of both workers")
    args = parser.parse_args(argv)
    args.warmup = QUICK_WARMUP_JOBS if args.quick else WARMUP_JOBS
    if args.quick:
        args.jobs = 50
    return args


def collect(quick: bool = False) -> list[support.Row]:
    """The rows of `bench/run.py`."""
    args = arguments(["--quick"] if quick else [])
    return to_rows(
        measure(args.jobs, args.clients, args.concurrency, args.warmup), args.jobs, args.clients, args.concurrency
    )


def main() -> None:
    args = arguments()
    rows = to_rows(
        measure(args.jobs, args.clients, args.concurrency, args.warmup), args.jobs, args.clients, args.concurrency
    )
    support.print_rows(rows)


if __name__ == "__main__":
    main()
