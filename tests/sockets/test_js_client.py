"""The official JavaScript client (socket.io-client, tests/js/watch-jobs.mjs) against the server."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.support.processes import ROOT

pytestmark = pytest.mark.usefixtures("worker")

JS_DIR = ROOT / "tests" / "js"
SCRIPT = JS_DIR / "watch-jobs.mjs"


@pytest.fixture(scope="module")
def js_client() -> Path:
    """tests/js with its node_modules installed, or a skip saying why it cannot be."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the JavaScript client test")
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        try:
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True, timeout=300
            )
        except subprocess.TimeoutExpired:
            pytest.skip("npm install timed out (is the npm registry reachable?)")
        if done.returncode != 0:
            pytest.skip(f"npm install failed (is the npm registry reachable?): {done.stderr.strip()[-500:]}")
    return JS_DIR


class Watcher:
    """watch-jobs.mjs running in the background; its JSON lines are collected as they come."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT), *args], cwd=JS_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[dict] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            with self._changed:
                self.lines.append(json.loads(raw))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, match, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in self.lines if match(line)), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and not self._pending()):
                    stderr = self.proc.stderr.read() if self.proc.poll() is not None else ""
                    raise AssertionError(f"not seen in {timeout}s; lines {self.lines}; stderr {stderr}")
                self._changed.wait(min(remaining, 0.5))

    def _pending(self) -> bool:
        return not self.proc.stdout.closed and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def events(lines: list[dict], job_id: str) -> list[tuple[str, dict]]:
    return [
        (line["event"], line["data"])
        for line in lines
        if line["type"] == "event" and line["event"].startswith("job:") and line["data"]["jobId"] == job_id
    ]


def test_js_client_follows_a_job_from_queued_notification_to_completed(js_client, web, api, user):
    watcher = Watcher("--url", web.url, "--token", user["token"], "--follow")
    try:
        watcher.wait_for(lambda line: line.get("event") == "authenticated", timeout=15)
        created = api(
            "POST", "/api/jobs", user["token"], json={"type": "test-probe", "payload": {"steps": 5, "stepSeconds": 0.2}}
        )
        job_id = created.json()["id"]
        watcher.wait_for(lambda line: line.get("event") == "job:completed" and line["data"]["jobId"] == job_id)
        final = api("GET", f"/api/jobs/{job_id}", user["token"]).json()
    finally:
        watcher.stop()

    lines = watcher.lines
    # The client reports 'connect' first even though the server sent `authenticated` from its
    # connect handler: socket.io-client buffers events until the connection is acknowledged.
    assert lines[0]["type"] == "connect"
    assert lines[1] == {"type": "event", "event": "authenticated", "data": {"userId": user["id"]}}
    queued = next(line for line in lines if line.get("event") == "notification")
    assert queued["data"]["type"] == "job_queued" and queued["data"]["data"]["jobId"] == job_id
    ack = next(line for line in lines if line["type"] == "ack")
    assert ack["data"]["ok"] is True and ack["data"]["job"]["id"] == job_id
    assert ack["data"]["job"]["status"] in ("queued", "active")

    seen = events(lines, job_id)
    order = {"queued": 0, "active": 1, "completed": 2}
    timeline = [ack["data"]["job"]["status"], *(data["status"] for name, data in seen if name == "job:status")]
    assert timeline == sorted(timeline, key=order.get) and timeline[-1] == "completed", timeline
    assert seen[-2] == ("job:status", {"jobId": job_id, "status": "completed", "progress": final["progress"]})
    assert seen[-1] == ("job:completed", {"jobId": job_id, "result": {"steps": 5}})
    assert final["status"] == "completed"
    notifications = [line["data"]["type"] for line in lines if line.get("event") == "notification"]
    assert notifications[:1] == ["job_queued"] and "job_completed" in notifications


def test_js_client_with_a_bad_token_gets_connect_error(js_client, web, user):
    watcher = Watcher("--url", web.url, "--token", user["refresh"])
    try:
        error = watcher.wait_for(lambda line: line["type"] == "connect_error", timeout=15)
        assert watcher.proc.wait(10) == 2
    finally:
        watcher.stop()
    assert error == {
        "type": "connect_error",
        "message": "unauthorized",
        "data": {"message": "Invalid or expired token"},
    }
