"""A real HTTP receiver on loopback whose answers a test scripts, recording every request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    trickle: float = 0.0  # > 0: send the status line one byte at a time, this far apart, forever


@dataclass
class Request:
    path: str
    headers: dict
    body: bytes
    at: float


class Receiver:
    """Answers requests in the scripted order; once the script is used up, with `default`."""

    def __init__(self, script: list[Answer] | None = None, default: Answer | None = None):
        self.script = list(script or [])
        self.default = default or Answer()
        self.requests: list[Request] = []
        self.arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _next(self) -> Answer:
        with self.arrived:
            return self.script.pop(0) if self.script else self.default

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.arrived:
                    receiver.requests.append(Request(self.path, dict(self.headers), body, time.monotonic()))
                    receiver.arrived.notify_all()
                answer = receiver._next()
                if answer.trickle:
                    self._trickle(answer.trickle)
                    return
                time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the sender gave up waiting (its time limit): nothing left to answer

            def _trickle(self, interval: float):
                try:
                    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(interval)
                except OSError:
                    pass  # the sender hung up: that is the point

        return Handler

    def wait_for(self, count: int, timeout: float = 30) -> list[Request]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.requests)} requests arrived, expected {count}")
                self.arrived.wait(left)
            return list(self.requests)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
