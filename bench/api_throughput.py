"""API throughput: `POST /api/jobs` (noop jobs) against `GET /api/health` on the same server.

    python bench/api_throughput.py [--quick] [--clients 8] [--seconds 10]

One real web process (`python wsgi.py`, eventlet) on a fresh migrated database and a private
redis-server (else a leased database of REDIS_URL). N client threads, each on its own keep-alive
connection, send requests back to back for the given time: first `GET /api/health` (the
baseline: the same server, framework and transport doing next to nothing), then `POST /api/jobs`
with a noop job as one user whose rate limit is off (JOB_RATE_LIMIT_PER_MINUTE=0). No worker runs:
this measures what the API does per job (validation, the job row, its notification and audit
entry, the commit, the hand-off to the broker, the socket event), not how fast jobs drain
(bench/pipeline.py). Only 2xx answers count; anything else is reported as an error.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import support  # noqa: E402

WARMUP_SECONDS = 1.0


def hammer(url: str, method: str, path: str, body: dict | None, headers: dict, clients: int, seconds: float):
    """`clients` threads sending back to back for `seconds`; returns (2xx per second, errors)."""
    parts = urlsplit(url)
    payload = json.dumps(body).encode() if body is not None else None
    headers = {**headers, **({"Content-Type": "application/json"} if payload else {})}
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        ok = errors = 0
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < stop_at:
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                response.read()
                if 200 <= response.status < 300:
                    ok += 1
                else:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.close()
        with lock:
            counts["ok"] += ok
            counts["errors"] += errors

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts["ok"] / (time.monotonic() - started), counts["errors"]


def measure(clients: int, seconds: float) -> dict:
    from tests.support.api import register
    from tests.support.web import start_web

    with support.service_environment(private_redis=True) as app:
        user = register(app.test_client())
        web = start_web(name="bench-web")
        try:
            job = {"type": "noop", "payload": {}}
            auth = user["headers"]
            hammer(web.url, "GET", "/api/health", None, {}, clients, WARMUP_SECONDS)
            hammer(web.url, "POST", "/api/jobs", job, auth, clients, WARMUP_SECONDS)
            health, health_errors = hammer(web.url, "GET", "/api/health", None, {}, clients, seconds)
            jobs, job_errors = hammer(web.url, "POST", "/api/jobs", job, auth, clients, seconds)
        finally:
            web.stop()
    return {"health": health, "health_errors": health_errors, "jobs": jobs, "job_errors": job_errors}


def to_rows(result: dict, clients: int, seconds: float) -> list[support.Row]:
    errors = result["job_errors"] + result["health_errors"]
    error_note = f"; non-2xx: POST {result['job_errors']}, GET {result['health_errors']}" if errors else ""
    return [
        support.Row(
            "api.post-jobs",
            f"POST /api/jobs noop, {clients} clients x {seconds:g} s, no worker (vs GET /api/health{error_note})",
            "req/s",
            result["jobs"],
            result["health"],
            # A job is a validated request, three inserts, a commit, a broker hand-off and a socket
            # event; health is a constant answer on the same server and framework.
            ">= 0.35",
        )
    ]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s per side")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 2
    return args


def collect(quick: bool = False) -> list[support.Row]:
    """The rows of `bench/run.py`."""
    args = arguments(["--quick"] if quick else [])
    return to_rows(measure(args.clients, args.seconds), args.clients, args.seconds)


def main() -> None:
    args = arguments()
    support.print_rows(to_rows(measure(args.clients, args.seconds), args.clients, args.seconds))


if __name__ == "__main__":
    main()
