"""The jobs list of a user with many jobs, over HTTP, against the cheapest request of the same
server, and a deep page against the first.

    python bench/jobs_list.py [--quick] [--jobs 200000] [--requests 60]

One real web process (`python wsgi.py`) on a fresh migrated database and a private redis-server
(else a leased database of REDIS_URL). One user gets N jobs straight into PostgreSQL in one
`INSERT ... SELECT FROM generate_series` (types of the registry, mostly completed with some failed,
cancelled, queued and active ones, created over 90 days, with the timestamps their status
implies), then VACUUM ANALYZE. One client on a keep-alive connection, with the user's token, sends
`GET /api/health`, `GET /api/jobs?page=1&limit=20` and the middle page in turn (so that the
machine's noise falls on all three alike), after a warm-up; medians of the client-side times.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import support  # noqa: E402

LIMIT = 20
WARMUP_REQUESTS = 5

# Shares of each status (cumulative bounds on random()), and the job types spread over the rows.
_INSERT = """
INSERT INTO jobs (id, user_id, type, status, payload, priority, attempts, max_attempts, retry_delay,
                  retry_backoff, expire_in_seconds, created_at, started_at, completed_at, enqueued_at, result, error,
                  error_kind)
SELECT gen_random_uuid(), %(user)s, t.type, s.status, '{}'::jsonb, 0,
       CASE WHEN s.status = 'queued' THEN 0 ELSE 1 END, 3, 60, true, 3600,
       c.created_at,
       CASE WHEN s.status IN ('active', 'completed', 'failed') THEN c.created_at + interval '1 second' END,
       CASE WHEN s.status IN ('completed', 'failed', 'cancelled') THEN c.created_at + interval '5 seconds' END,
       c.created_at,
       CASE WHEN s.status = 'completed' THEN '{"ok": true}'::jsonb END,
       CASE WHEN s.status = 'failed' THEN 'the connection was refused' END,
       CASE WHEN s.status = 'failed' THEN 'retryable' END
FROM generate_series(1, %(jobs)s) AS n
CROSS JOIN LATERAL (SELECT random() AS r, now() - random() * interval '90 days' AS created_at) AS c
CROSS JOIN LATERAL (
    SELECT CASE WHEN c.r < 0.80 THEN 'completed' WHEN c.r < 0.88 THEN 'failed' WHEN c.r < 0.93 THEN 'cancelled'
                WHEN c.r < 0.97 THEN 'queued' ELSE 'active' END AS status
) AS s
CROSS JOIN LATERAL (
    SELECT (ARRAY['data-export', 'schema-rebuild', 'noop', 'bulk-import', 'analytics-report',
                  'backup-connection'])[1 + n %% 6] AS type
) AS t
"""


def insert_jobs(user_id: str, jobs: int) -> float:
    """N jobs of `user_id` in one statement, then VACUUM ANALYZE (what autovacuum does after a
    bulk insert: statistics, and the visibility map index-only scans rely on); returns the
    seconds it took."""
    import psycopg2

    started = time.perf_counter()
    conn = psycopg2.connect(support.libpq_url(os.environ["DATABASE_URL"]))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(_INSERT, {"user": user_id, "jobs": jobs})
            cursor.execute("VACUUM ANALYZE jobs")
    finally:
        conn.close()
    return time.perf_counter() - started


def timed_get(conn: http.client.HTTPConnection, path: str, headers: dict) -> float:
    """Milliseconds of one GET, from sending it to the end of its body; any non-200 raises."""
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
    return elapsed


def measure(jobs: int, requests: int) -> dict:
    from tests.support.api import register
    from tests.support.web import start_web

    pages = -(-jobs // LIMIT)
    middle = max(1, pages // 2)
    paths = {
        "health": "/api/health",
        "first": f"/api/jobs?page=1&limit={LIMIT}",
        "middle": f"/api/jobs?page={middle}&limit={LIMIT}",
    }
    with support.service_environment(private_redis=True) as app:
        user = register(app.test_client())
        seconds = insert_jobs(user["id"], jobs)
        print(f"{jobs:,} jobs inserted in {seconds:.1f} s", file=sys.stderr)
        web = start_web(name="bench-jobs-list")
        parts = urlsplit(web.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        times: dict[str, list[float]] = {key: [] for key in paths}
        try:
            for n in range(WARMUP_REQUESTS + requests):
                for key, path in paths.items():
                    elapsed = timed_get(conn, path, {} if key == "health" else user["headers"])
                    if n >= WARMUP_REQUESTS:
                        times[key].append(elapsed)
        finally:
            conn.close()
            web.stop()
    for key, values in times.items():
        print(f"{paths[key]}: median {statistics.median(values):.1f} ms, max {max(values):.1f} ms", file=sys.stderr)
    return {"middle_page": middle, **{key: statistics.median(values) for key, values in times.items()}}


def to_rows(result: dict, jobs: int, requests: int) -> list[support.Row]:
    of = f"a user with {jobs:,} jobs, median of {requests}"
    return [
        support.Row(
            "jobs-list.page-1",
            f"GET /api/jobs?page=1&limit={LIMIT}, {of} (vs GET /api/health)",
            "ms",
            result["first"],
            result["health"],
            "<= 5",
        ),
        support.Row(
            "jobs-list.deep-page",
            f"GET /api/jobs?page={result['middle_page']:,}&limit={LIMIT}, {of} (vs page 1)",
            "ms",
            result["middle"],
            result["first"],
            "<= 3",
        ),
    ]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 jobs, 30 requests of each")
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=60, help="requests of each kind, after the warm-up")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.requests = 5000, 30
    return args


def collect(quick: bool = False) -> list[support.Row]:
    """The rows of `bench/run.py`."""
    args = arguments(["--quick"] if quick else [])
    return to_rows(measure(args.jobs, args.requests), args.jobs, args.requests)


def main() -> None:
    args = arguments()
    support.print_rows(to_rows(measure(args.jobs, args.requests), args.jobs, args.requests))


if __name__ == "__main__":
    main()
