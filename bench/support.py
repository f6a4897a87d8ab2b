"""What the benchmarks share: a throw-away service database, a Redis database of their own, and
service processes started with the benchmark's environment. Everything is cleaned up on exit."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import redis
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER_URL = make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
BASE_REDIS_URL = make_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))


def _admin():
    conn = psycopg2.connect(SERVER_URL.set(drivername="postgresql", database="postgres").render_as_string(False))
    conn.autocommit = True
    return conn


@contextmanager
def service_environment(**extra: str):
    """A migrated database and a leased Redis database, exported in os.environ for this process
    and the ones it starts; both are dropped afterwards."""
    from tests.support import redis_lease

    name = f"jobsvc_bench_{secrets.token_hex(4)}"
    admin = _admin()
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    number = redis_lease.claim(BASE_REDIS_URL)
    saved = dict(os.environ)
    os.environ.update(
        {
            "APP_ENV": "test",
            "DATABASE_URL": SERVER_URL.set(database=name).render_as_string(hide_password=False),
            "REDIS_URL": redis_lease.database_url(BASE_REDIS_URL, number),
            "JWT_SECRET_KEY": secrets.token_hex(32),
            "CONNECTION_SECRET_KEY": secrets.token_hex(32),
            "JOB_RATE_LIMIT_PER_MINUTE": "0",
            "LOG_FORMAT": "text",
            **extra,
        }
    )
    try:
        from flask_migrate import upgrade

        from app import create_app

        app = create_app()
        with app.app_context():
            upgrade()
        yield app
    finally:
        stop_all()
        os.environ.clear()
        os.environ.update(saved)
        redis_lease.release(BASE_REDIS_URL, number)
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


_processes: list[subprocess.Popen] = []


def start(args: list[str], ready: str, env: dict | None = None, timeout: float = 60) -> subprocess.Popen:
    """Start a process in its own group and wait for `ready` in its output."""
    log = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log_path = log.name  # type: ignore[attr-defined]
    _processes.append(proc)
    deadline = time.monotonic() + timeout
    while ready not in Path(log.name).read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{args[:4]} did not start:\n{Path(log.name).read_text()[-3000:]}")
        time.sleep(0.1)
    return proc


def start_worker(concurrency: int, app: str = "workers", queues: str = "jobs,email,maintenance") -> subprocess.Popen:
    return start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            "--loglevel=INFO",
            "-Q",
            queues,
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"bench-{secrets.token_hex(3)}@%h",
        ],
        ready="ready.",
    )


def stop_all() -> None:
    for proc in reversed(_processes):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
    _processes.clear()


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def print_table(rows: list[tuple], headers: tuple) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    print(line.format(*headers))
    print(line.format(*("-" * width for width in widths)))
    for row in rows:
        print(line.format(*row))
