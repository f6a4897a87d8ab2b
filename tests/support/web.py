"""Web server processes (`python wsgi.py`) for the socket tests, each on a free port.

A server inherits the test environment that tests/conftest.py put in os.environ (fresh database,
Redis db 13, test JWT secret), plus whatever a test adds, e.g. a short WEBSOCKET_AUTH_TIMEOUT.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import requests

from tests.support.processes import _spawn, read_log, stop, wait_for_log

# wsgi.py prints this line right before it starts serving.
READY_LINE = "web: serving on"


@dataclass
class WebServer:
    """One running `python wsgi.py` process."""

    proc: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return read_log(self.proc)

    def stop(self) -> int | None:
        return stop(self.proc, timeout=10)


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web(env: dict[str, str] | None = None, name: str = "web", timeout: float = 60) -> WebServer:
    """Start `python wsgi.py` on a free port and wait until it answers GET /api/health."""
    port = free_port()
    proc = _spawn([sys.executable, "wsgi.py"], {"PORT": str(port), "HOST": "127.0.0.1", **(env or {})}, log_name=name)
    server = WebServer(proc, port)
    wait_for_log(proc, READY_LINE, timeout=timeout)
    wait_until_serving(server, timeout=timeout)
    return server


def wait_until_serving(server: WebServer, timeout: float = 30) -> None:
    """The log line comes just before the listening socket exists: poll until HTTP answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"web server exited ({server.proc.returncode}):\n{server.log()[-4000:]}")
        try:
            if requests.get(f"{server.url}/api/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"web server on port {server.port} did not answer in {timeout}s:\n{server.log()[-4000:]}")
