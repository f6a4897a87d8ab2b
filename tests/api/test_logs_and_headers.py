"""Structured logs carry request and user ids and never a secret; CORS per configuration."""

from __future__ import annotations

import json
import logging

from app.platform.logging_setup import JsonFormatter

SECRET = "N0t-in-any-log-9f3"


def test_access_log_has_request_and_user_ids_and_no_secret(client, user, caplog):
    caplog.set_level(logging.INFO)
    headers = {**user["headers"], "X-Request-ID": "req-abc-123"}
    client.post(
        "/api/connections", json={"name": "c", "url": f"postgresql://u:{SECRET}@db.example.com/x"}, headers=headers
    )
    client.post("/api/auth/login", json={"email": user["email"], "password": SECRET})
    records = [r for r in caplog.records if r.name == "app.access"]
    mine = [r for r in records if r.request_id == "req-abc-123"]
    assert mine and mine[0].user_id == user["id"]
    assert mine[0].getMessage().startswith("POST /api/connections 201")
    line = json.loads(JsonFormatter().format(mine[0]))
    assert line["request_id"] == "req-abc-123" and line["user_id"] == user["id"] and line["level"] == "info"
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in everything and user["token"] not in everything and user["password"] not in everything


def test_cors_allows_configured_origins_only(app, client):
    app.config["WEBSOCKET_CORS_ORIGIN"] = ["https://app.example.com"]
    try:
        allowed = client.options(
            "/api/jobs", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
        )
        assert allowed.status_code == 204
        assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
        other = client.get("/api/health", headers={"Origin": "https://evil.example.com"})
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        app.config["WEBSOCKET_CORS_ORIGIN"] = []
