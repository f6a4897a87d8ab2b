"""Benchmark the Socket.IO side of the web process against a bare python-socketio server.

    python bench/sockets.py [--quick] [--sockets 5000] [--events 300] [--jobs 50]

Starts what it needs: a private redis-server when one is on PATH (else REDIS_URL's db 12), a
fresh PostgreSQL database (created, migrated, dropped), one web process (`python wsgi.py`,
eventlet) and a Celery worker. Then, for our web process and for a bare python-socketio server
(eventlet, the same Redis message queue on its own channel), in turn:

  (a) opens N idle WebSocket clients (authenticated with a JWT for ours) from several client
      processes and reports how many the server holds, how long they took, and its RSS per socket;
  (b) with those still connected, publishes M events from another process - for ours through
      `app.services.realtime.emit`, the function Celery tasks call; for the bare server through a
      write-only `socketio.RedisManager` - and measures publish-to-receipt latency at one client.
  (c) ours only: noop jobs created through REST and run by the worker, POST to the client's
      receipt of the `job_completed` notification.

`--quick` uses 200 sockets, 50 events and 10 jobs.
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
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

BARE_CHANNEL = "bench-bare-socketio"  # not ours: the two servers must not relay each other's events
CLIENTS_PER_PROCESS = 1250
CONNECTS_IN_FLIGHT = 25  # per client process; eventlet.listen()'s accept backlog is 50
EMIT_INTERVAL = 0.01
WARMUP_EVENTS = 10
JOB_INTERVAL = 0.25  # a latency figure, not a throughput one: two worker processes keep up


# --------------------------------------------------------------------------- child roles


def role_clients(url: str, count: int, auth: dict) -> None:
    """Hold `count` idle WebSocket clients open (green threads) until stdin closes."""
    import eventlet

    eventlet.monkey_patch()
    import eventlet.tpool
    import socketio

    pool, held, failed = eventlet.GreenPool(CONNECTS_IN_FLIGHT), [], []

    def connect(_: int) -> None:
        client = socketio.Client(reconnection=False)
        try:
            client.connect(url, auth=auth, transports=["websocket"], wait_timeout=60)
            held.append(client)
        except Exception as exc:
            failed.append(type(exc).__name__)

    for _ in pool.imap(connect, range(count)):
        pass
    print(json.dumps({"held": len(held), "failed": len(failed), "errors": sorted(set(failed))[:3]}), flush=True)
    eventlet.tpool.execute(sys.stdin.read)  # block (without blocking the hub) until told to stop
    os._exit(0)


def role_bare_server(port: int, redis_url: str) -> None:
    """A bare python-socketio server: eventlet, Redis message queue, rooms from the auth data."""
    import eventlet

    eventlet.monkey_patch()
    import eventlet.wsgi
    import socketio

    server = socketio.Server(
        async_mode="eventlet", client_manager=socketio.RedisManager(redis_url, channel=BARE_CHANNEL)
    )

    @server.event
    def connect(sid, _environ, auth=None):
        if isinstance(auth, dict) and auth.get("room"):
            server.enter_room(sid, auth["room"])

    print("bare: serving", flush=True)
    listener = eventlet.listen(("127.0.0.1", port))
    eventlet.wsgi.server(listener, socketio.WSGIApp(server), log_output=False, max_size=20_000)


def role_emit(kind: str, redis_url: str, room: str, count: int) -> None:
    """Publish `count` events (after a warm-up) to `room`, each stamped with its send time."""
    if kind == "ours":
        from app import create_app
        from app.services import realtime

        app = create_app()  # as a Celery worker builds it: no socket server, a write-only emitter
        with app.app_context():
            _emit_paced(lambda data: realtime.emit("bench", data, room), count)
    else:
        import socketio

        manager = socketio.RedisManager(redis_url, channel=BARE_CHANNEL, write_only=True)
        _emit_paced(lambda data: manager.emit("bench", data, room=room), count)


def _emit_paced(emit, count: int) -> None:
    for seq in range(-WARMUP_EVENTS, count):
        emit({"seq": seq, "sentAt": time.time()})
        time.sleep(EMIT_INTERVAL)


# --------------------------------------------------------------------------- orchestration


def child(role: str, *args: object, stdin=None) -> subprocess.Popen:
    """This script again, in one of its --role parts."""
    command = [sys.executable, __file__, "--role", role, *map(str, args)]
    # eventlet warns on import that it is deprecated, once per process: keep the table readable.
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdin=stdin, stdout=subprocess.PIPE, text=True)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def hold_idle_sockets(url: str, count: int, auth: dict) -> tuple[list[subprocess.Popen], int, float]:
    """Spread `count` idle clients over client processes; returns them, how many held, seconds."""
    started = time.monotonic()
    sizes = [CLIENTS_PER_PROCESS] * (count // CLIENTS_PER_PROCESS) + [count % CLIENTS_PER_PROCESS]
    procs = [child("clients", url, size, json.dumps(auth), stdin=subprocess.PIPE) for size in sizes if size]
    held = 0
    for proc in procs:
        report = json.loads(proc.stdout.readline() or '{"held": 0, "failed": -1}')
        held += report["held"]
        if report.get("failed"):
            print(f"  client process: {report}", flush=True)
    return procs, held, time.monotonic() - started


def release(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.stdin.close()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


class Probe:
    """One client that timestamps each `bench` / `notification` event where it comes off the wire."""

    def __init__(self, url: str, auth: dict) -> None:
        import socketio
        from socketio import packet

        self.arrivals: dict[str, list[tuple[float, dict]]] = {"bench": [], "notification": []}
        self.sio = socketio.Client(reconnection=False)
        trigger = self.sio.eio._trigger_event

        def on_wire(event, *args, **kwargs):  # python-socketio dispatches each event in a new thread
            if event == "message" and args and isinstance(args[0], str):
                pkt = packet.Packet(encoded_packet=args[0])
                if pkt.packet_type == packet.EVENT and pkt.data[0] in self.arrivals:
                    self.arrivals[pkt.data[0]].append((time.time(), pkt.data[1]))
            return trigger(event, *args, **kwargs)

        self.sio.eio._trigger_event = on_wire
        self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=30)

    def latencies_ms(self) -> list[float]:
        return [(at - data["sentAt"]) * 1000 for at, data in self.arrivals["bench"] if data["seq"] >= 0]

    def close(self) -> None:
        self.sio.disconnect()


def measure_emits(kind: str, url: str, auth: dict, room: str, count: int) -> list[float]:
    probe = Probe(url, auth)
    time.sleep(0.5)  # the server's Redis subscription starts with its first client
    emitter = child("emit", kind, os.environ["REDIS_URL"], room, count)
    emitter.wait(120)
    deadline = time.monotonic() + 10
    while len(probe.latencies_ms()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    probe.close()
    return probe.latencies_ms()


def measure_jobs(base_url: str, token: str, count: int) -> list[float]:
    """POST a noop job -> its `job_completed` notification at a client, in ms."""
    import requests

    probe, sent = Probe(base_url, {"token": token}), {}
    for _ in range(count):
        started = time.time()
        job = requests.post(
            f"{base_url}/api/jobs", json={"type": "noop", "payload": {}}, headers={"Authorization": f"Bearer {token}"}
        ).json()
        sent[job["id"]] = started
        time.sleep(JOB_INTERVAL)
    deadline, done = time.monotonic() + 30, {}
    while len(done) < count and time.monotonic() < deadline:
        time.sleep(0.05)
        done = {n["data"]["jobId"]: at for at, n in probe.arrivals["notification"] if n["type"] == "job_completed"}
    probe.close()
    return [(at - sent[job_id]) * 1000 for job_id, at in done.items() if job_id in sent]


def wait_for_health_count(base_url: str, expected: int, timeout: float = 60) -> tuple[int, float]:
    """Poll /api/health/websocket until it says `expected`; returns the last count and seconds."""
    import requests

    started, seen = time.monotonic(), -1
    while time.monotonic() - started < timeout:
        try:
            seen = requests.get(f"{base_url}/api/health/websocket", timeout=5).json().get("connectedClients")
        except requests.RequestException:
            seen = -1  # busy: counts as not yet
        if seen == expected:
            break
        time.sleep(0.5)
    return seen, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


# --------------------------------------------------------------------------- environment


def private_redis(workdir: str) -> tuple[subprocess.Popen | None, str]:
    """A redis-server of our own (pub/sub channels are shared by every database of a server)."""
    binary = shutil.which("redis-server")
    if binary is None:
        from sqlalchemy.engine import make_url

        return None, str(make_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")).set(database="12"))
    from tests.support.web import free_port

    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    return proc, f"redis://127.0.0.1:{port}/0"


def fresh_database() -> tuple[str, Callable[[], None]]:
    """Create and migrate a throw-away database; returns its URL and a function that drops it."""
    import psycopg2
    from sqlalchemy.engine import make_url

    server = make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = f"jobsvc_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin_url = server.set(database="postgres").render_as_string(hide_password=False).replace("+psycopg2", "")
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return server.set(database=name).render_as_string(hide_password=False), drop


def migrate_and_register() -> tuple[dict, dict]:
    """Run the migrations and register two users: one for the idle sockets, one for the probe."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from tests.support.api import register

    app = create_app()
    with app.app_context():
        upgrade()
        db.engine.dispose()
    client = app.test_client()
    return register(client), register(client)


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 sockets, 50 events, 10 jobs")
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--role", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.role:
        roles = {"clients": role_clients, "bare-server": role_bare_server, "emit": role_emit}
        casts = {"clients": (str, int, json.loads), "bare-server": (int, str), "emit": (str, str, str, int)}
        return roles[args.role](*(cast(value) for cast, value in zip(casts[args.role], rest, strict=True)))
    if args.quick:
        args.sockets, args.events, args.jobs = 200, 50, 10

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by every process below
    print(f"open files limit {hard}; {args.sockets} sockets, {args.events} events, {args.jobs} jobs", flush=True)
    with environment() as (redis_url, idle_user, probe_user):
        results = {"ours": run_ours(idle_user, probe_user, args), "bare": run_bare(redis_url, args)}
    print_table(results, args)


@contextmanager
def environment():
    """Private Redis, fresh migrated database, test-like settings, two users; all undone after."""
    workdir = tempfile.mkdtemp(prefix="bench-sockets-")
    redis_proc, redis_url = private_redis(workdir)
    database_url, drop_database = fresh_database()
    os.environ.update(
        {
            "APP_ENV": "test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "JWT_SECRET_KEY": secrets.token_urlsafe(32),
            "CONNECTION_SECRET_KEY": secrets.token_urlsafe(32),
            "JOB_RATE_LIMIT_PER_MINUTE": "0",
            "LOG_FORMAT": "text",
            "WEBSOCKET_AUTH_TIMEOUT": "60",
        }
    )
    from tests.support import processes

    try:
        yield (redis_url, *migrate_and_register())
    finally:
        processes.stop_all()
        drop_database()
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def run_ours(idle_user: dict, probe_user: dict, args) -> dict:
    """(a), (b) and (c) against `python wsgi.py`, with a Celery worker."""
    from tests.support import processes
    from tests.support.web import start_web

    web = start_web(name="bench-web")
    worker = processes.start_worker(concurrency=2, name="bench-worker")
    try:
        idle_auth, probe_auth = {"token": idle_user["token"]}, {"token": probe_user["token"]}
        result = run_side("ours", web.url, web.proc.pid, idle_auth, probe_auth, f"user:{probe_user['id']}", args)
        result["health"] = wait_for_health_count(web.url, 0)  # after they all left
        result["jobs"] = measure_jobs(web.url, probe_user["token"], args.jobs)
        return result
    finally:
        web.stop()
        processes.stop(worker)


def run_bare(redis_url: str, args) -> dict:
    """(a) and (b) against a bare python-socketio server."""
    from tests.support.web import free_port

    port = free_port()
    bare = child("bare-server", port, redis_url)
    try:
        bare.stdout.readline()
        time.sleep(0.3)
        return run_side("bare", f"http://127.0.0.1:{port}", bare.pid, {}, {"room": "probe"}, "probe", args)
    finally:
        bare.kill()
        bare.wait(10)


def run_side(kind: str, url: str, pid: int, idle_auth: dict, probe_auth: dict, room: str, args) -> dict:
    """(a) then (b) against one server."""
    time.sleep(1)
    rss_before = rss_kib(pid)
    procs, held, seconds = hold_idle_sockets(url, args.sockets, idle_auth)
    time.sleep(2)  # let allocations settle
    rss_after = rss_kib(pid)
    result = {"held": held, "connect_s": seconds, "rss_per_socket_kib": (rss_after - rss_before) / max(held, 1)}
    result["rss_mib"] = rss_after / 1024
    if kind == "ours":
        result["health_while_held"] = wait_for_health_count(url, held)
    result["latency"] = measure_emits(kind, url, probe_auth, room, args.events)
    release(procs)
    print(f"{kind}: held {held} sockets in {seconds:.1f}s, {len(result['latency'])} events timed", flush=True)
    return result


def print_table(results: dict, args) -> None:
    ours, bare = results["ours"], results["bare"]

    def row(label: str, a: float, b: float | None, fmt: str = "{:.2f}") -> None:
        ratio = f"{a / b:.2f}x" if b else ""
        print(f"{label:<38}{fmt.format(a):>14}{'' if b is None else fmt.format(b):>14}{ratio:>10}")

    print()
    print(f"{'':<38}{'jobsvc web':>14}{'bare sio':>14}{'ratio':>10}")
    row(f"idle sockets held (of {args.sockets})", ours["held"], bare["held"], "{:.0f}")
    row("time to open them (s)", ours["connect_s"], bare["connect_s"])
    row("server RSS with them (MiB)", ours["rss_mib"], bare["rss_mib"], "{:.1f}")
    row("RSS per socket (KiB)", ours["rss_per_socket_kib"], bare["rss_per_socket_kib"], "{:.1f}")
    for label, q in (("median", 0.5), ("p99", 0.99)):
        row(f"emit -> client, {label} (ms)", percentile(ours["latency"], q), percentile(bare["latency"], q))
    row("events received", len(ours["latency"]), len(bare["latency"]), "{:.0f}")
    jobs = ours["jobs"]
    row("noop job POST -> completed, median (ms)", percentile(jobs, 0.5), None)
    row("noop job POST -> completed, p99 (ms)", percentile(jobs, 0.99), None)
    (held_count, held_s), (zero_count, zero_s) = ours["health_while_held"], ours["health"]
    print(f"GET /api/health/websocket: {held_count} clients {held_s:.1f}s after they connected; ", end="")
    print(f"{zero_count} {zero_s:.1f}s after they all disconnected at once")


if __name__ == "__main__":
    main()
