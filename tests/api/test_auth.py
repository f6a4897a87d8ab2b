"""Auth: register, login, refresh, me; tokens that cannot stand in for each other."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from flask_jwt_extended import create_access_token

from tests.support.api import DEFAULT_PREFERENCES, PASSWORD


def test_register_returns_user_and_tokens(client):
    response = client.post(
        "/api/auth/register", json={"email": "New.Person@Example.com", "password": PASSWORD, "name": "New"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["email"] == "new.person@example.com"
    assert body["user"]["role"] == "user"
    assert set(body["user"]) == {"id", "email", "name", "role", "createdAt"}
    assert body["accessToken"] and body["refreshToken"]
    assert PASSWORD not in json.dumps(body)


def test_register_twice_is_a_conflict(client, user):
    response = client.post("/api/auth/register", json={"email": user["email"].upper(), "password": PASSWORD})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "email_taken"


def test_register_validates_fields(client):
    response = client.post("/api/auth/register", json={"email": "not-an-email", "password": "short"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"email", "password"}


def test_register_creates_six_default_preferences(client, user):
    prefs = client.get("/api/notifications/preferences", headers=user["headers"]).get_json()
    got = {(p["notificationType"], p["channel"], p["enabled"]) for p in prefs}
    assert got == DEFAULT_PREFERENCES


def test_admin_emails_get_admin_role(client, admin, user):
    assert client.get("/api/auth/me", headers=admin["headers"]).get_json()["role"] == "admin"
    assert client.get("/api/auth/me", headers=user["headers"]).get_json()["role"] == "user"


def test_login_and_me(client, user):
    response = client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 200
    token = response.get_json()["accessToken"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["email"] == user["email"]


def test_login_with_wrong_password_or_unknown_email_is_401(client, user):
    wrong = client.post("/api/auth/login", json={"email": user["email"], "password": "nope-nope-nope"})
    unknown = client.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["error"]["message"] == unknown.get_json()["error"]["message"]


def test_refresh_gives_a_new_access_token(client, user):
    response = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {user['refresh']}"})
    assert response.status_code == 200
    token = response.get_json()["accessToken"]
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_tokens_cannot_be_swapped(client, user):
    refresh_as_access = client.get("/api/auth/me", headers={"Authorization": f"Bearer {user['refresh']}"})
    access_as_refresh = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {user['token']}"})
    assert refresh_as_access.status_code == 401
    assert access_as_refresh.status_code == 401


def test_missing_tampered_and_alg_none_tokens_are_401(client, user):
    header, payload, signature = user["token"].split(".")
    tampered_payload = json.loads(base64.urlsafe_b64decode(payload + "=="))
    tampered_payload["sub"] = "00000000-0000-0000-0000-000000000000"
    forged = base64.urlsafe_b64encode(json.dumps(tampered_payload).encode()).decode().rstrip("=")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {header}.{forged}.{signature}"},
        {"Authorization": f"Bearer {none_header}.{payload}."},
    ):
        response = client.get("/api/auth/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_expired_token_is_401(app, client, user):
    with app.app_context():
        token = create_access_token(identity=user["id"], expires_delta=timedelta(seconds=-5))
    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.get_json()["error"]["message"].lower()
