"""subscribe:job / unsubscribe:job acknowledgements, and a server that shrugs off bad input."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.support.api import create_job


@pytest.fixture()
def job(client, user) -> dict:
    """A queued job of `user` (no worker runs in these tests unless one asks for it)."""
    response = create_job(client, user["headers"], payload={"steps": 1}, options={"startAfter": 3600})
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def test_subscribe_acks_with_the_job_as_the_rest_api_shows_it(open_socket, api, user, job):
    socket = open_socket(user["token"])
    ack = socket.call("subscribe:job", {"jobId": job["id"]})
    assert ack["ok"] is True
    assert ack["job"] == api("GET", f"/api/jobs/{job['id']}", user["token"]).json()


def test_subscribe_to_an_unknown_or_foreign_job_is_not_found(open_socket, user, other_user, job):
    stranger = open_socket(other_user["token"])
    assert stranger.call("subscribe:job", {"jobId": job["id"]}) == {"ok": False, "error": "not_found"}
    assert stranger.call("subscribe:job", {"jobId": str(uuid.uuid4())}) == {"ok": False, "error": "not_found"}


@pytest.mark.parametrize(
    "args",
    [
        ({},),
        ({"jobId": None},),
        ({"jobId": "not-a-uuid"},),
        ({"jobId": 42},),
        ({"jobId": {"nested": True}},),
        ({"jobId": "x" * 10_000},),
        ("a string",),
        ([1, 2, 3],),
        (None,),
        (123,),
        ({"jobId": "nope"}, "extra", "arguments"),
    ],
)
def test_malformed_payloads_get_an_error_ack_and_the_socket_keeps_working(open_socket, user, job, args):
    socket = open_socket(user["token"])
    for event in ("subscribe:job", "unsubscribe:job"):
        ack = socket.call(event, *args)
        assert ack["ok"] is False and ack["error"] in ("invalid_payload", "not_found"), ack
    assert socket.call("subscribe:job", {"jobId": job["id"]})["ok"] is True
    assert socket.connected


def test_events_before_authentication_get_an_error_ack(open_socket, user, job):
    anonymous = open_socket()
    assert anonymous.call("subscribe:job", {"jobId": job["id"]}) == {"ok": False, "error": "unauthorized"}
    assert anonymous.call("unsubscribe:job", {"jobId": job["id"]}) == {"ok": False, "error": "unauthorized"}
    anonymous.emit("no:such:event", {"x": 1})  # ignored
    # Authenticating afterwards unlocks the same socket.
    assert anonymous.call("authenticate", {"token": user["token"]})["ok"] is True
    assert anonymous.call("subscribe:job", {"jobId": job["id"]})["ok"] is True


def test_oversized_message_disconnects_and_the_server_stays_up(open_socket, web, user, job):
    socket = open_socket(user["token"])
    socket.wait_for("authenticated", timeout=5)
    socket.emit("subscribe:job", {"jobId": job["id"], "padding": "x" * 200_000})
    assert socket.wait_disconnected(10)
    assert web.alive()
    assert requests.get(f"{web.url}/api/health", timeout=5).status_code == 200
    again = open_socket(user["token"])
    assert again.call("subscribe:job", {"jobId": job["id"]})["ok"] is True


def test_unsubscribe_acks_and_stops_the_job_events(open_socket, client, user, job):
    leaver, watcher = open_socket(user["token"]), open_socket(user["token"])
    for socket in (leaver, watcher):
        assert socket.call("subscribe:job", {"jobId": job["id"]})["ok"] is True
    assert leaver.call("unsubscribe:job", {"jobId": job["id"]}) == {"ok": True}
    # Cancelling the queued job emits job:status "cancelled" to the job's subscribers.
    assert client.delete(f"/api/jobs/{job['id']}", headers=user["headers"]).status_code == 200
    status = watcher.wait_for("job:status", lambda data: data["jobId"] == job["id"])
    assert status == {"jobId": job["id"], "status": "cancelled", "progress": None}
    # The user's notification reaches both sockets (it goes to the user, not to the job) ...
    leaver.wait_for("notification", lambda n: n["type"] == "job_cancelled" and n["data"]["jobId"] == job["id"])
    # ... and the server relayed the job's event (published after the notification) to the watcher
    # at the same moment it would have to the leaver; half a second covers the leaver's delivery.
    time.sleep(0.5)
    assert leaver.job_events(job["id"]) == []


def test_unsubscribe_from_a_job_never_subscribed_is_fine(open_socket, user):
    socket = open_socket(user["token"])
    assert socket.call("unsubscribe:job", {"jobId": str(uuid.uuid4())}) == {"ok": True}
