"""Latency of one job, end to end, against a raw Celery round trip on the same Redis.

    python bench/latency.py [--quick] [--jobs 500] [--concurrency 2]

Ours: the real web process (`python wsgi.py`, eventlet) and a Celery worker; a Socket.IO client
authenticated as the user. Noop jobs are sent one at a time: from `POST /api/jobs` returning to
the job's completion event arriving at that client, timestamped where the frame comes off the
wire. The event timed is the `job_completed` notification that every socket of the user receives
in its user room: it is pushed together with `job:completed` (just before it, in the same
announcement), and unlike a `subscribe:job` made after the POST returns it cannot miss a job that
completes before the subscription does.

Baseline: raw Celery (bench/raw_celery.py) on the same Redis, result backend Redis, with the same
prefork pool and concurrency: `noop.delay()` -> `result.get()` for a no-op task, one at a time.
Both run on a private redis-server (else a leased database of REDIS_URL) and a fresh database.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import support  # noqa: E402

WARMUP_JOBS = 10
EVENT_TIMEOUT = 30


class CompletionWatcher:
    """A Socket.IO client of the user that timestamps each `job_completed` notification."""

    def __init__(self, url: str, token: str) -> None:
        import socketio
        from socketio import packet

        self.arrived: dict[str, float] = {}
        self.changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        trigger = self.sio.eio._trigger_event

        def on_wire(event, *args, **kwargs):
            if event == "message" and args and isinstance(args[0], str) and args[0].startswith('2["notification"'):
                at = time.perf_counter()
                data = packet.Packet(encoded_packet=args[0]).data[1]
                if data.get("type") == "job_completed":
                    with self.changed:
                        self.arrived[data["data"]["jobId"]] = at
                        self.changed.notify_all()
            return trigger(event, *args, **kwargs)

        self.sio.eio._trigger_event = on_wire
        self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)

    def wait_for(self, job_id: str, timeout: float) -> float | None:
        with self.changed:
            self.changed.wait_for(lambda: job_id in self.arrived, timeout)
            return self.arrived.get(job_id)

    def close(self) -> None:
        self.sio.disconnect()


def measure_ours(app, jobs: int, concurrency: int) -> list[float]:
    """Milliseconds from each POST's response to its completion event at the socket."""
    import requests

    from tests.support.api import register
    from tests.support.web import start_web

    user = register(app.test_client())
    web = start_web(name="bench-web")
    support.start_worker(concurrency)
    watcher = CompletionWatcher(web.url, user["token"])
    session = requests.Session()
    latencies = []
    try:
        for n in range(WARMUP_JOBS + jobs):
            response = session.post(
                f"{web.url}/api/jobs", json={"type": "noop", "payload": {}}, headers=user["headers"]
            )
            returned = time.perf_counter()
            response.raise_for_status()
            arrived = watcher.wait_for(response.json()["id"], EVENT_TIMEOUT)
            if arrived is None:
                raise RuntimeError(f"job {response.json()['id']} sent no completion event in {EVENT_TIMEOUT} s")
            if n >= WARMUP_JOBS:
                latencies.append((arrived - returned) * 1000)
    finally:
        watcher.close()
        web.stop()
        support.stop_all()
    return latencies


def measure_raw(jobs: int, concurrency: int) -> list[float]:
    """Milliseconds of each `delay()` -> `result.get()` round trip of a no-op task."""
    from bench.raw_celery import noop

    support.start_worker(concurrency, app="bench.raw_celery", queues="raw")
    latencies = []
    try:
        for n in range(WARMUP_JOBS + jobs):
            started = time.perf_counter()
            noop.delay().get(timeout=EVENT_TIMEOUT)
            if n >= WARMUP_JOBS:
                latencies.append((time.perf_counter() - started) * 1000)
    finally:
        support.stop_all()
    return latencies


def measure(jobs: int, concurrency: int) -> dict:
    with support.service_environment(private_redis=True) as app:
        raw = measure_raw(jobs, concurrency)
        ours = measure_ours(app, jobs, concurrency)
    return {"ours": ours, "raw": raw}


def to_rows(result: dict, jobs: int, concurrency: int) -> list[support.Row]:
    ours, raw, pct = result["ours"], result["raw"], support.percentile
    what = f"noop job POST -> completion at socket, {jobs:,} serial"
    vs = f"(vs Celery delay()->get(), prefork x{concurrency})"
    return [
        support.Row("latency.median", f"{what}, median {vs}", "ms", pct(ours, 0.5), pct(raw, 0.5), "<= 3"),
        support.Row("latency.p99", f"{what}, p99 {vs}", "ms", pct(ours, 0.99), pct(raw, 0.99)),
    ]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 jobs")
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2, help="prefork processes of both workers")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs = 20
    return args


def collect(quick: bool = False) -> list[support.Row]:
    """The rows of `bench/run.py`."""
    args = arguments(["--quick"] if quick else [])
    return to_rows(measure(args.jobs, args.concurrency), args.jobs, args.concurrency)


def main() -> None:
    args = arguments()
    support.print_rows(to_rows(measure(args.jobs, args.concurrency), args.jobs, args.concurrency))


if __name__ == "__main__":
    main()
