"""GET /api/admin/jobs filters: one user's jobs, by status and type, as the operator page asks."""

from __future__ import annotations

from tests.support.api import create_job


def test_one_users_jobs(client, user, other_user, admin):
    later = {"startAfter": 3600}  # delayed: no worker finishes them meanwhile
    mine = {create_job(client, user["headers"], options=later).get_json()["id"] for _ in range(2)}
    create_job(client, other_user["headers"], options=later)
    listed = client.get(f"/api/admin/jobs?userId={user['id']}&limit=100", headers=admin["headers"]).get_json()
    assert {job["id"] for job in listed["data"]} == mine
    assert {job["userId"] for job in listed["data"]} == {user["id"]}
    assert listed["pagination"]["total"] == 2

    queued = client.get(f"/api/admin/jobs?userId={user['id']}&status=queued&type=test-probe", headers=admin["headers"])
    assert {job["id"] for job in queued.get_json()["data"]} == mine
    none = client.get(f"/api/admin/jobs?userId={user['id']}&status=completed", headers=admin["headers"])
    assert none.get_json()["data"] == []


def test_a_malformed_user_id_is_400(client, admin):
    response = client.get("/api/admin/jobs?userId=not-a-uuid", headers=admin["headers"])
    assert response.status_code == 400
    assert "userId" in response.get_json()["error"]["details"]
