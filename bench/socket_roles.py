"""The processes the socket benchmarks start, and the client that times events off the wire.

Each role runs as `python bench/socket_roles.py ROLE ARGS...` (see `child()`), so that clients,
servers and emitters each get a process (and a core's share) of their own:

  clients       hold N idle clients until stdin closes
  room-clients  N lean clients in one room (ours: authenticated, then `subscribe:job`), counting
                when each numbered event reaches each; reports once all arrived or told on stdin
  bare-server   a bare python-socketio server: eventlet or gevent, Redis message queue, room from auth data
  emit          publish numbered events to a room through the Redis message queue, as workers do
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

BARE_CHANNEL = "bench-bare-socketio"  # not ours: the two servers must not relay each other's events
CONNECTS_IN_FLIGHT = 25  # per client process; eventlet.listen()'s accept backlog is 50
# The clients are lean asyncio ones (bench/lean_client.py): python-socketio's client costs more per
# connection and per frame than a server does, and thousands of them measure the clients.
WARMUP_EVENTS = 10
PHASE_PAUSE = 1.0  # seconds between two phases of events


# --------------------------------------------------------------------------- roles


def role_clients(url: str, count: int, auth: dict) -> None:
    """Hold `count` idle lean clients open (answering the server's pings) until stdin closes."""
    held, failed = [], []

    async def main() -> None:
        await _connect_all(url, count, auth, held, failed)
        print(json.dumps({"held": len(held), "failed": len(failed), "errors": sorted(set(failed))[:3]}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.new_event_loop().run_until_complete(main())
    os._exit(0)  # without closing thousands of sockets one by one


async def _connect_all(url: str, count: int, auth: dict, held: list, failed: list, then=None) -> None:
    """Connect `count` lean clients, CONNECTS_IN_FLIGHT at a time, each read by a task of its own;
    `then(sock)` (a coroutine function) runs once each is connected."""
    from bench.lean_client import LeanSocket

    gate, readers = asyncio.Semaphore(CONNECTS_IN_FLIGHT), []

    async def join() -> None:
        async with gate:
            try:
                sock = await LeanSocket.connect(url, auth)
                readers.append(asyncio.create_task(sock.run()))
                if then is not None:
                    await then(sock)
                held.append(sock)
            except Exception as exc:
                failed.append(f"{type(exc).__name__}: {str(exc)[:80]}")

    await asyncio.gather(*(join() for _ in range(count)))
    _reading.extend(readers)  # referenced for as long as the process lives


_reading: list = []


def role_room_clients(url: str, count: int, auth: dict, job_id: str, expected: int) -> None:
    """`count` lean clients in one room (see bench/lean_client.py); for every event numbered
    0..expected-1, how many clients got it and when the first and the last did (wall clock,
    comparable across local processes). Reports once all arrived, or when a line comes on stdin."""
    arrivals: dict[int, list[float]] = {}  # seq -> [count, first, last]
    received = [0]
    prefix = '42["job:status"'

    def on_frame(text: str) -> None:
        if text.startswith(prefix):
            at = time.time()
            start = text.index('"seq":', len(prefix)) + 6
            seq = int(text[start : text.index(",", start)])
            if seq >= 0:
                entry = arrivals.setdefault(seq, [0, at, at])
                entry[0] += 1
                entry[2] = at
                received[0] += 1

    async def subscribe(sock) -> None:
        sock.on_frame = on_frame
        if job_id:
            ack = await sock.call("subscribe:job", {"jobId": job_id})
            if not (isinstance(ack, dict) and ack.get("ok")):
                raise RuntimeError(f"subscribe:job refused: {ack}")

    async def main() -> None:
        held, failed = [], []
        await _connect_all(url, count, auth, held, failed, subscribe)
        print(json.dumps({"held": len(held), "failed": len(failed), "errors": sorted(set(failed))[:3]}), flush=True)
        told = asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        while received[0] < expected * len(held) and not told.done():
            await asyncio.sleep(0.05)
        print(json.dumps({"held": len(held), "arrivals": arrivals}), flush=True)

    asyncio.new_event_loop().run_until_complete(main())
    os._exit(0)  # without waiting for the stdin reader thread or closing a thousand sockets


def role_bare_server(port: int, redis_url: str, async_mode: str = "eventlet") -> None:
    """A bare python-socketio server: eventlet or gevent (as our web process is served), Redis
    message queue, rooms from the auth data."""
    if async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        import eventlet

        eventlet.monkey_patch()
    import socketio

    server = socketio.Server(
        async_mode=async_mode, client_manager=socketio.RedisManager(redis_url, channel=BARE_CHANNEL)
    )

    @server.event
    def connect(sid, _environ, auth=None):
        if isinstance(auth, dict) and auth.get("room"):
            server.enter_room(sid, auth["room"])

    print("bare: serving", flush=True)
    if async_mode == "gevent":
        from gevent.pool import Pool
        from gevent.pywsgi import WSGIServer

        WSGIServer(("127.0.0.1", port), socketio.WSGIApp(server), log=None, spawn=Pool(20_000)).serve_forever()
        return
    import eventlet.wsgi

    listener = eventlet.listen(("127.0.0.1", port))
    eventlet.wsgi.server(listener, socketio.WSGIApp(server), log_output=False, max_size=20_000)


def role_emit(kind: str, redis_url: str, room: str, event: str, phases: list) -> None:
    """Publish numbered events to `room`, each stamped with its send time, then print the send
    times. `phases` is [[count, interval], ...]: `count` events one every `interval` seconds (0: as
    fast as the publisher goes), numbered on from one phase to the next, with a pause between
    phases for the previous one to arrive. Ours go through `app.platform.realtime.emit`, the
    function Celery tasks call; the bare server's through a write-only `socketio.RedisManager`."""
    if kind == "ours":
        from app import create_app
        from app.platform import realtime

        app = create_app()  # as a Celery worker builds it: no socket server, a write-only emitter
        with app.app_context():
            sent = _emit_numbered(lambda data: realtime.emit(event, data, room), room, phases)
    else:
        import socketio

        manager = socketio.RedisManager(redis_url, channel=BARE_CHANNEL, write_only=True)
        sent = _emit_numbered(lambda data: manager.emit(event, data, room=room), room, phases)
    print(json.dumps({"sent": sent}), flush=True)


def _emit_numbered(emit, room: str, phases: list) -> list[float]:
    """Send times indexed by event number, after a paced warm-up (numbered below zero, not timed)."""
    job_id = room.removeprefix("job:")
    total = sum(count for count, _ in phases)
    sent: list[float] = []

    def publish(seq: int) -> float:
        at = time.time()
        progress = {"current": max(seq, 0), "total": total, "message": "benchmark"}
        emit({"jobId": job_id, "status": "active", "progress": progress, "seq": seq, "sentAt": at})
        return at

    for seq in range(-WARMUP_EVENTS, 0):
        publish(seq)
        time.sleep(0.05)
    for index, (count, interval) in enumerate(phases):
        if index:
            time.sleep(PHASE_PAUSE)
        for _ in range(count):
            sent.append(publish(len(sent)))
            if interval:
                time.sleep(interval)
    return sent


# --------------------------------------------------------------------------- the parent's side


def child(role: str, *args: object, stdin=None) -> subprocess.Popen:
    """This script in one of its roles; its stdout is a pipe of JSON lines."""
    command = [sys.executable, __file__, role, *map(str, args)]
    # eventlet warns on import that it is deprecated, once per process: keep the output readable.
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdin=stdin, stdout=subprocess.PIPE, text=True)


def spread(count: int, per_process: int) -> list[int]:
    """`count` clients as evenly as possible over processes of at most `per_process`."""
    processes = max(1, -(-count // per_process))
    return [count // processes + (1 if i < count % processes else 0) for i in range(processes)]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def release(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        try:
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


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


ROLES = {
    "clients": (role_clients, (str, int, json.loads)),
    "room-clients": (role_room_clients, (str, int, json.loads, str, int)),
    "bare-server": (role_bare_server, (int, str, str)),
    "emit": (role_emit, (str, str, str, str, json.loads)),
}

if __name__ == "__main__":
    function, casts = ROLES[sys.argv[1]]
    function(*(cast(value) for cast, value in zip(casts, sys.argv[2:], strict=False)))
