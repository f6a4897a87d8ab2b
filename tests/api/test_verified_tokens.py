"""A verified access token is remembered (app.users.verified_tokens): the next request with the
same string is not verified again, yet an expired or altered token is still refused, and a
deleted user's token stops working at once."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from flask_jwt_extended import create_access_token
from sqlalchemy import delete

from app.extensions import db
from app.models import User
from app.users.verified_tokens import EXTENSION, VerifiedTokens


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_remembered_token_is_refused_once_it_expires(app, client, user):
    with app.app_context():
        token = create_access_token(identity=user["id"], expires_delta=timedelta(seconds=2))
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200  # remembered
    assert app.extensions[EXTENSION].get(token) is not None
    time.sleep(2.2)
    response = client.get("/api/auth/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Token has expired"


def test_an_altered_token_is_refused_though_the_original_is_remembered(client, user):
    token = user["token"]
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    header, claims, signature = token.split(".")
    forged = ".".join((header, claims, ("A" if signature[0] != "A" else "B") + signature[1:]))
    response = client.get("/api/auth/me", headers=bearer(forged))
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Invalid token"
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200


def test_a_deleted_users_remembered_token_stops_working_at_once(app, client, user):
    assert client.get("/api/auth/me", headers=bearer(user["token"])).status_code == 200
    with app.app_context():
        db.session.execute(delete(User).where(User.id == uuid.UUID(user["id"])))
        db.session.commit()
        db.session.remove()
    response = client.get("/api/auth/me", headers=bearer(user["token"]))
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "The user of this token no longer exists"


def test_the_map_is_bounded_and_forgets_the_least_recently_used():
    tokens = VerifiedTokens(size=2)
    far = time.time() + 3600
    tokens.put("a", {"exp": far})
    tokens.put("b", {"exp": far})
    assert tokens.get("a") == {"exp": far}  # now the most recently used
    tokens.put("c", {"exp": far})
    assert len(tokens) == 2 and tokens.get("b") is None and tokens.get("a") is not None


def test_a_token_not_valid_yet_is_not_served():
    tokens = VerifiedTokens()
    tokens.put("later", {"nbf": time.time() + 60, "exp": time.time() + 3600})
    assert tokens.get("later") is None
