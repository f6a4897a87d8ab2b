"""Authorization matrix: every operation of /api/openapi.json, called with no / broken tokens, by a
stranger on another user's resources, and by a non-admin on /api/admin; plus the Socket.IO side.

The operations come from the OpenAPI document at run time, so a new endpoint is covered as soon as
it is documented. Each test walks the whole table and reports every failing row at once.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import timedelta

import jwt as pyjwt
import pytest
import socketio
from flask_jwt_extended import create_access_token

from app.extensions import db
from app.models.job import DeadLetter
from app.webhooks import outbox, signing
from app.webhooks.models import WebhookEndpoint
from tests.sockets.conftest import AUTH_TIMEOUT, open_socket, web  # noqa: F401  (fixtures)
from tests.support.api import create_job, login, register

METHODS = ("get", "post", "put", "patch", "delete")
PUBLIC = re.compile(r"^(/api/auth/register|/api/auth/login|/api/health.*|/metrics|/api/docs.*|/api/openapi\.json)$")
# Bodies that pass validation, so that a 404 / 403 is not masked by a 400.
BODIES = {
    ("post", "/api/jobs"): {"type": "test-probe", "payload": {}, "options": {"startAfter": 3600}},
    ("post", "/api/connections"): {"name": "matrix", "url": "mysql://u:p@db.example.com/x"},
    ("post", "/api/connections/{connection_id}/rebuild"): {},
    ("post", "/api/workflows"): {"jobs": [{"key": "a", "type": "test-probe", "options": {"startAfter": 3600}}]},
    ("patch", "/api/notifications/preferences/{preference_id}"): {"enabled": True},
    ("patch", "/api/webhooks/{webhook_id}"): {"description": "matrix"},
    ("post", "/api/schedules"): {"name": "matrix", "type": "test-probe", "cron": "0 0 1 1 *"},
    ("patch", "/api/schedules/{schedule_id}"): {"name": "renamed"},
}


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def unb64(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def assert_error_shape(response, status: int | tuple) -> list[str]:
    """Problems with one response (empty list when it is as the contract says)."""
    statuses = status if isinstance(status, tuple) else (status,)
    problems = []
    if response.status_code not in statuses:
        problems.append(f"status {response.status_code}, expected {statuses}: {response.get_data(as_text=True)[:200]}")
        return problems
    body = response.get_json(silent=True)
    error = body.get("error") if isinstance(body, dict) else None
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("details"), dict)
    ):
        problems.append(f"not the contract's error shape: {body!r}")
    return problems


@pytest.fixture(scope="session")
def async_mode() -> str:
    """One web server for the socket rows of the matrix: who may do what does not depend on the
    async mode (the socket suite covers both modes), and one mode keeps the matrix one world."""
    return "eventlet"


@pytest.fixture(scope="module")
def world(app):
    """Two users, `user` owning one resource of each kind, an admin, and the spec's operations."""
    client = app.test_client()
    owner, stranger = register(client), register(client)
    job = create_job(client, owner["headers"], payload={"steps": 1}, options={"startAfter": 3600})
    assert job.status_code == 202, job.get_json()
    job_id = job.get_json()["id"]
    connection = client.post(
        "/api/connections", json={"name": "owned", "url": "mysql://u:p@db.example.com/x"}, headers=owner["headers"]
    )
    assert connection.status_code == 201, connection.get_json()
    notifications = client.get("/api/notifications", headers=owner["headers"]).get_json()["data"]
    assert notifications, "creating a job should leave a job_queued notification"
    preferences = client.get("/api/notifications/preferences", headers=owner["headers"]).get_json()
    assert preferences
    # A dead letter of the owner's job, written directly: making a job fail for good needs a worker
    # and retries, and only the admin-only redrive endpoint takes its id.
    with app.app_context():
        letter = DeadLetter(
            job_id=uuid.UUID(job_id), user_id=uuid.UUID(owner["id"]), job_type="test-probe", error="matrix", attempts=1
        )
        db.session.add(letter)
        db.session.commit()
        dead_letter_id = str(letter.id)
        db.session.remove()
    webhook_id, delivery_id = _owned_webhook(app, owner["id"])
    workflow = client.post("/api/workflows", json=BODIES[("post", "/api/workflows")], headers=owner["headers"])
    assert workflow.status_code == 202, workflow.get_json()
    upload = client.post("/api/uploads", data=b"a,b\n1,2\n", headers={**owner["headers"], "Content-Type": "text/csv"})
    assert upload.status_code == 201, upload.get_json()
    schedule = client.post("/api/schedules", json=BODIES[("post", "/api/schedules")], headers=owner["headers"])
    assert schedule.status_code == 201, schedule.get_json()
    ids = {
        "upload_id": upload.get_json()["id"],
        "job_id": job_id,
        "connection_id": connection.get_json()["id"],
        "notification_id": notifications[0]["id"],
        "preference_id": preferences[0]["id"],
        "dead_letter_id": dead_letter_id,
        "webhook_id": webhook_id,
        "delivery_id": delivery_id,
        "workflow_id": workflow.get_json()["id"],
        "schedule_id": schedule.get_json()["id"],
    }
    spec = client.get("/api/openapi.json").get_json()
    operations = []
    for template, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            names = re.findall(r"{(\w+)}", template)
            missing = [name for name in names if name not in ids]
            assert not missing, f"{method.upper()} {template}: no owned resource for {missing}; add one to `world`"
            path = re.sub(r"{(\w+)}", lambda m: ids[m.group(1)], template)
            operations.append((method, template, path))
    assert len(operations) >= 25, operations
    return {
        "client": client,
        "owner": owner,
        "stranger": stranger,
        "ids": ids,
        "operations": operations,
        "counter": {"requests": 0, "5xx": 0},
    }


def _owned_webhook(app, owner_id: str) -> tuple[str, str]:
    """A webhook of the owner and one delivery of it, written directly: creating one through the
    API resolves its host, and this machine resolves no public name."""

    with app.app_context():
        endpoint = WebhookEndpoint(
            user_id=uuid.UUID(owner_id),
            url="https://hooks.example.com/in",
            events=["job.failed"],
            secret_encrypted=signing.seal(signing.new_secret()),
        )
        db.session.add(endpoint)
        db.session.flush()
        [delivery_id] = outbox.record(uuid.UUID(owner_id), "job.failed", {"job": {}})
        endpoint.enabled = False  # nothing the matrix does may send anything anywhere
        db.session.commit()
        ids = str(endpoint.id), str(delivery_id)
        db.session.remove()
    return ids


def call(world, method, template, path, headers):
    world["counter"]["requests"] += 1
    body = BODIES.get((method, template))
    kwargs = {"json": body} if body is not None else {}
    response = world["client"].open(path, method=method.upper(), headers=headers, **kwargs)
    if response.status_code >= 500:
        world["counter"]["5xx"] += 1
    return response


def bad_tokens(app, owner, stranger) -> dict[str, str]:
    header, payload, signature = owner["token"].split(".")
    claims = unb64(payload)
    with app.app_context():
        expired = create_access_token(identity=owner["id"], expires_delta=timedelta(seconds=-30))

    return {
        "expired": expired,
        "tampered": f"{header}.{b64({**claims, 'sub': stranger['id']})}.{signature}",
        "alg_none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "wrong_key": pyjwt.encode(claims, "not-the-server-secret-" + "x" * 32, algorithm="HS256"),
        "garbage": "not.a.token",
        "refresh_as_access": owner["refresh"],
    }


def test_every_protected_endpoint_is_401_without_a_valid_token(app, world):
    failures = []
    variants = {"missing": None, **bad_tokens(app, world["owner"], world["stranger"])}
    checked = 0
    for method, template, path in world["operations"]:
        if PUBLIC.match(template):
            continue
        for name, token in variants.items():
            if name == "refresh_as_access" and template == "/api/auth/refresh":
                continue  # the one endpoint where a refresh token is the right credential
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = call(world, method, template, path, headers)
            checked += 1
            for problem in assert_error_shape(response, 401):
                failures.append(f"{method.upper()} {template} [{name}]: {problem}")
    # An access token is not a refresh token either.
    response = call(world, "post", "/api/auth/refresh", "/api/auth/refresh", world["owner"]["headers"])
    failures += [f"POST /api/auth/refresh [access_as_refresh]: {p}" for p in assert_error_shape(response, 401)]
    assert checked > 100
    assert not failures, "\n".join(failures)
    assert world["counter"]["5xx"] == 0


def test_public_endpoints_need_no_token(world):
    client = world["client"]
    for path in ("/api/health", "/metrics", "/api/openapi.json", "/api/docs"):
        world["counter"]["requests"] += 1
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, path


def test_a_stranger_gets_404_on_every_resource_of_another_user(world):
    """Every operation with an id in its path, by `other_user` on `user`'s resource: 404 (admin
    routes: 403 for a non-admin). Lists the stranger can read never contain the owner's ids."""
    failures = []
    stranger = world["stranger"]["headers"]
    owned_ids = set(world["ids"].values())
    for method, template, path in world["operations"]:
        if PUBLIC.match(template) or template.startswith("/api/auth/"):
            continue
        expected = 403 if template.startswith("/api/admin/") else 404
        if "{" in template:
            response = call(world, method, template, path, stranger)
            for problem in assert_error_shape(response, expected):
                failures.append(f"{method.upper()} {template}: {problem}")
        elif method == "get":
            response = call(world, method, template, path, stranger)
            if expected == 403:
                failures += [f"GET {template}: {p}" for p in assert_error_shape(response, 403)]
                continue
            text = response.get_data(as_text=True)
            if response.status_code != 200:
                failures.append(f"GET {template}: {response.status_code}")
            failures += [f"GET {template} shows the owner's {i}" for i in owned_ids if i in text]
    # The owner still sees everything the stranger tried to touch.
    owner = world["owner"]["headers"]
    client = world["client"]
    assert client.get(f"/api/jobs/{world['ids']['job_id']}", headers=owner).get_json()["status"] == "queued"
    assert client.get(f"/api/connections/{world['ids']['connection_id']}", headers=owner).status_code == 200
    listed = client.get("/api/notifications", headers=owner).get_json()["data"]
    assert world["ids"]["notification_id"] in {n["id"] for n in listed}
    assert not failures, "\n".join(failures)
    assert world["counter"]["5xx"] == 0


def test_unknown_ids_are_404_like_foreign_ones(world):
    failures = []
    for method, template, _path in world["operations"]:
        if "{" not in template or template.startswith("/api/admin/"):
            continue
        unknown = re.sub(r"{(\w+)}", str(uuid.uuid4()), template)
        response = call(world, method, template, unknown, world["owner"]["headers"])
        failures += [f"{method.upper()} {template}: {p}" for p in assert_error_shape(response, 404)]
    assert not failures, "\n".join(failures)


def test_non_admin_is_403_on_every_admin_endpoint_and_admin_is_let_in(app, world):
    client = world["client"]
    try:
        admin = register(client, email="admin@example.com")
    except AssertionError:
        admin = login(client, "admin@example.com")
    failures = []
    admin_ops = [op for op in world["operations"] if op[1].startswith("/api/admin/")]
    assert admin_ops
    for method, template, path in admin_ops:
        for who in ("owner", "stranger"):
            response = call(world, method, template, path, world[who]["headers"])
            failures += [f"{method.upper()} {template} [{who}]: {p}" for p in assert_error_shape(response, 403)]
        if method == "get":  # the 403 is about the role, not a broken endpoint
            response = call(world, method, template, path, admin["headers"])
            if response.status_code != 200:
                failures.append(f"{method.upper()} {template} [admin]: {response.status_code}")
        # POST .../redrive as admin is not called: it would re-queue the owner's job.
    assert not failures, "\n".join(failures)
    assert world["counter"]["5xx"] == 0


# -- Socket.IO -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["garbage", "expired", "alg_none", "tampered", "wrong_key", "refresh_as_access"])
def test_socket_connect_with_a_bad_token_is_refused(open_socket, app, user, other_user, kind):  # noqa: F811
    token = bad_tokens(app, user, other_user)[kind]
    client = open_socket(connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(auth={"token": token})
    assert not client.connected
    assert client.received("authenticated") == []


def test_socket_without_a_token_is_not_authenticated_and_is_dropped(open_socket, client, user):  # noqa: F811
    job = create_job(client, user["headers"], options={"startAfter": 3600}).get_json()
    anonymous = open_socket()
    assert anonymous.call("subscribe:job", {"jobId": job["id"]}) == {"ok": False, "error": "unauthorized"}
    assert anonymous.wait_disconnected(AUTH_TIMEOUT + 5)
    assert anonymous.received("authenticated") == []
    assert [name for name in anonymous.names() if name.startswith("job:") or name == "notification"] == []


def test_socket_authenticate_event_with_a_bad_token_is_unauthorized(open_socket, app, user, other_user):  # noqa: F811
    token = bad_tokens(app, user, other_user)["alg_none"]
    anonymous = open_socket()
    anonymous.emit("authenticate", {"token": token})
    anonymous.wait_for("unauthorized", timeout=5)
    assert anonymous.wait_disconnected(5)
    assert anonymous.received("authenticated") == []


def test_socket_subscribe_to_another_users_job_is_not_found(open_socket, client, user, other_user):  # noqa: F811
    job = create_job(client, user["headers"], options={"startAfter": 3600}).get_json()
    stranger = open_socket(other_user["token"])
    assert stranger.call("subscribe:job", {"jobId": job["id"]}) == {"ok": False, "error": "not_found"}
    owner = open_socket(user["token"])
    assert owner.call("subscribe:job", {"jobId": job["id"]})["ok"] is True
    # Cancelling the job fires job events; the stranger gets none of them.
    assert client.delete(f"/api/jobs/{job['id']}", headers=user["headers"]).status_code == 200
    owner.wait_for("job:status", timeout=10)
    assert stranger.job_events(job["id"]) == []


def test_zz_matrix_saw_no_5xx(world):
    print(
        f"authorization matrix: {len(world['operations'])} operations, {world['counter']['requests']} requests, "
        f"{world['counter']['5xx']} 5xx"
    )
    assert world["counter"]["requests"] > 150
    assert world["counter"]["5xx"] == 0
