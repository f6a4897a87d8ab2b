"""Two web processes on one Redis: events cross between them, and the health count adds up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sockets.clients import wait_for_count
from tests.sockets.conftest import web_settings
from tests.support.web import WebServer, start_web

pytestmark = pytest.mark.usefixtures("worker")


def test_socket_on_one_process_sees_a_job_created_through_the_other(open_socket, api, web_b, user):
    socket = open_socket(user["token"], server=web_b)
    created = api("POST", "/api/jobs", user["token"], json={"type": "test-probe", "payload": {"steps": 2}})
    assert created.status_code == 202
    job_id = created.json()["id"]
    assert socket.call("subscribe:job", {"jobId": job_id})["ok"] is True
    assert socket.wait_for("job:completed", lambda data: data["jobId"] == job_id, timeout=30)["result"] == {"steps": 2}
    # The notification of the job's creation came from process A's REST handler, through Redis.
    socket.wait_for("notification", lambda n: n["type"] == "job_queued" and n["data"]["jobId"] == job_id)


@pytest.fixture()
def counted_pair(async_mode, empty_redis_url) -> Iterator[tuple[WebServer, WebServer]]:
    """Two web processes alone on a Redis database: the count starts at 0, whatever sockets other
    web processes of the session still hold."""
    settings = {**web_settings(async_mode), "REDIS_URL": empty_redis_url}
    pair = tuple(start_web(settings, name=f"web-count-{side}-{async_mode}") for side in "ab")
    yield pair
    for server in pair:
        server.stop()


def test_health_counts_the_clients_of_every_web_process(open_socket, counted_pair, user, other_user):
    web, web_b = counted_pair
    wait_for_count(web.url, 0)
    on_a = [open_socket(user["token"], server=web) for _ in range(3)]
    on_b = [open_socket(other_user["token"], server=web_b) for _ in range(4)]
    anonymous = open_socket(server=web_b)  # not authenticated: not a client yet
    for socket in on_a + on_b:
        socket.wait_for("authenticated", timeout=5)

    body = wait_for_count(web.url, 7)
    assert body["status"] == "healthy" and body["webProcesses"] >= 2
    assert wait_for_count(web_b.url, 7)["connectedClients"] == 7  # either process answers the same

    for socket in on_b[:2]:
        socket.close()
    anonymous.close()
    wait_for_count(web.url, 5)
