"""Benchmark the delivery of one job's events to many sockets subscribed to it.

    python bench/socket_delivery.py [--quick] [--sockets 1000] [--paced 50] [--burst 1000] [--async-mode gevent]

Our web process (`python wsgi.py`, in --async-mode: eventlet unless WEBSOCKET_ASYNC_MODE says
otherwise) with N sockets, all authenticated with a JWT and subscribed to one job (`subscribe:job`),
against a bare python-socketio server (the same async mode, the same Redis message-queue manager on
its own channel) with N clients in one room. Events are
`job:status` frames published from another process through the Redis message queue, as workers
publish them (ours through `app.platform.realtime.emit`). Two phases per server:

  paced  one event every 200 ms: the time until an event has reached all N sockets;
  burst  events published back to back: events received per second, over all sockets.

The server's CPU time over both phases, per frame delivered, is reported too: on a 2-core machine
shared by server, clients and Redis, the rates are the machine's as much as the server's.

The clients are lean asyncio ones (bench/lean_client.py) in a process of their own, timestamping
each frame as it comes off the wire: python-socketio's own client costs more per frame than the
server does, and a thousand of them measured the clients instead of the server. Starts
a private redis-server when one is on PATH (else a leased database of REDIS_URL) and a fresh
PostgreSQL database, both removed afterwards. `--quick`: 50 sockets, 5 paced, 10 burst.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import support  # noqa: E402
from bench.socket_roles import child, release, spread  # noqa: E402
from bench.sockets import raise_open_files_limit, register_users  # noqa: E402

CLIENTS_PER_PROCESS = 1000
PACED_INTERVAL = 0.2
REPORT_TIMEOUT = 60  # after the last publish, for every frame to arrive


def run_side(kind: str, url: str, server_pid: int, auth: dict, room: str, job_id: str, args) -> dict:
    """Connect the clients, publish both phases, collect what arrived where and when, and the
    server's CPU time meanwhile."""
    expected = args.paced + args.burst
    procs = [
        child("room-clients", url, size, json.dumps(auth), job_id, expected, stdin=subprocess.PIPE)
        for size in spread(args.sockets, CLIENTS_PER_PROCESS)
    ]
    held = 0
    for proc in procs:
        report = json.loads(proc.stdout.readline() or '{"held": 0}')
        held += report["held"]
        if report.get("failed"):
            print(f"  {kind} client process: {report}", file=sys.stderr, flush=True)
    time.sleep(1)
    cpu_before = cpu_seconds(server_pid)
    sent = publish(kind, room, [[args.paced, PACED_INTERVAL], [args.burst, 0]])
    arrivals = collect_reports(procs)
    cpu = cpu_seconds(server_pid) - cpu_before
    print(f"{kind}: {held} sockets in the room, {sum(c for c, _, _ in arrivals.values()):,} frames", file=sys.stderr)
    return {"held": held, "sent": sent, "arrivals": arrivals, "server_cpu_s": cpu}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def publish(kind: str, room: str, phases: list) -> list[float]:
    """Send times of the events of both phases, published by a separate process."""
    emitter = child("emit", kind, os.environ["REDIS_URL"], room, "job:status", json.dumps(phases))
    out, _ = emitter.communicate(timeout=300)
    return json.loads(out.strip().splitlines()[-1])["sent"]


def collect_reports(procs: list[subprocess.Popen]) -> dict[int, tuple[int, float, float]]:
    """Merge the clients' reports: seq -> (clients reached, first arrival, last arrival). A
    process reports once every event reached all its clients, or when told to after a timeout."""
    timer = threading.Timer(REPORT_TIMEOUT, lambda: [_tell(proc) for proc in procs])
    timer.start()
    merged: dict[int, tuple[int, float, float]] = {}
    try:
        for proc in procs:
            line = proc.stdout.readline()
            for seq, (count, first, last) in (json.loads(line)["arrivals"] if line else {}).items():
                before = merged.get(int(seq), (0, first, last))
                merged[int(seq)] = (before[0] + count, min(before[1], first), max(before[2], last))
    finally:
        timer.cancel()
        release(procs)
    return merged


def _tell(proc: subprocess.Popen) -> None:
    try:
        proc.stdin.write("report\n")
        proc.stdin.flush()
    except (BrokenPipeError, OSError):
        pass  # it already reported and left


def summarize(side: dict, paced: int, burst: int) -> dict:
    held, sent, arrivals = side["held"], side["sent"], side["arrivals"]
    to_all = [(arrivals[seq][2] - sent[seq]) * 1000 for seq in range(paced) if arrivals.get(seq, (0,))[0] >= held > 0]
    burst_seqs = range(paced, paced + burst)
    frames = sum(arrivals.get(seq, (0, 0, 0))[0] for seq in burst_seqs)
    last = max((arrivals[seq][2] for seq in burst_seqs if seq in arrivals), default=float("nan"))
    rate = frames / (last - sent[paced]) if frames else float("nan")
    delivered = sum(count for count, _, _ in arrivals.values())
    lost = held * (paced + burst) - delivered
    cpu_per_frame = side["server_cpu_s"] / delivered * 1e6 if delivered else float("nan")
    return {"held": held, "to_all_ms": to_all, "rate": rate, "lost": lost, "cpu_us": cpu_per_frame}


def measure(args) -> dict:
    from app.jobs import service as job_service
    from tests.support.web import free_port, start_web

    raise_open_files_limit()
    results = {}
    with support.service_environment(private_redis=True, WEBSOCKET_AUTH_TIMEOUT="60") as app:
        (user,) = register_users(app, 1)
        with app.app_context():
            job, _ = job_service.create_job(user["id"], "noop", {})  # no worker: it stays queued
            job_id = str(job.id)
        web = start_web({"WEBSOCKET_ASYNC_MODE": args.async_mode}, name="bench-web")
        try:
            ours = run_side("ours", web.url, web.proc.pid, {"token": user["token"]}, f"job:{job_id}", job_id, args)
        finally:
            web.stop()
        results["ours"] = summarize(ours, args.paced, args.burst)
        port = free_port()
        bare = child("bare-server", port, os.environ["REDIS_URL"], args.async_mode)
        try:
            bare.stdout.readline()
            time.sleep(0.3)
            room = f"job:{job_id}"
            side = run_side("bare", f"http://127.0.0.1:{port}", bare.pid, {"room": room}, room, "", args)
        finally:
            bare.kill()
            bare.wait(10)
        results["bare"] = summarize(side, args.paced, args.burst)
    return results


def to_rows(results: dict, args) -> list[support.Row]:
    ours, bare = results["ours"], results["bare"]
    pct = support.percentile
    sockets = f"{args.sockets:,} sockets"
    lost = f"; lost: ours {ours['lost']:,}, bare {bare['lost']:,}" if ours["lost"] or bare["lost"] else ""
    vs = f"(vs bare python-socketio{lost})"
    return [
        support.Row(
            "delivery.rate",
            f"job event frames/s, burst of {args.burst} to {sockets} in a job room {vs}",
            "frames/s",
            ours["rate"],
            bare["rate"],
            ">= 0.5",
        ),
        support.Row(
            "delivery.server-cpu",
            f"server CPU per frame delivered to {sockets}, both phases {vs}",
            "us",
            ours["cpu_us"],
            bare["cpu_us"],
            "<= 2",
        ),
        support.Row(
            "delivery.to-all-median",
            f"one job event to all {sockets}, median of {args.paced} {vs}",
            "ms",
            pct(ours["to_all_ms"], 0.5),
            pct(bare["to_all_ms"], 0.5),
            "<= 2",
        ),
        support.Row(
            "delivery.to-all-p99",
            f"one job event to all {sockets}, p99 {vs}",
            "ms",
            pct(ours["to_all_ms"], 0.99),
            pct(bare["to_all_ms"], 0.99),
        ),
    ]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 sockets, 5 paced events, 10 burst")
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--paced", type=int, default=50, help="events one by one: time to reach all sockets")
    parser.add_argument("--burst", type=int, default=1000, help="events back to back: frames received per second")
    parser.add_argument(
        "--async-mode",
        choices=support.ASYNC_MODES,
        default=support.default_async_mode(),
        help="how both servers are served (default: WEBSOCKET_ASYNC_MODE, else eventlet)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sockets, args.paced, args.burst = 50, 5, 10
    return args


def collect(quick: bool = False) -> list[support.Row]:
    """The rows of `bench/run.py`."""
    args = arguments(["--quick"] if quick else [])
    return support.in_async_mode(to_rows(measure(args), args), args.async_mode)


def main() -> None:
    args = arguments()
    support.print_rows(support.in_async_mode(to_rows(measure(args), args), args.async_mode))


if __name__ == "__main__":
    main()
