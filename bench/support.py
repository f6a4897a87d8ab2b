"""What the benchmarks share: a throw-away service database, a Redis database of their own, and
service processes started with the benchmark's environment. Everything is cleaned up on exit.
Also the `Row` every benchmark returns to `bench/run.py`."""

from __future__ import annotations

import math
import operator
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
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


def libpq_url(url: str) -> str:
    """An SQLAlchemy database URL as psycopg2 takes it (without a `+driver`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def leased_redis_database():
    """A Redis database number of REDIS_URL's server leased like the tests do; flushed and
    released afterwards (nothing else of that server is touched)."""
    from tests.support import redis_lease

    number = redis_lease.claim(BASE_REDIS_URL)
    try:
        yield redis_lease.database_url(BASE_REDIS_URL, number)
    finally:
        redis_lease.release(BASE_REDIS_URL, number)


@contextmanager
def redis_server_of_our_own():
    """A private redis-server on a free port when one is on PATH, else a leased database.

    Benchmarks that emit socket events want the former: Redis pub/sub channels are shared by every
    database of a server, so thousands of events published on a shared server would be relayed by
    every other web process using it (other developers' test runs), and theirs by ours."""
    binary = shutil.which("redis-server")
    if binary is None:
        with leased_redis_database() as url:
            yield url
        return
    from tests.support.web import free_port

    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the private redis-server did not start") from None
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def service_environment(private_redis: bool = False, **extra: str):
    """A migrated database and a Redis database of our own (a leased database of REDIS_URL, or a
    private redis-server with `private_redis`), exported in os.environ for this process and the
    ones it starts; both are dropped afterwards, and every process started meanwhile is stopped."""
    from contextlib import ExitStack

    from tests.support import processes

    name = f"jobsvc_bench_{secrets.token_hex(4)}"
    admin = _admin()
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    saved = dict(os.environ)
    stack = ExitStack()
    artifact_dir = tempfile.mkdtemp(prefix="bench-artifacts-")
    try:
        redis_url = stack.enter_context(redis_server_of_our_own() if private_redis else leased_redis_database())
        os.environ.update(
            {
                "APP_ENV": "test",
                "DATABASE_URL": SERVER_URL.set(database=name).render_as_string(hide_password=False),
                "REDIS_URL": redis_url,
                "ARTIFACT_DIR": artifact_dir,
                "JWT_SECRET_KEY": secrets.token_hex(32),
                "CONNECTION_SECRET_KEY": secrets.token_hex(32),
                "JOB_RATE_LIMIT_PER_MINUTE": "0",
                "LOG_FORMAT": "text",
                **extra,
            }
        )
        from flask_migrate import upgrade

        from app import create_app

        app = create_app()
        with app.app_context():
            upgrade()
        yield app
    finally:
        stop_all()
        processes.stop_all()
        os.environ.clear()
        os.environ.update(saved)
        stack.close()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        shutil.rmtree(artifact_dir, ignore_errors=True)


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


def process_cpu(pid: int) -> float:
    """CPU seconds used so far by one process, without its children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its descendants (Linux /proc)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += process_cpu(current)
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def print_table(rows: list[tuple], headers: tuple) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    print(line.format(*headers))
    print(line.format(*("-" * width for width in widths)))
    for row in rows:
        print(line.format(*row))


# --------------------------------------------------------------------------- rows of the table

_COMPARISONS = {"<=": operator.le, ">=": operator.ge}


@dataclass
class Row:
    """One measured thing: ours against a baseline measured in the same run.

    `ratio` is always ours / baseline, in the row's unit; `target` bounds it ("<= 3" for a time,
    ">= 0.5" for a rate) or is empty when the row is only reported. A row that could not be
    measured keeps None figures and says why in `note` ("skipped: ..." or "error: ...")."""

    name: str  # stable key for `run.py --only`: "<benchmark>.<row>"
    measure: str  # what is measured, and against what
    unit: str
    ours: float | None = None
    baseline: float | None = None
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline or math.isnan(self.ours) or math.isnan(self.baseline):
            return None
        return self.ours / self.baseline

    @property
    def met(self) -> bool | None:
        if not self.target or self.ratio is None:
            return None
        sign, bound = self.target.split()
        return _COMPARISONS[sign](self.ratio, float(bound))

    @property
    def measured(self) -> bool:
        return self.ratio is not None

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio, "met": self.met}

    @classmethod
    def from_dict(cls, data: dict) -> Row:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


ASYNC_MODES = ("eventlet", "gevent")


def default_async_mode() -> str:
    """The web process's WEBSOCKET_ASYNC_MODE for the socket benchmarks: the environment's, else
    eventlet, so that `WEBSOCKET_ASYNC_MODE=gevent python bench/run.py --only sockets` measures gevent."""
    mode = os.environ.get("WEBSOCKET_ASYNC_MODE", "").strip() or "eventlet"
    if mode not in ASYNC_MODES:
        raise SystemExit(f"the socket benchmarks run under {' or '.join(ASYNC_MODES)}, not {mode!r}")
    return mode


def in_async_mode(rows: list[Row], mode: str) -> list[Row]:
    """Rows measured under a mode other than the default say so in their name and text."""
    if mode == "eventlet":
        return rows
    for row in rows:
        row.name, row.measure = f"{row.name}-{mode}", f"{row.measure} [{mode}]"
    return rows


def not_measured(name: str, measure: str, unit: str, note: str, target: str = "") -> Row:
    return Row(name, measure, unit, target=target, note=note)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`; NaN when there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def figure(value: float | None) -> str:
    """Three significant figures, without an exponent for the sizes we print."""
    if value is None or math.isnan(value):
        return "-"
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{max(0, 2 - math.floor(math.log10(abs(value))))}f}"


def print_rows(rows: list[Row], file=None) -> None:
    """The comparison table: what is measured, ours, baseline, ratio, target, met?"""
    table = []
    for row in rows:
        met = {True: "yes", False: "NO", None: "-"}[row.met]
        ours = f"{figure(row.ours)} {row.unit}" if row.ours is not None else row.note or "-"
        baseline = (
            f"{figure(row.baseline)} {row.unit}"
            if row.baseline is not None
            else ("-" if row.ours is None else row.note or "-")
        )
        ratio = f"{figure(row.ratio)}x" if row.ratio is not None else "-"
        table.append((row.measure, ours, baseline, ratio, row.target or "-", met))
    headers = ("measured (ours vs baseline)", "ours", "baseline", "ratio", "target", "met?")
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *table, strict=True)]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    print(line.format(*headers), file=file)
    print(line.format(*("-" * width for width in widths)), file=file)
    for cells in table:
        print(line.format(*cells).rstrip(), file=file)
