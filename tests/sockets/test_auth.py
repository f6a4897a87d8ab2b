"""Socket authentication, as a client sees it: on connect, by event, timeouts, expiry."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
import socketio
from flask_jwt_extended import create_access_token

from tests.sockets.conftest import AUTH_TIMEOUT
from tests.support.api import create_job


def short_token(app, user_id: str, seconds: float) -> str:
    """An access token of `user_id` that expires in `seconds` (same JWT_SECRET_KEY as the server)."""
    with app.app_context():
        return create_access_token(identity=user_id, expires_delta=timedelta(seconds=seconds))


def test_connect_with_token_is_authenticated(open_socket, user):
    client = open_socket(user["token"])
    assert client.wait_for("authenticated", timeout=5) == {"userId": user["id"]}
    assert client.connected


def test_connect_with_token_over_long_polling_is_authenticated(open_socket, user):
    client = open_socket(user["token"], transports=("polling", "websocket"))
    assert client.wait_for("authenticated", timeout=5) == {"userId": user["id"]}


@pytest.mark.parametrize("kind", ["garbage", "tampered", "expired", "refresh", "empty", "not_a_string"])
def test_connect_with_a_bad_token_is_refused(open_socket, app, user, kind):
    token = {
        "garbage": "not-a-jwt",
        "tampered": user["token"][:-4] + ("AAAA" if not user["token"].endswith("AAAA") else "BBBB"),
        "expired": short_token(app, user["id"], -10),
        "refresh": user["refresh"],
        "empty": "",
        "not_a_string": 12345,
    }[kind]
    client = open_socket(connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(auth={"token": token})
    assert client.connect_error == {"message": "unauthorized", "data": {"message": "Invalid or expired token"}}
    assert not client.connected
    assert client.received("authenticated") == []


def test_token_of_a_deleted_user_is_refused(open_socket, app):
    client = open_socket(connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(short_token(app, str(uuid.uuid4()), 60))


def test_authenticate_event_after_connect(open_socket, user):
    client = open_socket()
    ack = client.call("authenticate", {"token": user["token"]})
    assert ack == {"ok": True, "userId": user["id"]}
    assert client.wait_for("authenticated", timeout=5) == {"userId": user["id"]}
    # Past the timeout an authenticated socket stays connected.
    time.sleep(AUTH_TIMEOUT + 1)
    assert client.connected and not client.disconnected.is_set()


@pytest.mark.parametrize("payload", [{"token": "not-a-jwt"}, {"token": None}, {}, "just a string", None, [1, 2]])
def test_authenticate_with_a_bad_token_gets_unauthorized_then_disconnect(open_socket, payload):
    client = open_socket()
    client.emit("authenticate", payload)
    assert client.wait_for("unauthorized", timeout=5) == {"message": "Invalid or expired token"}
    assert client.wait_disconnected(5)
    assert client.received("authenticated") == []


def test_refresh_token_cannot_authenticate_by_event(open_socket, user):
    client = open_socket()
    client.emit("authenticate", {"token": user["refresh"]})
    assert client.wait_for("unauthorized", timeout=5)
    assert client.wait_disconnected(5)


def test_unauthenticated_socket_is_dropped_after_the_timeout_and_hears_nothing(open_socket, client, user, worker):
    silent = open_socket()
    started = time.monotonic()
    # A job of this user produces notifications while the socket is connected but anonymous.
    job_id = create_job(client, user["headers"], payload={"steps": 1}).get_json()["id"]
    assert silent.wait_disconnected(AUTH_TIMEOUT + 5)
    elapsed = time.monotonic() - started
    assert AUTH_TIMEOUT - 0.5 <= elapsed <= AUTH_TIMEOUT + 3
    assert silent.received("notification") == []
    assert silent.job_events(job_id) == []
    assert silent.names() == ["unauthorized"]
    assert silent.received("unauthorized") == [{"message": "Authentication timeout"}]


def test_token_expiring_during_the_connection_ends_it(open_socket, app, user):
    client = open_socket(short_token(app, user["id"], 2))
    assert client.wait_for("authenticated", timeout=5) == {"userId": user["id"]}
    assert client.wait_disconnected(8)
    assert client.received("unauthorized") == [{"message": "Token has expired"}]


def test_authenticating_again_with_a_fresh_token_extends_the_connection(open_socket, app, user):
    client = open_socket(short_token(app, user["id"], 2))
    client.wait_for("authenticated", timeout=5)
    assert client.call("authenticate", {"token": user["token"]})["ok"] is True
    time.sleep(3.5)
    assert client.connected and client.received("unauthorized") == []


def test_foreign_browser_origin_is_refused_and_own_origin_accepted(open_socket, web, user):
    # Long-polling only: the WebSocket library adds an Origin header of its own.
    foreign = open_socket(connect=False, transports=("polling",))
    with pytest.raises(socketio.exceptions.ConnectionError):
        foreign.connect(user["token"], headers={"Origin": "http://evil.example"})
    own = open_socket(connect=False, transports=("polling",))
    own.connect(user["token"], headers={"Origin": web.url})
    assert own.wait_for("authenticated", timeout=5) == {"userId": user["id"]}
