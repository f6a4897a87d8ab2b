"""Jobs API: creation rules, validation, pagination, ownership, cancel/retry transitions.

These tests run without a worker, so created jobs stay `queued` unless a test moves them."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import create_job, create_waiting_job


def test_create_returns_202_with_location(client, user):
    response = create_job(client, user["headers"], payload={"steps": 1})
    assert response.status_code == 202
    body = response.get_json()
    assert set(body) == {"id", "type", "status", "createdAt"}
    assert body["status"] == "queued" and body["type"] == "test-probe"
    assert response.headers["Location"].endswith(f"/api/jobs/{body['id']}")


def test_get_job_has_the_contract_fields(client, user):
    job_id = create_waiting_job(client, user["headers"], options={"priority": 70, "retryLimit": 4}).get_json()["id"]
    job = client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()
    assert set(job) == {
        "id",
        "type",
        "status",
        "payload",
        "progress",
        "result",
        "error",
        "attempts",
        "maxAttempts",
        "priority",
        "createdAt",
        "startedAt",
        "completedAt",
        "nextAttemptAt",
        "workflowId",
        "blockedBy",
        "scheduleId",
        "scheduledFor",
        "batchId",
    }
    assert job["scheduleId"] is None and job["scheduledFor"] is None  # not created by a schedule
    assert job["batchId"] is None  # not created by a batch
    assert job["priority"] == 70 and job["maxAttempts"] == 5 and job["attempts"] == 0
    assert job["payload"] == {"steps": 1, "stepSeconds": 0.0, "failAttempts": 0, "failWith": "retryable"}


def test_user_id_in_payload_is_ignored(client, user, other_user):
    job_id = create_job(client, user["headers"], payload={"userId": other_user["id"]}).get_json()["id"]
    assert client.get(f"/api/jobs/{job_id}", headers=user["headers"]).status_code == 200
    assert client.get(f"/api/jobs/{job_id}", headers=other_user["headers"]).status_code == 404
    assert "userId" not in client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()["payload"]


def test_type_defaults_come_from_the_registry(client, user, tmp_path):
    path = tmp_path / "db.sqlite"
    sqlite3.connect(path).close()
    connection = client.post(
        "/api/connections", json={"name": "s", "url": f"sqlite:///{path}"}, headers=user["headers"]
    )
    connection_id = connection.get_json()["id"]
    response = create_job(client, user["headers"], "schema-rebuild", {"connectionId": connection_id})
    job = client.get(f"/api/jobs/{response.get_json()['id']}", headers=user["headers"]).get_json()
    assert job["maxAttempts"] == 4  # DESIGN.md: schema-rebuild retryLimit 3


@pytest.mark.parametrize(
    "body, field",
    [
        ({"type": "no-such-type", "payload": {}}, "type"),
        ({"payload": {}}, "type"),
        ({"type": "test-probe", "payload": []}, "payload"),
        ({"type": "test-probe", "payload": {"steps": 0}}, "payload"),
        ({"type": "test-probe", "payload": {"failWith": "explode"}}, "payload"),
        ({"type": "test-probe", "payload": {}, "options": {"priority": 101}}, "options"),
        ({"type": "test-probe", "payload": {}, "options": {"priority": "high"}}, "options"),
        ({"type": "test-probe", "payload": {}, "options": {"retryLimit": 11}}, "options"),
        ({"type": "test-probe", "payload": {}, "options": {"startAfter": "next tuesday"}}, "options"),
        ({"type": "test-probe", "payload": {}, "options": "fast"}, "options"),
        ({"type": "schema-rebuild", "payload": {"connectionId": "not-a-uuid"}}, "payload"),
    ],
)
def test_invalid_requests_are_400_with_field_details(client, user, body, field):
    response = client.post("/api/jobs", json=body, headers=user["headers"])
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert field in error["details"], error
    assert error["message"]


def test_an_unknown_connection_in_a_payload_is_404_naming_the_field(client, user):
    body = {"type": "schema-rebuild", "payload": {"connectionId": str(uuid.uuid4())}}
    response = client.post("/api/jobs", json=body, headers=user["headers"])
    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error"]["details"] == {"payload": {"connectionId": ["Connection not found."]}}


def test_malformed_json_is_400(client, user):
    response = client.post(
        "/api/jobs", data="{not json", headers={**user["headers"], "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_wrong_content_type_is_415(client, user):
    response = client.post(
        "/api/jobs", data="type=test-probe", headers={**user["headers"], "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_no_token_is_401(client):
    response = create_job(client, {})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_unknown_and_foreign_ids_are_404(client, user, other_user):
    job_id = create_job(client, user["headers"]).get_json()["id"]
    for path in (f"/api/jobs/{uuid.uuid4()}", f"/api/jobs/{job_id}"):
        response = client.get(path, headers=other_user["headers"])
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert client.delete(f"/api/jobs/{job_id}", headers=other_user["headers"]).status_code == 404
    assert client.post(f"/api/jobs/{job_id}/retry", headers=other_user["headers"]).status_code == 404
    assert client.get("/api/jobs/not-a-uuid", headers=user["headers"]).status_code == 404


def test_list_paginates_newest_first_and_filters(client, user):
    # Delayed, so that they stay queued even when another test's worker is running.
    ids = [create_job(client, user["headers"], options={"startAfter": 3600}).get_json()["id"] for _ in range(5)]
    client.delete(f"/api/jobs/{ids[0]}", headers=user["headers"])
    page = client.get("/api/jobs?page=1&limit=2", headers=user["headers"]).get_json()
    assert page["pagination"] == {"page": 1, "limit": 2, "total": 5, "totalPages": 3}
    assert [job["id"] for job in page["data"]] == ids[::-1][:2]
    last = client.get("/api/jobs?page=3&limit=2", headers=user["headers"]).get_json()
    assert [job["id"] for job in last["data"]] == [ids[0]]
    cancelled = client.get("/api/jobs?status=cancelled", headers=user["headers"]).get_json()
    assert [job["id"] for job in cancelled["data"]] == [ids[0]]
    both = client.get("/api/jobs?status=queued,cancelled&type=test-probe", headers=user["headers"]).get_json()
    assert both["pagination"]["total"] == 5
    assert client.get("/api/jobs?type=schema-rebuild", headers=user["headers"]).get_json()["pagination"]["total"] == 0


@pytest.mark.parametrize(
    "query", ["page=0", "page=-1", "limit=0", "limit=101", "page=abc", "status=finished", "page=99999999999"]
)
def test_bad_query_parameters_are_400(client, user, query):
    response = client.get(f"/api/jobs?{query}", headers=user["headers"])
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]


def test_idempotency_key_repeats_answer_with_the_original(client, user):
    headers = {**user["headers"], "Idempotency-Key": f"key-{uuid.uuid4()}"}
    first = create_job(client, headers, payload={"steps": 2})
    again = create_job(client, headers, payload={"steps": 2})
    different = create_job(client, headers, payload={"steps": 3})
    assert first.status_code == 202 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert different.status_code == 409
    assert different.get_json()["error"]["code"] == "idempotency_key_reused"


def test_idempotency_keys_are_per_user(client, user, other_user):
    key = f"key-{uuid.uuid4()}"
    mine = create_job(client, {**user["headers"], "Idempotency-Key": key})
    theirs = create_job(client, {**other_user["headers"], "Idempotency-Key": key})
    assert mine.status_code == theirs.status_code == 202
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_singleton_key_answers_with_the_waiting_job(client, user):
    options = {"singletonKey": f"s-{uuid.uuid4()}"}
    first = create_waiting_job(client, user["headers"], options=options)
    second = create_waiting_job(client, user["headers"], options=options)
    assert first.status_code == 202 and second.status_code == 200
    assert second.get_json()["id"] == first.get_json()["id"]
    client.delete(f"/api/jobs/{first.get_json()['id']}", headers=user["headers"])
    third = create_waiting_job(client, user["headers"], options=options)
    assert third.status_code == 202 and third.get_json()["id"] != first.get_json()["id"]


def test_start_after_keeps_the_job_waiting_with_next_attempt_at(client, user):
    when = datetime.now(UTC) + timedelta(hours=1)
    job_id = create_job(client, user["headers"], options={"startAfter": when.isoformat()}).get_json()["id"]
    job = client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()
    assert job["status"] == "queued"
    assert abs(datetime.fromisoformat(job["nextAttemptAt"]) - when) < timedelta(seconds=1)
    in_seconds = create_job(client, user["headers"], options={"startAfter": 120}).get_json()["id"]
    delayed = client.get(f"/api/jobs/{in_seconds}", headers=user["headers"]).get_json()
    delay = datetime.fromisoformat(delayed["nextAttemptAt"]) - datetime.now(UTC)
    assert timedelta(seconds=100) < delay <= timedelta(seconds=120)


def test_cancel_queued_job_then_409_on_second_cancel(client, user):
    job_id = create_waiting_job(client, user["headers"]).get_json()["id"]
    response = client.delete(f"/api/jobs/{job_id}", headers=user["headers"])
    assert response.status_code == 200 and response.get_json() == {"message": "Job cancelled"}
    assert client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()["status"] == "cancelled"
    again = client.delete(f"/api/jobs/{job_id}", headers=user["headers"])
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "invalid_transition"


def test_retry_only_failed_or_cancelled(client, user):
    job_id = create_waiting_job(client, user["headers"]).get_json()["id"]
    queued_retry = client.post(f"/api/jobs/{job_id}/retry", headers=user["headers"])
    assert queued_retry.status_code == 409
    client.delete(f"/api/jobs/{job_id}", headers=user["headers"])
    retried = client.post(f"/api/jobs/{job_id}/retry", headers=user["headers"])
    assert retried.status_code == 202
    assert retried.get_json() == {"id": job_id, "status": "queued"}


def test_audit_log_records_who_did_what(client, user, admin):
    job_id = create_waiting_job(client, user["headers"]).get_json()["id"]
    client.delete(f"/api/jobs/{job_id}", headers=user["headers"])
    client.post(f"/api/jobs/{job_id}/retry", headers=user["headers"])
    entries = client.get("/api/admin/audit-log?limit=100", headers=admin["headers"]).get_json()["data"]
    actions = [(e["action"], e["actorId"]) for e in entries if e["targetId"] == job_id]
    assert ("job.created", user["id"]) in actions
    assert ("job.cancelled", user["id"]) in actions
    assert ("job.retried", user["id"]) in actions


def test_admin_routes_refuse_non_admins(client, user, admin):
    for path in ("/api/admin/jobs", "/api/admin/dead-letter", "/api/admin/audit-log"):
        response = client.get(path, headers=user["headers"])
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
        assert client.get(path).status_code == 401
        assert client.get(path, headers=admin["headers"]).status_code == 200
    redrive = client.post(f"/api/admin/dead-letter/{uuid.uuid4()}/redrive", headers=user["headers"])
    assert redrive.status_code == 403


def test_admin_sees_every_users_jobs(client, user, other_user, admin):
    mine = create_job(client, user["headers"]).get_json()["id"]
    theirs = create_job(client, other_user["headers"]).get_json()["id"]
    listed = client.get("/api/admin/jobs?limit=100", headers=admin["headers"]).get_json()["data"]
    owners = {job["id"]: job["userId"] for job in listed}
    assert owners[mine] == user["id"] and owners[theirs] == other_user["id"]


def test_unknown_route_and_method_are_json(client):
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong_method = client.put("/api/health")
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"]["code"] == "method_not_allowed"
