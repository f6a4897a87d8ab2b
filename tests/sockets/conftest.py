"""Fixtures of the socket tests: real web servers (`python wsgi.py`, eventlet) started once per
session, and clients that are always closed after their test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from tests.sockets.clients import RecordingClient
from tests.support.web import WebServer, start_web

# Short enough to keep the timeout tests quick, long enough for a slow CI machine to authenticate.
AUTH_TIMEOUT = 2


@pytest.fixture(scope="session")
def web(database) -> Iterator[WebServer]:
    """The main web server; sockets must authenticate within AUTH_TIMEOUT seconds."""
    server = start_web({"WEBSOCKET_AUTH_TIMEOUT": str(AUTH_TIMEOUT)}, name="web-a")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def web_b(database) -> Iterator[WebServer]:
    """A second web process on the same Redis and Postgres."""
    server = start_web({"WEBSOCKET_AUTH_TIMEOUT": str(AUTH_TIMEOUT)}, name="web-b")
    yield server
    server.stop()


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
