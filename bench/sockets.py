"""Benchmark the Socket.IO side of the web process against a bare python-socketio server.

    python bench/sockets.py [--quick] [--sockets 5000] [--events 300] [--async-mode gevent]

Starts what it needs: a private redis-server when one is on PATH (else a leased database of
REDIS_URL), a fresh PostgreSQL database (created, migrated, dropped) and one web process
(`python wsgi.py`, in --async-mode: eventlet unless WEBSOCKET_ASYNC_MODE says otherwise). Then,
for our web process and for a bare python-socketio server (the same async mode, the same Redis
message queue on its own channel), in turn:

  (a) opens N idle WebSocket clients (authenticated with a JWT for ours) from several client
      processes and reports how many the server holds, how long they took, and its RSS per socket;
  (b) with those still connected, publishes M events from another process - for ours through
      `app.platform.realtime.emit`, the function Celery tasks call; for the bare server through a
      write-only `socketio.RedisManager` - and measures publish-to-receipt latency at one client.

`--quick` uses 100 sockets and 30 events. The delivery of one job's events to 1,000 subscribed
sockets is `bench/socket_delivery.py`; POST-to-completion latency is `bench/latency.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import support  # noqa: E402
from bench.socket_roles import Probe, child, release, rss_kib, spread  # noqa: E402

CLIENTS_PER_PROCESS = 1250
EMIT_INTERVAL = 0.01


def hold_idle_sockets(url: str, count: int, auth: dict) -> tuple[list[subprocess.Popen], int, float]:
    """Spread `count` idle clients over client processes; returns them, how many held, seconds."""
    started = time.monotonic()
    procs = [
        child("clients", url, size, json.dumps(auth), stdin=subprocess.PIPE)
        for size in spread(count, CLIENTS_PER_PROCESS)
    ]
    held = 0
    for proc in procs:
        report = json.loads(proc.stdout.readline() or '{"held": 0, "failed": -1}')
        held += report["held"]
        if report.get("failed"):
            print(f"  client process: {report}", file=sys.stderr, flush=True)
    return procs, held, time.monotonic() - started


def measure_emits(kind: str, url: str, auth: dict, room: str, count: int) -> list[float]:
    probe = Probe(url, auth)
    time.sleep(0.5)  # the server's Redis subscription starts with its first client
    emitter = child("emit", kind, os.environ["REDIS_URL"], room, "bench", json.dumps([[count, EMIT_INTERVAL]]))
    emitter.communicate(timeout=120)
    deadline = time.monotonic() + 10
    while len(probe.latencies_ms()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    probe.close()
    return probe.latencies_ms()


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


def raise_open_files_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by every process started after


def register_users(app, count: int) -> list[dict]:
    from app.extensions import db
    from tests.support.api import register

    client = app.test_client()
    users = [register(client) for _ in range(count)]
    with app.app_context():
        db.engine.dispose()  # the web process is the one serving from now on
    return users


def run_ours(idle_user: dict, probe_user: dict, sockets: int, events: int, mode: str) -> dict:
    """(a) and (b) against `python wsgi.py`."""
    from tests.support.web import start_web

    web = start_web({"WEBSOCKET_ASYNC_MODE": mode}, name="bench-web")
    try:
        idle_auth, probe_auth = {"token": idle_user["token"]}, {"token": probe_user["token"]}
        room = f"user:{probe_user['id']}"
        result = run_side("ours", web.url, web.proc.pid, idle_auth, probe_auth, room, sockets, events)
        result["health"] = wait_for_health_count(web.url, 0)  # after they all left
        return result
    finally:
        web.stop()


def run_bare(redis_url: str, sockets: int, events: int, mode: str) -> dict:
    """(a) and (b) against a bare python-socketio server."""
    from tests.support.web import free_port

    port = free_port()
    bare = child("bare-server", port, redis_url, mode)
    try:
        bare.stdout.readline()
        time.sleep(0.3)
        return run_side("bare", f"http://127.0.0.1:{port}", bare.pid, {}, {"room": "probe"}, "probe", sockets, events)
    finally:
        bare.kill()
        bare.wait(10)


def run_side(kind: str, url: str, pid: int, idle_auth: dict, probe_auth: dict, room: str, sockets: int, events: int):
    """(a) then (b) against one server."""
    time.sleep(1)
    rss_before = rss_kib(pid)
    procs, held, seconds = hold_idle_sockets(url, sockets, idle_auth)
    time.sleep(2)  # let allocations settle
    rss_after = rss_kib(pid)
    result = {"held": held, "connect_s": seconds, "rss_per_socket_kib": (rss_after - rss_before) / max(held, 1)}
    result["rss_mib"] = rss_after / 1024
    if kind == "ours":
        result["health_while_held"] = wait_for_health_count(url, held)
    result["latency"] = measure_emits(kind, url, probe_auth, room, events)
    release(procs)
    print(f"{kind}: held {held} sockets in {seconds:.1f}s, {len(result['latency'])} events timed", file=sys.stderr)
    return result


def measure(sockets: int, events: int, mode: str = "eventlet") -> dict:
    raise_open_files_limit()
    with support.service_environment(private_redis=True, WEBSOCKET_AUTH_TIMEOUT="60") as app:
        idle_user, probe_user = register_users(app, 2)
        ours = run_ours(idle_user, probe_user, sockets, events, mode)
        bare = run_bare(os.environ["REDIS_URL"], sockets, events, mode)
    return {"ours": ours, "bare": bare}


def to_rows(results: dict, sockets: int, events: int) -> list[support.Row]:
    ours, bare = results["ours"], results["bare"]
    Row, pct = support.Row, support.percentile
    vs = "vs bare python-socketio"
    return [
        Row("sockets.idle-held", f"idle sockets held of {sockets:,} ({vs})", "", ours["held"], bare["held"], ">= 1"),
        Row(
            "sockets.idle-connect",
            f"time to open {sockets:,} sockets ({vs})",
            "s",
            ours["connect_s"],
            bare["connect_s"],
            "",  # reported: each of ours verifies a token and joins its user's room, the bare ones do nothing
        ),
        Row(
            "sockets.rss-per-socket",
            f"server RSS per idle socket ({vs})",
            "KiB",
            ours["rss_per_socket_kib"],
            bare["rss_per_socket_kib"],
            "<= 2",
        ),
        Row(
            "sockets.emit-median",
            f"emit -> client, {sockets:,} idle, median of {events} ({vs})",
            "ms",
            pct(ours["latency"], 0.5),
            pct(bare["latency"], 0.5),
            "<= 2",
        ),
        Row(
            "sockets.emit-p99",
            f"emit -> client, {sockets:,} idle, p99 ({vs})",
            "ms",
            pct(ours["latency"], 0.99),
            pct(bare["latency"], 0.99),
        ),
    ]


def collect(quick: bool = False) -> list[support.Row]:
    """The rows of `bench/run.py`: 5,000 idle sockets (100 with `quick`), in the default async mode."""
    (sockets, events), mode = (100, 30) if quick else (5000, 300), support.default_async_mode()
    return support.in_async_mode(to_rows(measure(sockets, events, mode), sockets, events), mode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 sockets, 30 events")
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--async-mode", choices=support.ASYNC_MODES, default=support.default_async_mode())
    args = parser.parse_args()
    if args.quick:
        args.sockets, args.events = 100, 30
    print(f"{args.sockets} sockets, {args.events} events, {args.async_mode}", flush=True)
    results = measure(args.sockets, args.events, args.async_mode)
    print()
    support.print_rows(support.in_async_mode(to_rows(results, args.sockets, args.events), args.async_mode))
    (held_count, held_s), (zero_count, zero_s) = results["ours"]["health_while_held"], results["ours"]["health"]
    print(f"\nGET /api/health/websocket: {held_count} clients {held_s:.1f}s after they connected; ", end="")
    print(f"{zero_count} {zero_s:.1f}s after they all disconnected at once")


if __name__ == "__main__":
    main()
