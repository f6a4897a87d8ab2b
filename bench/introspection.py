"""Benchmark introspect() against the databases' own schema dumps.

    python bench/introspection.py [--tables 2000] [--columns 10] [--quick] [--repeat 3]

Builds a throw-away PostgreSQL and MariaDB/MySQL database of N tables x M columns (each
table with a primary key, one foreign key and one secondary index), then times
introspect() against `pg_dump --schema-only` and `mysqldump --no-data` on the same
database. Times are the best of --repeat runs, so both sides run on warm caches. Admin
URLs come from TEST_POSTGRES_ADMIN_URL / TEST_MYSQL_ADMIN_URL, as in the tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

# Run as a script from anywhere: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.connections.introspection import introspect

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN_URL = os.environ.get("TEST_MYSQL_ADMIN_URL", "mysql+pymysql://root@127.0.0.1:3306/")
_DRIVERS = {"postgresql": "postgresql+psycopg2", "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}
# Column types cycled through after `id` and `parent_id`: (postgres, mysql, default).
_COLUMN_TYPES = [
    ("varchar(100)", "varchar(100)", "NOT NULL DEFAULT ''"),
    ("integer", "int", ""),
    ("timestamptz", "timestamp", "NOT NULL DEFAULT CURRENT_TIMESTAMP"),
    ("numeric(12,2)", "decimal(12,2)", "DEFAULT 0"),
    ("text", "text", ""),
]
_BATCH = 200  # DDL statements per round trip when building the PostgreSQL database


def table_ddl(index: int, columns: int, postgres: bool) -> list[str]:
    """DDL of table t<index>: id, parent_id -> previous table, then filler columns."""
    name, parent = f"t{index:05d}", f"t{max(index - 1, 0):05d}"
    parts = ["id serial PRIMARY KEY" if postgres else "id int AUTO_INCREMENT PRIMARY KEY", "parent_id integer"]
    for i in range(max(columns - 2, 0)):
        pg_type, mysql_type, extra = _COLUMN_TYPES[i % len(_COLUMN_TYPES)]
        parts.append(f"c{i + 1} {pg_type if postgres else mysql_type} {extra}".rstrip())
    parts.append(f"FOREIGN KEY (parent_id) REFERENCES {parent} (id)")
    index_column = "c1" if columns > 2 else "parent_id"
    if postgres:
        return [f"CREATE TABLE {name} ({', '.join(parts)})", f"CREATE INDEX {name}_idx ON {name} ({index_column})"]
    # MySQL builds inline keys with the table, halving the statements to send.
    return [f"CREATE TABLE {name} ({', '.join([*parts, f'KEY {name}_idx ({index_column})'])})"]


def engine_url(url: str | URL) -> URL:
    parsed = make_url(url)
    return parsed.set(drivername=_DRIVERS.get(parsed.drivername, parsed.drivername))


@contextmanager
def bench_database(admin_url: str, tables: int, columns: int) -> Iterator[URL]:
    """Create and fill a randomly named database; drop it on exit."""
    postgres = make_url(admin_url).get_backend_name() == "postgresql"
    name = f"bench_introspect_{uuid.uuid4().hex[:8]}"
    admin = create_engine(engine_url(admin_url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = engine_url(admin_url).set(database=name)
    try:
        ddl = [statement for i in range(tables) for statement in table_ddl(i, columns, postgres)]
        # psycopg2 takes several statements per call; MySQL DDL commits implicitly anyway.
        batch = _BATCH if postgres else 1
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            for start in range(0, len(ddl), batch):
                conn.exec_driver_sql(";\n".join(ddl[start : start + batch]))
                # A commit per batch: one transaction creating thousands of tables runs
                # out of PostgreSQL's lock table (max_locks_per_transaction).
                conn.commit()
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if postgres else ""))
        admin.dispose()


def pg_dump_command(url: URL) -> tuple[list[str], dict[str, str]]:
    """pg_dump of the server's major version when installed side by side, else PATH's."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        major = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000
    engine.dispose()
    versioned = Path(f"/usr/lib/postgresql/{major}/bin/pg_dump")
    binary = str(versioned) if versioned.exists() else shutil.which("pg_dump")
    if binary is None:
        raise FileNotFoundError("pg_dump not found")
    command = [binary, "--schema-only", "-f", os.devnull, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    command += ["-U", url.username or "postgres", url.database or ""]
    return command, {"PGPASSWORD": url.password or ""} if url.password else {}


def mysqldump_command(url: URL) -> tuple[list[str], dict[str, str]]:
    binary = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    if binary is None:
        raise FileNotFoundError("mysqldump / mariadb-dump not found")
    command = [binary, "--no-data", "--protocol=TCP", "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306)]
    command += ["-u", url.username or "root", f"--result-file={os.devnull}", url.database or ""]
    return command, {"MYSQL_PWD": str(url.password)} if url.password else {}


def best_time(action: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def run_dump(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, env={**os.environ, **env}, check=True, stdout=subprocess.DEVNULL)


def bench_case(admin_url: str, dump: Callable, args: argparse.Namespace) -> tuple[float, float]:
    """(ours, baseline) seconds for one server."""
    with bench_database(admin_url, args.tables, args.columns) as url:
        raw_url = url.render_as_string(hide_password=False)
        result = introspect(raw_url)
        assert result["totalTables"] == args.tables, result["totalTables"]
        command, env = dump(url)
        ours = best_time(lambda: introspect(raw_url), args.repeat)
        baseline = best_time(lambda: run_dump(command, env), args.repeat)
    return ours, baseline


CASES = [
    ("postgresql", PG_ADMIN_URL, pg_dump_command, "pg_dump --schema-only"),
    ("mysql", MYSQL_ADMIN_URL, mysqldump_command, "mysqldump --no-data"),
]


def measure(args: argparse.Namespace) -> list[tuple[str, str, float | None, float | None, str]]:
    """(dialect, baseline name, ours s, baseline s, why skipped) per server."""
    results = []
    for dialect, admin_url, dump, baseline_name in CASES:
        print(f"running {dialect} {args.tables}x{args.columns} vs {baseline_name} ...", file=sys.stderr, flush=True)
        try:
            ours, baseline = bench_case(admin_url, dump, args)
        except (OperationalError, FileNotFoundError) as error:
            print(f"  skipped: {str(error).splitlines()[0]}", file=sys.stderr)
            results.append((dialect, baseline_name, None, None, str(error).splitlines()[0][:100]))
            continue
        results.append((dialect, baseline_name, ours, baseline, ""))
    return results


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the best is kept")
    parser.add_argument("--quick", action="store_true", help="100 tables")
    args = parser.parse_args(argv)
    if args.quick:
        args.tables = 100
    return args


def collect(quick: bool = False) -> list:
    """The rows of `bench/run.py`: introspect() time over the dump tool's, best of 3 each."""
    from bench.support import Row, not_measured

    args = arguments(["--quick"] if quick else [])
    rows = []
    for dialect, baseline_name, ours, baseline, skipped in measure(args):
        name = f"introspection.{dialect}"
        label = f"introspect() {dialect}, {args.tables:,} tables x {args.columns} cols (vs {baseline_name})"
        if ours is None:
            rows.append(not_measured(name, label, "s", f"skipped: {skipped}", "<= 1"))
        else:
            rows.append(Row(name, label, "s", ours, baseline, "<= 1"))
    return rows


def main() -> None:
    args = arguments()
    print(f"\n{'case':<50} {'ours (s)':>9} {'baseline (s)':>13} {'ratio':>6}")
    for dialect, baseline_name, ours, baseline, _ in measure(args):
        if ours is not None:
            label = f"{dialect} {args.tables}x{args.columns} vs {baseline_name}"
            print(f"{label:<50} {ours:>9.3f} {baseline:>13.3f} {ours / baseline:>6.2f}")


if __name__ == "__main__":
    main()
