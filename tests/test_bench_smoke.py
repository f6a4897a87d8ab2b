"""The benchmarks still run: `bench/run.py --quick` produces a figure for ours and for the
baseline in every row (whether the targets are met is the full run's business, not a test's)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pymysql
import pytest

from bench.run import BENCHMARKS, available

ROOT = Path(__file__).resolve().parents[1]


def _mariadb_reachable() -> bool:
    try:
        pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", connect_timeout=3).close()
        return True
    except pymysql.MySQLError:
        return False


def _has_batch_endpoint(app) -> bool:
    return any(rule.rule == "/api/jobs/batch" for rule in app.url_map.iter_rules())


def _allowed_skips(app) -> set[str]:
    """Rows that may say "skipped: ..." on this machine, because what they compare with is absent
    (or, for the batch rows, because this version of the service has no batch endpoint)."""
    allowed = set()
    if not _mariadb_reachable():
        allowed.add("introspection.mysql")
    if shutil.which("pg_dump") is None:
        allowed.add("introspection.postgresql")
    if shutil.which("node") is None or shutil.which("npm") is None:
        allowed |= {"peers.enqueue-pgboss", "peers.drain-pgboss", "peers.enqueue-bullmq", "peers.drain-bullmq"}
        allowed |= {"batch.vs-pgboss", "batch.vs-bullmq"}
    if not _has_batch_endpoint(app):
        allowed |= {"batch.vs-pgboss", "batch.vs-bullmq"}
    return allowed


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_benchmark_row_produces_numbers(tmp_path, app):
    sys.path.insert(0, str(ROOT))

    saved = tmp_path / "rows.json"
    # The session's environment: its DATABASE_URL / REDIS_URL name the servers the benchmarks use
    # for their own throw-away databases and leased Redis databases.
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--json", str(saved)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    report = json.loads(saved.read_text())
    rows = {row["name"]: row for row in report["rows"]}

    expected = {b.name for b in BENCHMARKS if available(b)}
    assert {name.split(".")[0] for name in rows} == expected, done.stderr[-4000:]
    assert "peers.drain-bullmq" in rows and "latency.median" in rows and "delivery.rate" in rows
    assert {"hot-path.in-process-vs-floor", "cpu-http.cpu-per-job", "latency.median-flower"} <= set(rows)
    assert {"jobs-list.page-1", "jobs-list.deep-page", "batch.vs-pgboss", "batch.vs-bullmq"} <= set(rows)

    allowed = _allowed_skips(app)
    for name, row in rows.items():
        if name in allowed and row["note"].startswith("skipped:"):
            continue
        assert row["ours"] is not None and row["baseline"] is not None, f"{name}: {row['note']}"
        assert math.isfinite(row["ours"]) and row["ours"] > 0, f"{name}: ours = {row['ours']}"
        assert math.isfinite(row["baseline"]) and row["baseline"] > 0, f"{name}: baseline = {row['baseline']}"
        assert row["ratio"] == pytest.approx(row["ours"] / row["baseline"])
        assert row["met"] is None if not row["target"] else isinstance(row["met"], bool), name

    # The table a person reads: one line per row, with the header's columns.
    assert "ratio" in done.stdout and "met?" in done.stdout
    assert all(row["measure"] in done.stdout for row in rows.values())
