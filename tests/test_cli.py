"""The operator CLI, run as operators run it (Flask's CLI runner on the real database)."""

from __future__ import annotations

import secrets

from tests.support.api import create_job


def test_jobs_list_cancel_and_retry(app, client, user):
    runner = app.test_cli_runner()
    # Delayed, so that a worker running for other tests cannot take it first.
    job_id = create_job(client, user["headers"], options={"startAfter": 3600}).get_json()["id"]
    listed = runner.invoke(args=["jobs", "list", "--status", "queued", "--limit", "1000"])
    assert listed.exit_code == 0 and job_id in listed.output
    cancelled = runner.invoke(args=["jobs", "cancel", job_id])
    assert cancelled.exit_code == 0, cancelled.output
    assert client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()["status"] == "cancelled"
    again = runner.invoke(args=["jobs", "cancel", job_id])
    assert again.exit_code != 0 and "cannot be cancelled" in again.output
    retried = runner.invoke(args=["jobs", "retry", job_id])
    assert retried.exit_code == 0 and "queued" in retried.output


def test_create_admin_then_login_as_admin(app, client):
    email = f"ops-{secrets.token_hex(4)}@example.com"
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", email], input="long-password-1\nlong-password-1\n"
    )
    assert result.exit_code == 0, result.output
    login = client.post("/api/auth/login", json={"email": email, "password": "long-password-1"})
    assert login.get_json()["user"]["role"] == "admin"


def test_purge_reports_what_it_deleted(app):
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "deleted" in result.output and "notifications" in result.output


def test_redrive_without_ids_explains_itself(app):
    result = app.test_cli_runner().invoke(args=["dead-letter", "redrive"])
    assert result.exit_code != 0 and "--all" in result.output
