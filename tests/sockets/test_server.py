"""The web process itself: cooperative database calls under eventlet and gevent, a start-up that connects to
nothing at import, refuses to run without its services, closes stubborn sockets, shuts down cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg2
import requests
import websocket

from app.sockets.presence import PUBLISH_EVERY
from tests.sockets.clients import RecordingClient, wait_for_count
from tests.sockets.conftest import AUTH_TIMEOUT, PING_MS
from tests.support.api import create_job
from tests.support.processes import ROOT
from tests.support.web import start_web

CLOSED_PORT_ENV = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "REDIS_URL": "redis://127.0.0.1:9/0"}


def test_a_query_waiting_on_a_lock_does_not_stall_other_sockets(open_socket, client, web, user):
    """psycopg2 is green under eventlet and gevent: while one socket's authentication waits for Postgres,
    the process keeps answering everyone else. A socket that gives up meanwhile leaves no trace."""
    wait_for_count(web.url, 0)
    job_id = create_job(client, user["headers"], options={"startAfter": 3600}).get_json()["id"]
    ready = open_socket(user["token"])
    ready.wait_for("authenticated", timeout=5)
    locker = psycopg2.connect(os.environ["DATABASE_URL"].replace("+psycopg2", ""))
    try:
        with locker.cursor() as cursor:  # psycopg2 opens a transaction: the lock holds until rollback
            cursor.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        blocked = open_socket(connect=False)
        connecting = threading.Thread(target=blocked.connect, args=(user["token"],), daemon=True)
        connecting.start()
        quitter = PollingSocket(web)
        threading.Thread(target=quitter.post, args=("40" + json.dumps({"token": user["token"]}),), daemon=True).start()
        time.sleep(0.5)  # both connect handlers now wait on the lock
        quitter.post("1")  # engine.io close, on a request of its own
        started = time.monotonic()
        assert ready.call("subscribe:job", {"jobId": job_id}, timeout=5)["ok"] is True
        assert requests.get(f"{ready.url}/api/health", timeout=5).status_code == 200
        assert time.monotonic() - started < 1.0
        assert not blocked.connected
    finally:
        locker.rollback()
        locker.close()
    connecting.join(10)
    assert blocked.wait_for("authenticated", timeout=5) == {"userId": user["id"]}
    time.sleep(PUBLISH_EVERY + 0.5)
    wait_for_count(web.url, 2)  # ready and blocked; not the one that left mid-connect


def test_a_long_polling_client_that_leaves_is_no_longer_counted_after_the_ping_timeout(open_socket, web, user):
    """A polling-only client that disconnects right after a message arrived. Its goodbye (the
    socket.io DISCONNECT and engine.io CLOSE of its last POST) is a race with its own pending
    GET: eventlet usually sees it at once, gevent usually loses it, and either can lose it under
    load. What the server guarantees is the ping timeout: a client it no longer hears from stops
    being counted within one ping interval plus the ping timeout."""
    wait_for_count(web.url, 0)
    leaving = open_socket(user["token"], transports=("polling",))
    leaving.wait_for("authenticated", timeout=5)
    leaving.close()
    wait_for_count(web.url, 0, timeout=2 * PING_MS / 1000 + PUBLISH_EVERY + 2)


def test_importing_the_entry_point_connects_to_nothing():
    """Building the app (as `import wsgi` does) must work with Postgres and Redis unreachable."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "import wsgi; print('imported', wsgi.app.name)"],
        cwd=ROOT,
        env={**os.environ, **CLOSED_PORT_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "imported" in done.stdout
    assert time.monotonic() - started < 30


def test_web_refuses_to_start_without_redis_in_one_line():
    done = subprocess.run(
        [sys.executable, "wsgi.py"],
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": CLOSED_PORT_ENV["REDIS_URL"], "PORT": "1", "STARTUP_WAIT_SECONDS": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "REDIS_URL: cannot reach redis://127.0.0.1:9/0" in done.stderr
    assert "Traceback" not in done.stderr


class PollingSocket:
    """A bare Engine.IO v4 long-polling session, spoken by hand."""

    def __init__(self, web) -> None:
        self.url = f"{web.url}/socket.io/?EIO=4&transport=polling"
        opened = requests.get(self.url, timeout=5).text  # "0{...sid...}"
        self.url += "&sid=" + json.loads(opened[1:])["sid"]

    def post(self, payload: str) -> None:
        requests.post(self.url, data=payload, timeout=30)


def raw_socket(web, timeout: float = 10) -> websocket.WebSocket:
    """A bare WebSocket speaking Engine.IO v4 by hand, past the engine.io handshake."""
    ws = websocket.create_connection(f"ws://127.0.0.1:{web.port}/socket.io/?EIO=4&transport=websocket", timeout=timeout)
    assert ws.recv().startswith("0")  # engine.io open
    return ws


def test_a_raw_client_ignoring_the_disconnect_still_loses_its_connection(web):
    """The socket.io DISCONNECT is advisory; the transport is closed as well."""
    ws = raw_socket(web, timeout=AUTH_TIMEOUT + 5)
    try:
        ws.send("40")  # socket.io connect, no auth
        assert ws.recv().startswith("40")
        frames = []
        deadline = time.monotonic() + AUTH_TIMEOUT + 5
        while time.monotonic() < deadline:
            try:
                frame = ws.recv()
            except (websocket.WebSocketConnectionClosedException, ConnectionError):
                break
            if not frame:  # close frame
                break
            frames.append(frame)
        else:
            raise AssertionError(f"connection still open; frames {frames}")
    finally:
        ws.close()
    assert frames[0] == "42" + json.dumps(
        ["unauthorized", {"message": "Authentication timeout"}], separators=(",", ":")
    )
    assert "41" in frames


def test_sigterm_closes_sockets_and_stops_being_counted(redis_client, user, async_mode):
    server = start_web({"WEBSOCKET_ASYNC_MODE": async_mode}, name=f"web-term-{async_mode}")
    socket = RecordingClient(server.url)
    try:
        socket.connect(user["token"]).wait_for("authenticated", timeout=5)
        key = _wait_for_node_key(redis_client, server.proc.pid)
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(10) == 0
        assert socket.wait_disconnected(5)
        assert redis_client.get(key) is None  # gone now, not in NODE_TTL seconds
    finally:
        socket.close()
        server.stop()


def _wait_for_node_key(redis_client, pid: int, timeout: float = 10) -> str:
    """The Redis key where the web process `pid` publishes its count, once it has published."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for key in redis_client.scan_iter("jobsvc:ws:node:*"):
            if key.endswith(f":{pid}"):
                return key
        time.sleep(0.2)
    raise AssertionError(f"web process {pid} never published its socket count")


def test_threading_mode_serves_the_same_events(client, user, worker):
    """WEBSOCKET_ASYNC_MODE=threading (development) relays a worker's events as eventlet does."""
    server = start_web({"WEBSOCKET_ASYNC_MODE": "threading"}, name="web-threading")
    socket = RecordingClient(server.url, transports=("polling", "websocket"))
    try:
        assert socket.connect(user["token"]).wait_for("authenticated", timeout=5) == {"userId": user["id"]}
        job_id = create_job(client, user["headers"], payload={"steps": 2}).get_json()["id"]
        assert socket.call("subscribe:job", {"jobId": job_id})["ok"] is True
        assert socket.wait_for("job:completed", lambda data: data["jobId"] == job_id, timeout=30)["result"] == {
            "steps": 2
        }
    finally:
        socket.close()
        server.stop()


def test_unknown_async_mode_is_one_clear_line():
    done = subprocess.run(
        [sys.executable, "wsgi.py"],
        cwd=ROOT,
        env={**os.environ, "WEBSOCKET_ASYNC_MODE": "tornado"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "configuration error: WEBSOCKET_ASYNC_MODE must be one of eventlet, gevent, threading, got 'tornado'"
    ]
