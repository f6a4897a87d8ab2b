"""Plant distinctive secrets (connection passwords, account passwords, tokens), drive the system
through a real worker that mails its notifications to a real SMTP server, then scan everything a
user or an operator can see for them: HTTP responses, job rows, notifications, email deliveries
and the mail itself, worker/beat logs, this process's logs, the audit log and /metrics.

Runs its own worker and beat on the session's private Redis database (like
tests/workers/test_job_notifications.py) so the emails go to our aiosmtpd server."""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
import redis as redis_lib
from celery import Celery
from sqlalchemy import or_, select

import celeryconfig
from app.extensions import db
from app.models import EmailDelivery, Notification
from app.models.audit import AuditEntry
from app.models.job import DeadLetter, Job
from tests.support import processes
from tests.support.api import create_job, login, register
from tests.support.smtp import SmtpServer

AUTH_PATHS = ("/api/auth/register", "/api/auth/login", "/api/auth/refresh")


def _secret(label: str) -> str:
    return f"Sekr3t{label}{secrets.token_hex(8)}"


@pytest.fixture(scope="module")
def pipeline(app, private_redis_url):
    """SMTP server + worker (with SMTP_URL) + beat on the private broker."""
    redis_lib.Redis.from_url(private_redis_url).flushdb()
    with SmtpServer() as mailbox:
        env = {
            "REDIS_URL": private_redis_url,
            "SMTP_URL": mailbox.url(),
            "EMAIL_MAX_RETRIES": "1",
            "EMAIL_RETRY_DELAY_SECONDS": "0.2",
        }
        worker = processes.start_worker(concurrency=2, name=f"secrets-{uuid.uuid4().hex[:6]}", env=env)
        beat = processes.start_beat(env=env)
        broker = Celery("secrets-scan", set_as_current=False)
        broker.conf.update(celeryconfig.build({**app.config, "REDIS_URL": private_redis_url}))
        try:
            yield mailbox, worker, beat, broker
        finally:
            broker.close()
            processes.stop(beat)
            processes.stop(worker)
            redis_lib.Redis.from_url(private_redis_url).flushdb()


class Recorder:
    """Wraps a Flask test client's `open`: keeps (path, status, headers, body) of every response."""

    def __init__(self, client):
        self.responses: list[tuple[str, int, str, str]] = []
        inner = client.open

        def open_(*args, **kwargs):
            response = inner(*args, **kwargs)
            path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "?")
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            self.responses.append((path, response.status_code, headers, response.get_data(as_text=True)))
            return response

        client.open = open_


def _row_text(row) -> str:
    return json.dumps({c.key: getattr(row, c.key) for c in row.__table__.columns}, default=str)


def _wait(what: str, check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _job(job_id: str) -> Job:
    db.session.expire_all()
    return db.session.get(Job, uuid.UUID(job_id))


def test_no_planted_secret_is_visible_anywhere(app, client, ctx, pipeline, monkeypatch, caplog, tmp_path):
    caplog.set_level(logging.INFO)
    mailbox, worker, beat, broker = pipeline
    monkeypatch.setitem(app.extensions, "celery", broker)
    started = time.monotonic()
    recorder = Recorder(client)

    # --- plant ----------------------------------------------------------------------------------
    pg_secret, my_secret = _secret("Pg"), _secret("My")
    user_pw, other_pw = _secret("UserPw"), _secret("OtherPw")
    owner = register(client, password=user_pw)
    other = register(client, password=other_pw)
    other = login(client, other["email"], other_pw)  # a second pair of tokens, via login
    try:
        admin = register(client, email="admin@example.com")
    except AssertionError:
        admin = login(client, "admin@example.com")
    headers = owner["headers"]

    db_path = tmp_path / "secrets.db"
    with sqlite3.connect(db_path) as conn:
        conn.executescript("CREATE TABLE t1 (id INTEGER PRIMARY KEY); CREATE TABLE t2 (id INTEGER PRIMARY KEY);")
    urls = {
        "pg": f"postgresql://postgres:{pg_secret}@127.0.0.1:1/postgres",
        "mysql": f"mysql://root:{my_secret}@127.0.0.1:3306/mysql",
        "sqlite": f"sqlite:///{db_path}",
    }
    connection_ids = {}
    for name, url in urls.items():
        created = client.post("/api/connections", json={"name": f"scan-{name}", "url": url}, headers=headers)
        assert created.status_code == 201, created.get_json()
        connection_ids[name] = created.get_json()["id"]

    # --- exercise -------------------------------------------------------------------------------
    tests = {}
    for name, cid in connection_ids.items():
        response = client.post(f"/api/connections/{cid}/test", headers=headers)
        assert response.status_code == 200, response.get_json()
        tests[name] = response.get_json()
    client.get("/api/connections", headers=headers)
    for cid in connection_ids.values():
        client.get(f"/api/connections/{cid}", headers=headers)

    rebuilds = {}
    for name, cid in connection_ids.items():
        response = client.post(f"/api/connections/{cid}/rebuild", json={}, headers=headers)
        assert response.status_code == 202, response.get_json()
        rebuilds[name] = response.get_json()["jobId"]
    # The same PostgreSQL rebuild with no retry, so job_failed is mailed at once. (A retry would be
    # released by whichever beat sweeps first, and the session's beat sends it to a worker that has
    # no SMTP_URL: its email would be logged there instead of reaching this mailbox.)
    quick = create_job(
        client,
        headers,
        type_="schema-rebuild",
        payload={"connectionId": connection_ids["pg"], "force": True},
        options={"retryLimit": 0},
    )
    assert quick.status_code in (201, 202), quick.get_json()
    rebuilds["pg-quick"] = quick.get_json()["id"]

    final = ("completed", "failed", "cancelled")
    _wait("sqlite rebuild", lambda: _job(rebuilds["sqlite"]).status == "completed")
    _wait("mysql rebuild", lambda: _job(rebuilds["mysql"]).status == "failed")
    _wait("pg rebuild's first failure", lambda: _job(rebuilds["pg"]).error is not None)
    _wait("pg quick rebuild", lambda: _job(rebuilds["pg-quick"]).status in final, timeout=40)
    assert _job(rebuilds["pg-quick"]).status == "failed" and _job(rebuilds["pg-quick"]).attempts == 1
    assert _job(rebuilds["pg"]).error_kind == "retryable"
    assert "denied" in (_job(rebuilds["mysql"]).error or "").lower()
    # job_completed (sqlite) + job_failed (mysql, pg-quick) are mailed.
    mailbox.wait_for(owner["email"], count=3, timeout=90)  # a loaded machine delivers slowly
    _wait(
        "email deliveries",
        lambda: all(
            d.status in ("sent", "failed")
            for d in db.session.scalars(select(EmailDelivery).where(EmailDelivery.user_id == uuid.UUID(owner["id"])))
        ),
    )
    for job_id in rebuilds.values():
        client.get(f"/api/jobs/{job_id}", headers=headers)
    client.get("/api/jobs?limit=100", headers=headers)
    client.get("/api/notifications?limit=100", headers=headers)
    client.get(f"/api/connections/{connection_ids['sqlite']}/schema", headers=headers)
    client.get("/api/admin/jobs?limit=100", headers=admin["headers"])
    client.get("/api/admin/dead-letter?limit=100", headers=admin["headers"])
    audit_api = client.get("/api/admin/audit-log?limit=100", headers=admin["headers"])
    assert audit_api.status_code == 200, audit_api.get_json()
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    client.get("/api/health")
    time.sleep(0.5)  # let the worker flush its last log lines

    # --- collect --------------------------------------------------------------------------------
    user_ids = [uuid.UUID(owner["id"]), uuid.UUID(other["id"]), uuid.UUID(admin["id"])]
    job_ids = [uuid.UUID(j) for j in rebuilds.values()]
    db.session.expire_all()
    items: dict[str, list[tuple[str, str]]] = {}
    items["http responses"] = [
        (f"{status} {path}", f"{hdrs}\n\n{body}") for path, status, hdrs, body in recorder.responses
    ]
    items["job rows"] = [
        (f"job {j.id}", _row_text(j)) for j in db.session.scalars(select(Job).where(Job.id.in_(job_ids)))
    ]
    items["dead letters"] = [
        (f"dead letter {d.id}", _row_text(d))
        for d in db.session.scalars(select(DeadLetter).where(DeadLetter.job_id.in_(job_ids)))
    ]
    items["notifications"] = [
        (f"notification {n.type}", json.dumps({"title": n.title, "message": n.message, "data": n.data}))
        for n in db.session.scalars(select(Notification).where(Notification.user_id.in_(user_ids)))
    ]
    items["email deliveries"] = [
        (f"delivery {d.notification_type}", _row_text(d))
        for d in db.session.scalars(select(EmailDelivery).where(EmailDelivery.user_id.in_(user_ids)))
    ]
    items["smtp messages"] = [(f"mail {m.subject}", m.raw) for m in mailbox.messages]
    items["audit log"] = [
        (f"audit {a.action}", _row_text(a))
        for a in db.session.scalars(
            select(AuditEntry).where(
                or_(
                    AuditEntry.actor_id.in_(user_ids),
                    AuditEntry.target_id.in_(
                        [str(u) for u in user_ids] + list(connection_ids.values()) + list(rebuilds.values())
                    ),
                )
            )
        )
    ]
    items["process logs"] = [
        ("worker log", Path(worker.log_path).read_text(errors="replace")),
        ("beat log", Path(beat.log_path).read_text(errors="replace")),
    ]
    items["test-process log"] = [("caplog", caplog.text)] + [
        (f"record {r.name}", f"{r.getMessage()} {r.args!r} {getattr(r, '__dict__', {})!r}") for r in caplog.records
    ]
    items["metrics"] = [("/metrics", metrics.get_data(as_text=True))]

    # Sanity: the scan is looking at real material.
    assert items["job rows"] and items["notifications"] and items["email deliveries"] and items["smtp messages"]
    assert "Access denied" in items["process logs"][0][1] or "denied" in items["process logs"][0][1].lower()

    # --- scan -----------------------------------------------------------------------------------
    passwords = {
        "pg url password": pg_secret,
        "mysql url password": my_secret,
        "owner password": user_pw,
        "other password": other_pw,
    }
    tokens = {}
    for who, account in (("owner", owner), ("other", other), ("admin", admin)):
        tokens[f"{who} access token"] = account["token"]
        tokens[f"{who} refresh token"] = account["refresh"]

    # Positive control: the scanner does find a token where one is meant to be (the auth replies).
    auth_replies = [t for label, t in items["http responses"] if any(p in label for p in AUTH_PATHS)]
    assert any(owner["token"] in t for t in auth_replies) and any(other["refresh"] in t for t in auth_replies)
    listed = next(
        t for label, t in items["http responses"] if label.endswith(f"/api/connections/{connection_ids['mysql']}")
    )
    assert "root:***@127.0.0.1:3306" in listed  # the password was there to hide, and was hidden

    leaks = []
    for category, entries in items.items():
        for label, text in entries:
            for name, value in passwords.items():
                if value in text:
                    leaks.append(f"{name} in {category}: {label}")
            for name, value in tokens.items():
                # The auth endpoints hand tokens out by design; anywhere else they are a leak.
                if category == "http responses" and any(p in label for p in AUTH_PATHS):
                    continue
                if value in text:
                    leaks.append(f"{name} in {category}: {label}")

    elapsed = time.monotonic() - started
    print("\nsecrets scan:", f"{len(passwords)} passwords + {len(tokens)} tokens", f"in {elapsed:.1f}s")
    for category, entries in items.items():
        print(f"  {category:18} {len(entries):4} items {sum(len(t) for _, t in entries):9} chars")
    print(f"  connection tests: { {k: v.get('ok', v) if isinstance(v, dict) else v for k, v in tests.items()} }")
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)
