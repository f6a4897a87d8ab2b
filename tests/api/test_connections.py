"""Database connections: URL checks at creation, secrecy of the password, ownership, test."""

from __future__ import annotations

import os
import sqlite3
import uuid

import pytest
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Connection

SECRET = "s3cr3t-Pa55word"


def _create(client, headers, url, name="conn"):
    return client.post("/api/connections", json={"name": name, "url": url}, headers=headers)


def test_password_is_stored_encrypted_and_never_returned(client, user, ctx):
    response = _create(client, user["headers"], f"postgresql://reader:{SECRET}@db.example.com:5432/sales")
    assert response.status_code == 201
    body = response.get_json()
    assert SECRET not in str(body)
    assert body["url"] == "postgresql+psycopg2://reader:***@db.example.com:5432/sales"
    assert body["dialect"] == "postgresql"
    listed = client.get("/api/connections", headers=user["headers"]).get_json()
    assert SECRET not in str(listed)

    stored = db.session.get(Connection, uuid.UUID(body["id"]))
    assert SECRET.encode() not in bytes(stored.url_encrypted)
    assert SECRET not in stored.display_url


@pytest.mark.parametrize(
    "url, message",
    [
        ("not a url", "valid database URL"),
        ("oracle://u:p@host/db", "Unsupported dialect"),
        ("mongodb://host/db", "Unsupported dialect"),
        ("postgresql://user:pw@/db", "host"),
        ("postgresql://user:pw@host", "database"),
        ("sqlite://", "file"),
    ],
)
def test_malformed_or_unsupported_urls_are_400(client, user, url, message):
    response = _create(client, user["headers"], url)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert message.lower() in " ".join(error["details"]["url"]).lower()


def test_the_services_own_database_is_always_refused(client, user):
    own = make_url(os.environ["DATABASE_URL"])
    aliases = {own.host, "localhost", "127.0.0.1"}
    for host in aliases:
        url = own.set(host=host, drivername="postgresql").render_as_string(hide_password=False)
        response = _create(client, user["headers"], url)
        assert response.status_code == 400, url
        assert "own database" in response.get_json()["error"]["details"]["url"][0]
    # Another database on the same server is fine: that is what users connect to.
    other = own.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    assert _create(client, user["headers"], other).status_code == 201


def test_allowed_hosts_and_sqlite_switch_are_enforced(app, user):
    app.config["CONNECTION_ALLOWED_HOSTS"] = ["db.internal.example", "10.0.0.0/8"]
    app.config["CONNECTION_ALLOW_SQLITE"] = False
    try:
        client = app.test_client()
        assert _create(client, user["headers"], "mysql://u:p@db.internal.example/x").status_code == 201
        assert _create(client, user["headers"], "mysql://u:p@10.1.2.3/x").status_code == 201
        refused = _create(client, user["headers"], "mysql://u:p@192.168.1.5/x")
        assert refused.status_code == 400
        assert "CONNECTION_ALLOWED_HOSTS" in refused.get_json()["error"]["details"]["url"][0]
        sqlite = _create(client, user["headers"], "sqlite:////tmp/anything.db")
        assert sqlite.status_code == 400
        assert "CONNECTION_ALLOW_SQLITE" in sqlite.get_json()["error"]["details"]["url"][0]
    finally:
        app.config["CONNECTION_ALLOWED_HOSTS"] = None
        app.config["CONNECTION_ALLOW_SQLITE"] = True


def test_connections_are_scoped_to_their_owner(client, user, other_user):
    connection_id = _create(client, user["headers"], "mysql://u:p@db.example.com/x").get_json()["id"]
    for method, path in (
        ("get", f"/api/connections/{connection_id}"),
        ("delete", f"/api/connections/{connection_id}"),
        ("post", f"/api/connections/{connection_id}/test"),
        ("post", f"/api/connections/{connection_id}/rebuild"),
        ("get", f"/api/connections/{connection_id}/schema"),
    ):
        response = getattr(client, method)(path, headers=other_user["headers"])
        assert response.status_code == 404, path
    assert client.get(f"/api/connections/{connection_id}", headers=user["headers"]).status_code == 200
    others = client.get("/api/connections", headers=other_user["headers"]).get_json()
    assert connection_id not in {c["id"] for c in others["data"]}


def test_connection_test_reports_success_and_clear_failures(client, user, tmp_path):
    path = tmp_path / "ok.db"
    sqlite3.connect(path).close()
    ok_id = _create(client, user["headers"], f"sqlite:///{path}").get_json()["id"]
    ok = client.post(f"/api/connections/{ok_id}/test", headers=user["headers"]).get_json()
    assert ok["ok"] is True and ok["latencyMs"] >= 0

    bad_password = f"mysql+pymysql://root:{SECRET}@127.0.0.1:3306/mysql"
    bad_id = _create(client, user["headers"], bad_password).get_json()["id"]
    failed = client.post(f"/api/connections/{bad_id}/test", headers=user["headers"]).get_json()
    assert failed["ok"] is False and failed["error"]
    assert SECRET not in failed["error"]

    missing_id = _create(client, user["headers"], f"sqlite:///{tmp_path}/missing.db").get_json()["id"]
    missing = client.post(f"/api/connections/{missing_id}/test", headers=user["headers"]).get_json()
    assert missing["ok"] is False
    assert not (tmp_path / "missing.db").exists(), "a test must never create the user's file"


def test_delete_removes_the_connection_and_is_audited(client, user, admin):
    connection_id = _create(client, user["headers"], "mysql://u:p@db.example.com/x").get_json()["id"]
    response = client.delete(f"/api/connections/{connection_id}", headers=user["headers"])
    assert response.status_code == 200
    assert client.get(f"/api/connections/{connection_id}", headers=user["headers"]).status_code == 404
    entries = client.get("/api/admin/audit-log?limit=100", headers=admin["headers"]).get_json()["data"]
    assert any(e["action"] == "connection.deleted" and e["targetId"] == connection_id for e in entries)


def test_schema_is_404_before_the_first_rebuild(client, user):
    connection_id = _create(client, user["headers"], "mysql://u:p@db.example.com/x").get_json()["id"]
    response = client.get(f"/api/connections/{connection_id}/schema", headers=user["headers"])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "schema_not_built"


def test_rebuild_is_a_singleton_per_connection_unless_forced(client, user):
    connection_id = _create(client, user["headers"], "mysql://u:p@db.example.com/x").get_json()["id"]
    first = client.post(f"/api/connections/{connection_id}/rebuild", json={}, headers=user["headers"])
    assert first.status_code == 202
    assert first.get_json()["message"] == "Schema rebuild job queued"
    again = client.post(f"/api/connections/{connection_id}/rebuild", headers=user["headers"])
    assert again.status_code == 200 and again.get_json()["jobId"] == first.get_json()["jobId"]
    forced = client.post(f"/api/connections/{connection_id}/rebuild", json={"force": True}, headers=user["headers"])
    assert forced.status_code == 202 and forced.get_json()["jobId"] != first.get_json()["jobId"]
