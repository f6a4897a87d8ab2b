"""POST/GET/DELETE /api/workflows and options.dependsOn, as a client sees them: validation that
creates nothing, ownership, the blocked state. Delayed roots keep any worker of the session
from running these jobs while a test looks at them."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.extensions import db
from app.models import Job
from tests.support.api import create_job
from tests.workflows.support import create_workflow, get_workflow, spec

LATER = {"startAfter": 3600}


def _job_count(client, headers) -> int:
    return client.get("/api/jobs?limit=1", headers=headers).get_json()["pagination"]["total"]


def _refused(client, headers, jobs) -> dict:
    before = _job_count(client, headers)
    response = client.post("/api/workflows", json={"jobs": jobs}, headers=headers)
    assert response.status_code == 400, response.get_json()
    assert _job_count(client, headers) == before, "a refused workflow created jobs"
    assert client.get("/api/workflows", headers=headers).get_json()["pagination"]["total"] == 0
    return response.get_json()["error"]


def test_created_with_keys_resolved_to_ids(client, user):
    jobs = [spec("a", options=LATER), spec("b", ["a"]), spec("c", ["a"]), spec("d", ["b", "c"])]
    response = client.post("/api/workflows", json={"name": "nightly", "jobs": jobs}, headers=user["headers"])
    assert response.status_code == 202
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/workflows/{body['id']}")
    assert body["name"] == "nightly" and body["status"] == "queued" and body["createdAt"]
    assert [job["key"] for job in body["jobs"]] == ["a", "b", "c", "d"]
    by_key = {job["key"]: job for job in body["jobs"]}
    assert by_key["d"]["dependsOn"] == ["b", "c"] and by_key["a"]["dependsOn"] == []
    assert all(job["status"] == "queued" for job in body["jobs"])

    d = client.get(f"/api/jobs/{by_key['d']['id']}", headers=user["headers"]).get_json()
    assert d["status"] == "queued" and d["workflowId"] == body["id"]
    assert set(d["blockedBy"]) == {by_key["b"]["id"], by_key["c"]["id"]}
    listed = client.get(f"/api/jobs?workflowId={body['id']}&limit=100", headers=user["headers"]).get_json()
    assert {job["id"] for job in listed["data"]} == {job["id"] for job in body["jobs"]}
    one = get_workflow(client, user["headers"], body["id"])
    assert one["completedAt"] is None and one["jobs"] == body["jobs"]
    page = client.get("/api/workflows", headers=user["headers"]).get_json()
    assert page["pagination"]["total"] == 1 and page["data"][0]["id"] == body["id"]


def test_a_cycle_is_refused_and_nothing_is_created(client, user):
    error = _refused(client, user["headers"], [spec("a", ["c"]), spec("b", ["a"]), spec("c", ["b"]), spec("d")])
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"a", "b", "c"}
    assert "Dependency cycle" in error["details"]["a"]["dependsOn"][0]


def test_unknown_and_duplicate_keys_and_invalid_jobs_are_refused(client, user):
    jobs = [
        spec("a"),
        spec("a"),
        spec("b", ["nope"]),
        spec("c", payload={"steps": 0}),
        {"key": "d", "type": "no-such-type", "payload": {}},
        spec("e", options={"singletonKey": "x"}),
    ]
    details = _refused(client, user["headers"], jobs)["details"]
    assert "key" in details["1"]
    assert details["b"]["dependsOn"] == ["Unknown key(s): nope."]
    assert "steps" in details["c"]["payload"]
    assert "type" in details["d"]
    assert "singletonKey" in details["e"]["options"]


def test_size_limits(client, user):
    assert "jobs" in _refused(client, user["headers"], [])["details"]
    assert "jobs" in _refused(client, user["headers"], [spec(f"j{i}") for i in range(101)])["details"]


def test_depends_on_another_users_job_is_404(client, user, other_user):
    theirs = create_job(client, other_user["headers"], options=LATER).get_json()["id"]
    response = create_job(client, user["headers"], options={"dependsOn": [theirs]})
    assert response.status_code == 404
    unknown = create_job(client, user["headers"], options={"dependsOn": [str(uuid.uuid4())]})
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"


def test_depends_on_a_cancelled_job_is_409_dependency_failed(client, user):
    first = create_job(client, user["headers"], options=LATER).get_json()["id"]
    assert client.delete(f"/api/jobs/{first}", headers=user["headers"]).status_code == 200
    response = create_job(client, user["headers"], options={"dependsOn": [first]})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "dependency_failed"


def test_depends_on_is_limited_to_50(client, user):
    ids = [str(uuid.uuid4()) for _ in range(51)]
    response = create_job(client, user["headers"], options={"dependsOn": ids})
    assert response.status_code == 400 and "dependsOn" in response.get_json()["error"]["details"]["options"]


def test_a_blocked_job_shows_blocked_by_and_is_cancelled_with_its_dependency(client, user):
    first = create_job(client, user["headers"], options=LATER).get_json()["id"]
    second = create_job(client, user["headers"], options={"dependsOn": [first]}).get_json()["id"]
    third = create_job(client, user["headers"], options={"dependsOn": [second]}).get_json()["id"]
    job = client.get(f"/api/jobs/{second}", headers=user["headers"]).get_json()
    assert job["status"] == "queued" and job["blockedBy"] == [first] and job["workflowId"] is None

    assert client.delete(f"/api/jobs/{first}", headers=user["headers"]).status_code == 200
    second_job = client.get(f"/api/jobs/{second}", headers=user["headers"]).get_json()
    third_job = client.get(f"/api/jobs/{third}", headers=user["headers"]).get_json()
    assert second_job["status"] == "cancelled" and second_job["error"] == f"dependency {first} cancelled"
    assert third_job["status"] == "cancelled" and third_job["error"] == f"dependency {second} cancelled"


def test_another_users_workflow_is_404(client, user, other_user):
    workflow = create_workflow(client, user["headers"], [spec("a", options=LATER)])
    for method in (client.get, client.delete):
        response = method(f"/api/workflows/{workflow['id']}", headers=other_user["headers"])
        assert response.status_code == 404
    assert client.get("/api/workflows", headers=other_user["headers"]).get_json()["data"] == []
    listed = client.get(f"/api/jobs?workflowId={workflow['id']}", headers=other_user["headers"]).get_json()
    assert listed["data"] == []


def test_cancel_cancels_every_unfinished_job_then_409(client, user):
    workflow = create_workflow(client, user["headers"], [spec("a", options=LATER), spec("b", ["a"])])
    response = client.delete(f"/api/workflows/{workflow['id']}", headers=user["headers"])
    assert response.status_code == 200 and response.get_json() == {"message": "Workflow cancelled"}
    body = get_workflow(client, user["headers"], workflow["id"])
    assert body["status"] == "cancelled" and body["completedAt"]
    assert {job["status"] for job in body["jobs"]} == {"cancelled"}
    again = client.delete(f"/api/workflows/{workflow['id']}", headers=user["headers"])
    assert again.status_code == 409


def test_the_openapi_document_describes_workflows(client):
    spec_doc = client.get("/api/openapi.json").get_json()
    assert {"post", "get"} <= set(spec_doc["paths"]["/api/workflows"])
    schema = spec_doc["components"]["schemas"]["Workflow"]
    assert schema["properties"]["status"]["enum"] == ["queued", "active", "completed", "failed", "cancelled"]


def test_only_jobs_that_others_depend_on_release_dependents_when_they_complete(app, client, user):
    """A completion releases dependents only for a job marked as having some: marked when a
    job depending on it is created (alone or in a workflow), on no other job."""
    headers = user["headers"]
    depended = create_job(client, headers, options=LATER).get_json()["id"]
    alone = create_job(client, headers, options=LATER).get_json()["id"]
    waiting = create_job(client, headers, options={"dependsOn": [depended]}).get_json()["id"]
    workflow = create_workflow(client, headers, [spec("root", options=LATER), spec("leaf", ["root"])])
    keys = {job["key"]: job["id"] for job in workflow["jobs"]}
    with app.app_context():
        marked = dict(
            db.session.execute(
                select(Job.id, Job.has_dependents).where(
                    Job.id.in_([uuid.UUID(i) for i in (depended, alone, waiting, keys["root"], keys["leaf"])])
                )
            ).all()
        )
        db.session.remove()
    assert {str(job_id) for job_id, flag in marked.items() if flag} == {depended, keys["root"]}
