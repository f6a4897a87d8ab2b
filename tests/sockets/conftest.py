"""Fixtures of the socket tests: real web servers (`python wsgi.py`) started once per session and
async mode, and clients that are always closed after their test.

Every test that uses a web server runs under each of ASYNC_MODES: eventlet (the default) and
gevent are served by different WSGI servers and WebSocket implementations, and both must keep
the contract. `SOCKET_ASYNC_MODES=gevent` (comma-separated) narrows the run to some of them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.sockets.clients import RecordingClient
from tests.support.web import WebServer, start_web

# Short enough to keep the timeout tests quick, long enough for a slow CI machine to authenticate.
AUTH_TIMEOUT = 2
PING_MS = 4000
ASYNC_MODES = tuple(
    mode.strip() for mode in os.environ.get("SOCKET_ASYNC_MODES", "eventlet,gevent").split(",") if mode.strip()
)


@pytest.fixture(scope="session", params=ASYNC_MODES)
def async_mode(request) -> str:
    """The WEBSOCKET_ASYNC_MODE of the web servers below; pytest runs one mode's tests, then the other's."""
    return request.param


@pytest.fixture(scope="session")
def web(database, async_mode) -> Iterator[WebServer]:
    """The main web server; sockets must authenticate within AUTH_TIMEOUT seconds."""
    server = start_web(web_settings(async_mode), name=f"web-a-{async_mode}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def web_b(database, async_mode) -> Iterator[WebServer]:
    """A second web process on the same Redis and Postgres."""
    server = start_web(web_settings(async_mode), name=f"web-b-{async_mode}")
    yield server
    server.stop()


def web_settings(async_mode: str) -> dict[str, str]:
    # Short pings: a socket whose goodbye was lost (see test_server.py) is dropped within
    # PING_MS * 2, not a minute and a half later, and cannot skew a later test's counts.
    return {
        "WEBSOCKET_AUTH_TIMEOUT": str(AUTH_TIMEOUT),
        "WEBSOCKET_ASYNC_MODE": async_mode,
        "WEBSOCKET_PING_INTERVAL": str(PING_MS),
        "WEBSOCKET_PING_TIMEOUT": str(PING_MS),
    }


@pytest.fixture()
def open_socket(web) -> Iterator[Callable[..., RecordingClient]]:
    """`open_socket(token=..., server=web_b, connect=False, transports=(...))` -> a client,
    connected unless `connect=False`; all of them are closed after the test."""
    clients: list[RecordingClient] = []

    def open_(token: str | None = None, server: WebServer | None = None, connect: bool = True, **kwargs):
        client = RecordingClient((server or web).url, **kwargs)
        clients.append(client)
        if connect:
            client.connect(token)
        return client

    yield open_
    for client in clients:
        client.close()


@pytest.fixture()
def api(web) -> Callable[..., requests.Response]:
    """REST calls to the web server process itself: `api("GET", "/api/jobs/1", token)`."""

    def call(method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, web.url + path, headers=headers, timeout=10, **kwargs)

    return call
