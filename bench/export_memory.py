"""Peak memory of a data export: does it stay flat as the number of rows grows?

    python bench/export_memory.py [--small 100000] [--large 2000000] [--format csv|json|both] [--quick]

Builds a throw-away PostgreSQL database with a table of --large generated rows (generate_series:
an id, an md5 text, a numeric and a timestamp), then exports the first --small and then all
--large rows, each in a fresh process, through the export's own code path (`write_export`: the
server-side cursor, the writers, the artifact store). Each process reports its peak resident set
size, and how much of it the export added to the process as it was before (growth); the ratio
peak(large) / peak(small) is ~1.0 when memory does not grow with the rows.
--quick runs 2,000 vs 40,000 rows. The database and the files are removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

SERVER_URL = make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")).set(
    drivername="postgresql"
)
QUERY = "SELECT id, label, amount, created FROM generated WHERE id <= {rows} ORDER BY id"


class BenchContext:
    """What `write_export` needs of a job: ids, a cancellation flag, and progress (counted here
    instead of written to the jobs table, which this benchmark does not have)."""

    def __init__(self):
        self.job_id = uuid.uuid4()
        self.user_id = uuid.uuid4()
        self.cancelled = threading.Event()
        self.progress_calls = 0

    def progress(self, current: int, total: int, message: str | None = None) -> None:
        self.progress_calls += 1

    def check_cancelled(self) -> None:
        pass


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Forget the peak so far (Linux: clear_refs 5), so that the peak measured after the export
    is the export's own, not the import of the application's libraries."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_kib() -> int:
    return _status_kib("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_kib() -> int:
    return _status_kib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB


def child(url: str, rows: int, fmt: str) -> None:
    """One export in this process; prints its figures as one JSON line."""
    from app import create_app
    from app.jobtypes.data_export.handler import write_export

    app = create_app()
    with app.app_context():
        ctx = BenchContext()
        reset_peak_rss()
        before = rss_kib()
        started = time.perf_counter()
        source = make_url(url).set(drivername="postgresql+psycopg2")  # as stored connections are
        result = write_export(ctx, "postgresql", source, QUERY.format(rows=rows), fmt)
        seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": result["rowCount"],
                "sizeBytes": result["sizeBytes"],
                "seconds": round(seconds, 2),
                "baselineKiB": before,
                "peakKiB": peak_rss_kib(),
                "progressCalls": ctx.progress_calls,
            }
        )
    )


def build_source(rows: int) -> tuple[str, str]:
    name = f"bench_export_{secrets.token_hex(4)}"
    admin = psycopg2.connect(SERVER_URL.set(database="postgres").render_as_string(hide_password=False))
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = SERVER_URL.set(database=name).render_as_string(hide_password=False)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE generated AS SELECT g::bigint AS id, md5(g::text) AS label, "
            "(g * 1.25)::numeric(14,2) AS amount, timestamptz '2024-01-01' + g * interval '1 second' AS created "
            "FROM generate_series(1, %s) AS g",
            (rows,),
        )
        cur.execute("ALTER TABLE generated ADD PRIMARY KEY (id)")
    return name, url


def drop_source(name: str) -> None:
    admin = psycopg2.connect(SERVER_URL.set(database="postgres").render_as_string(hide_password=False))
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def run_child(url: str, rows: int, fmt: str, artifact_dir: str) -> dict:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "JWT_SECRET_KEY": "bench-" + secrets.token_hex(16),
        "CONNECTION_SECRET_KEY": "bench-" + secrets.token_hex(16),
        "ARTIFACT_DIR": artifact_dir,
        "LOG_FORMAT": "text",
    }
    args = [sys.executable, __file__, "--child", "--url", url, "--rows", str(rows), "--format", fmt]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"export of {rows} rows failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(small: int, large: int, formats: list[str]) -> dict[str, dict[int, dict]]:
    """Figures of each format at both sizes, printed as they come: {format: {rows: figures}}."""
    print(f"building a table of {large:,} rows ...", flush=True)
    name, url = build_source(large)
    artifact_dir = tempfile.mkdtemp(prefix="bench-export-")
    results: dict[str, dict[int, dict]] = {}
    try:
        header = f"{'format':<7}{'rows':>12}{'MB written':>12}{'seconds':>9}{'rows/s':>11}"
        print(header + f"{'peak RSS MiB':>14}{'growth MiB':>12}")
        for fmt in formats:
            results[fmt] = {}
            for rows in (small, large):
                figure = results[fmt][rows] = run_child(url, rows, fmt, artifact_dir)
                print(
                    f"{fmt:<7}{figure['rows']:>12,}{figure['sizeBytes'] / 1e6:>12.1f}{figure['seconds']:>9.1f}"
                    f"{figure['rows'] / max(figure['seconds'], 1e-9):>11,.0f}{figure['peakKiB'] / 1024:>14.1f}"
                    f"{(figure['peakKiB'] - figure['baselineKiB']) / 1024:>12.1f}",
                    flush=True,
                )
            ratio = results[fmt][large]["peakKiB"] / results[fmt][small]["peakKiB"]
            print(f"{fmt}: peak RSS {large:,} rows / {small:,} rows = {ratio:.2f} (flat is ~1.0)", flush=True)
    finally:
        shutil.rmtree(artifact_dir, ignore_errors=True)
        drop_source(name)
    return results


def sizes(quick: bool) -> tuple[int, int]:
    return (2_000, 40_000) if quick else (100_000, 2_000_000)


def collect(quick: bool = False) -> list:
    """Rows for bench/run.py: peak RSS of the large export against the small one, per format."""
    from bench.support import Row

    small, large = sizes(quick)
    rows = []
    for fmt, figures in measure(small, large, ["csv", "json"]).items():
        big, little = figures[large], figures[small]
        growth = (big["peakKiB"] - big["baselineKiB"]) / 1024, (little["peakKiB"] - little["baselineKiB"]) / 1024
        rows.append(
            Row(
                f"export-memory.{fmt}",
                f"peak RSS of a {fmt.upper()} export, {large:,} rows vs {small:,}",
                "MiB",
                ours=big["peakKiB"] / 1024,
                baseline=little["peakKiB"] / 1024,
                target="<= 1.1",
                note=f"growth over the idle process {growth[0]:.1f} vs {growth[1]:.1f} MiB",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int)
    parser.add_argument("--large", type=int)
    parser.add_argument("--format", choices=["csv", "json", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="2,000 vs 40,000 rows")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.rows, args.format)
        return
    small, large = sizes(args.quick)
    measure(args.small or small, args.large or large, ["csv", "json"] if args.format == "both" else [args.format])


if __name__ == "__main__":
    main()
