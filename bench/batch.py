"""One batch of no-op jobs: `POST /api/jobs/batch` against pg-boss's `insert()` and BullMQ's
`addBulk()` of as many jobs, on the same servers.

    python bench/batch.py [--quick] [--jobs 1000] [--repeats 5]

Ours: one real web process (`python wsgi.py`) on a fresh migrated database and a private
redis-server (else a leased database of REDIS_URL), no worker; the client times each request from
sending it to the end of the 202 answer (the batch's rows committed, its announcement and broker
hand-offs as the endpoint does them), one warm-up batch first, then the median of the repeats.
A server without the endpoint (404 or 405) makes the rows say "skipped: no batch endpoint".

Peers: bench/peers/batch.mjs, with pg-boss and BullMQ installed as bench/peers/compare.py does
(rows say "skipped: ..." without node or npm), on a scratch database and a leased Redis database:
one warm-up batch, then the median of the same number of repeats, timed in node.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import support  # noqa: E402
from bench.peers import compare  # noqa: E402

NO_ENDPOINT = "skipped: no batch endpoint"
PEERS = (("pgBoss", f"pg-boss {compare.PACKAGES['pg-boss']} insert()", "<= 1"), ("bullMq", "BullMQ addBulk()", "<= 1"))


class NoEndpoint(Exception):
    """The server answers the batch endpoint with 404 or 405."""


def post_batch(conn: http.client.HTTPConnection, body: bytes, headers: dict, jobs: int) -> float:
    """Milliseconds of one batch request, end to end at the client."""
    started = time.perf_counter()
    conn.request("POST", "/api/jobs/batch", body=body, headers=headers)
    response = conn.getresponse()
    text = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status in (404, 405):
        raise NoEndpoint()
    if response.status != 202:
        raise RuntimeError(f"POST /api/jobs/batch: {response.status} {text[:300]!r}")
    count = json.loads(text).get("count")
    if count != jobs:
        raise RuntimeError(f"POST /api/jobs/batch created {count} jobs, not {jobs}")
    return elapsed


def measure_ours(jobs: int, repeats: int) -> list[float] | None:
    """Milliseconds of each counted batch; None when the server has no batch endpoint."""
    from tests.support.api import register
    from tests.support.web import start_web

    body = json.dumps({"jobs": [{"type": "noop", "payload": {}} for _ in range(jobs)]}).encode()
    with support.service_environment(private_redis=True) as app:
        user = register(app.test_client())
        web = start_web(name="bench-batch")
        parts = urlsplit(web.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        headers = {**user["headers"], "Content-Type": "application/json"}
        try:
            post_batch(conn, body, headers, jobs)  # warm-up
            return [post_batch(conn, body, headers, jobs) for _ in range(repeats)]
        except NoEndpoint:
            return None
        finally:
            conn.close()
            web.stop()


def measure_peers(jobs: int, repeats: int) -> dict | str:
    """{"pgBoss": {"medianMs", "times"}, "bullMq": {...}}, or why the peers could not run."""
    try:
        script = compare.install("batch.mjs")
    except compare.Skipped as why:
        return f"skipped: {why}"
    return compare.run_script(script, {"PEERS_JOBS": str(jobs), "PEERS_REPEATS": str(repeats)})


def to_rows(ours: list[float] | None, peers: dict | str, jobs: int, repeats: int) -> list[support.Row]:
    rows = []
    ours_ms = statistics.median(ours) if ours else None
    for key, label, target in PEERS:
        name = f"batch.vs-{key.lower()}"
        measure = f"POST /api/jobs/batch of {jobs:,} noop jobs, median of {repeats} (vs {label} of {jobs:,})"
        baseline = peers[key]["medianMs"] if isinstance(peers, dict) else None
        note = NO_ENDPOINT if ours is None else (peers if isinstance(peers, str) else "")
        if ours_ms is None or baseline is None:
            rows.append(support.Row(name, measure, "ms", ours_ms, baseline, target, note))
        else:
            rows.append(support.Row(name, measure, "ms", ours_ms, baseline, target))
    return rows


def measure(args: argparse.Namespace) -> list[support.Row]:
    ours = measure_ours(args.jobs, args.repeats)
    peers = measure_peers(args.jobs, args.repeats)
    print(f"ours (ms): {ours}; peers: {peers}", file=sys.stderr)
    return to_rows(ours, peers, args.jobs, args.repeats)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="batches of 100, 3 repeats")
    parser.add_argument("--jobs", type=int, default=1000, help="jobs per batch (the contract allows up to 1,000)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.repeats = 100, 3
    return args


def collect(quick: bool = False) -> list[support.Row]:
    """The rows of `bench/run.py`."""
    return measure(arguments(["--quick"] if quick else []))


def main() -> None:
    support.print_rows(measure(arguments()))


if __name__ == "__main__":
    main()
