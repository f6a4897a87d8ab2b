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

Each side is measured twice: as above, and with Flower watching (the Procfile's `celery flower`
command, for the side's own Celery app), which switches task events on in the workers: each task
then publishes its received/started/succeeded events. The Flower rows start measuring once the
worker has logged that Flower enabled its events.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import support  # noqa: E402

WARMUP_JOBS = 10
EVENT_TIMEOUT = 30
EVENTS_ENABLED = "enabled by remote"  # the worker's log line when Flower switches its events on


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


def start_flower(celery_app: str, worker) -> None:
    """The Procfile's Flower for `celery_app` (on a free port, behind basic auth), returning once
    `worker` has logged that Flower switched its task events on."""
    from tests.support.web import free_port

    support.start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            celery_app,
            "flower",
            f"--port={free_port()}",
            "--address=127.0.0.1",
            f"--basic-auth=bench:{secrets.token_hex(8)}",
        ],
        ready="Visit me at",
    )
    deadline = time.monotonic() + 30
    while EVENTS_ENABLED not in Path(worker.log_path).read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError("Flower did not switch the worker's task events on within 30 s")
        time.sleep(0.1)


def measure_ours(app, jobs: int, concurrency: int, flower: bool = False) -> list[float]:
    """Milliseconds from each POST's response to its completion event at the socket."""
    import requests

    from tests.support.api import register
    from tests.support.web import start_web

    user = register(app.test_client())
    web = start_web(name="bench-web")
    worker = support.start_worker(concurrency)
    if flower:
        start_flower("workers", worker)
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


def measure_raw(jobs: int, concurrency: int, flower: bool = False) -> list[float]:
    """Milliseconds of each `delay()` -> `result.get()` round trip of a no-op task."""
    from bench.raw_celery import noop

    worker = support.start_worker(concurrency, app="bench.raw_celery", queues="raw")
    if flower:
        start_flower("bench.raw_celery", worker)
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
        raw_flower = measure_raw(jobs, concurrency, flower=True)
        ours_flower = measure_ours(app, jobs, concurrency, flower=True)
    return {"ours": ours, "raw": raw, "ours_flower": ours_flower, "raw_flower": raw_flower}


def to_rows(result: dict, jobs: int, concurrency: int) -> list[support.Row]:
    ours, raw, pct = result["ours"], result["raw"], support.percentile
    what = f"noop job POST -> completion at socket, {jobs:,} serial"
    vs = f"(vs Celery delay()->get(), prefork x{concurrency})"
    ours_flower, raw_flower = result["ours_flower"], result["raw_flower"]
    flower = f"Flower watching both, {vs[1:-1]}"
    return [
        support.Row("latency.median", f"{what}, median {vs}", "ms", pct(ours, 0.5), pct(raw, 0.5), "<= 3"),
        support.Row("latency.p99", f"{what}, p99 {vs}", "ms", pct(ours, 0.99), pct(raw, 0.99)),
        support.Row(
            "latency.median-flower",
            f"{what}, median ({flower})",
            "ms",
            pct(ours_flower, 0.5),
            pct(raw_flower, 0.5),
            "<= 2.5",
        ),
        support.Row(
            "latency.p99-flower", f"{what}, p99 ({flower})", "ms", pct(ours_flower, 0.99), pct(raw_flower, 0.99)
        ),
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
