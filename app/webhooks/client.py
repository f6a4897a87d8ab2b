"""One webhook HTTP attempt, bounded in time and size, to an address checked just before.

The host is resolved once and every address checked (app/webhooks/ssrf.py); the connection goes
to a checked address itself while the request keeps the URL's Host header and TLS name (SNI and
certificate check), so a resolver that answers differently a moment later is never asked. The
peer address of the socket is checked again before anything is sent. Redirects are not followed
(a 3xx is a failed attempt). A timer shuts the socket down when WEBHOOK_TIMEOUT_SECONDS have
passed since the attempt began, so a receiver that trickles its answer byte by byte cannot hold
the worker longer than that. At most READ_LIMIT bytes of the answer are read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError

from app.webhooks import ssrf

READ_LIMIT = 64 * 1024
USER_AGENT = "jobsvc-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the receiver's HTTP status, None when no answer came
    body: bytes  # at most READ_LIMIT bytes of the answer
    duration_ms: int
    error: str | None  # why the attempt failed before an answer (never the secret)
    refused: bool = False  # the target is not allowed: trying again will not help


class Deadline:
    """The wall-clock limit of one attempt; past it, every socket handed to `watch` is shut down."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0 or self.expired:
            raise TimeoutError(f"no answer within {self.seconds:g} s")
        return left

    def passed(self) -> bool:
        """The limit is reached, whether the timer or a socket's own timeout noticed it first."""
        return self.expired or time.monotonic() >= self.ends

    def watch(self, sock: socket.socket) -> None:
        # A duplicate of the descriptor: ours to shut down and close, whatever urllib3 does with its own.
        with self._lock:
            self._watched.append(sock.dup())
            if self.expired:
                self._shutdown_all()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shutdown_all()

    def _shutdown_all(self) -> None:
        for sock in self._watched:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._watched:
                sock.close()
            self._watched.clear()


class _PinnedMixin:
    """Connects to one checked address instead of resolving the host again."""

    def __init__(self, *args, address: ssrf.IPAddress, allowed: ssrf.AllowList, deadline: Deadline, **kwargs):
        self._address, self._allowed, self._deadline = address, allowed, deadline
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        family = socket.AF_INET6 if self._address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._deadline.watch(sock)
            sock.settimeout(self._deadline.remaining())
            sock.connect((str(self._address), self.port))
            peer = ipaddress.ip_address(sock.getpeername()[0].split("%")[0])
            if peer != self._address:
                raise ssrf.RefusedTarget(f"connected to {peer}, not the checked address {self._address}")
            ssrf.check_address(peer, self._allowed)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        return sock


class PinnedHTTPConnection(_PinnedMixin, HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedMixin, HTTPSConnection):
    pass


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, allowed: ssrf.AllowList) -> Outcome:
    """POST `body` to `url` once; never raises for what the network or the receiver does."""
    started = time.monotonic()
    deadline = Deadline(timeout)
    try:
        target, addresses = ssrf.check(url, allowed, timeout=deadline.remaining())
        status, answer = _exchange(target, addresses[0], body, headers, allowed, deadline)
        return Outcome(status, answer, _ms_since(started), None)
    except ssrf.RefusedTarget as exc:
        return Outcome(None, b"", _ms_since(started), f"Refused: {exc}", refused=True)
    except (OSError, HTTPError, http.client.HTTPException, ValueError) as exc:
        error = f"no answer within {timeout:g} s" if deadline.passed() else _describe(exc)
        return Outcome(None, b"", _ms_since(started), error)
    finally:
        deadline.close()


def _exchange(target: ssrf.Target, address, body: bytes, headers: dict, allowed, deadline: Deadline):
    cls = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    conn = cls(
        target.host, target.port, timeout=deadline.remaining(), address=address, allowed=allowed, deadline=deadline
    )
    try:
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "Host": target.host_header,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Accept-Encoding": "identity",  # no decompression of what a stranger sends
                "Connection": "close",
            },
            preload_content=False,
            decode_content=False,
        )
        response = conn.getresponse()
        answer = _read_limited(response, deadline)
        return response.status, answer
    finally:
        conn.close()


def _read_limited(response, deadline: Deadline) -> bytes:
    chunks, size = [], 0
    while size < READ_LIMIT:
        deadline.remaining()
        chunk = response.read(min(8192, READ_LIMIT - size), decode_content=False)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
