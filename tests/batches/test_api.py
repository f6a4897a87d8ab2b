"""POST /api/jobs/batch without a worker: all or nothing, the answer's shape, listing by
batchId, one notification for the whole batch, idempotency, limits and ownership."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.jobs.sweeps import release_due_jobs
from app.models import AuditEntry, Job
from tests.batches.support import LATER, batch_jobs, create_batch, item, notifications_of, post_batch
from tests.support.api import create_waiting_job, register


def _jobs_of_user(app, user_id: str) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Job).where(Job.user_id == uuid.UUID(user_id)))
        db.session.remove()
    return count


def test_one_invalid_item_refuses_the_batch_with_details_by_index(app, client, user):
    jobs = [
        item(options=LATER),
        item(payload={"steps": "many"}),
        item(options=LATER),
        {"type": "no-such-type", "payload": {}},
        {"type": "test-probe", "payload": {}, "surprise": 1},
    ]
    response = post_batch(client, user["headers"], jobs)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"1", "3", "4"}
    assert "steps" in error["details"]["1"]["payload"]
    assert "type" in error["details"]["3"]
    assert "surprise" in error["details"]["4"]
    assert _jobs_of_user(app, user["id"]) == 0
    assert notifications_of(client, user["headers"], "job_queued") == []


def test_each_job_of_a_mixed_batch_is_stored_as_its_item_asked(ctx, client, user):
    """Items alike and unlike: what every row shares is sent once, what differs per row; each job
    reads back as its own item asked, in the request's order."""
    later_first = {**LATER, "priority": 5, "retryLimit": 0}
    jobs = [
        item(options=later_first),
        item(options=later_first),  # the same item again
        item(type_="noop", payload={}, options=LATER),
        item(payload={"steps": 2}, options={**LATER, "singletonKey": "only-one"}),
    ]
    body = create_batch(client, user["headers"], jobs)
    read = [client.get(f"/api/jobs/{job['id']}", headers=user["headers"]).get_json() for job in body["data"]]
    assert [job["type"] for job in read] == ["test-probe", "test-probe", "noop", "test-probe"]
    assert [job["priority"] for job in read] == [5, 5, 0, 0]
    assert [job["maxAttempts"] for job in read] == [1, 1, read[2]["maxAttempts"], read[3]["maxAttempts"]]
    assert "steps" not in read[2]["payload"] and read[3]["payload"]["steps"] == 2 and read[0]["payload"]["steps"] == 1
    assert all(job["nextAttemptAt"] and job["progress"] is None and job["result"] is None for job in read)
    rows = db.session.execute(
        select(Job.singleton_key, Job.progress.is_(None), Job.result.is_(None))
        .where(Job.batch_id == uuid.UUID(body["batchId"]))
        .order_by(Job.created_at, Job.id)
    ).all()
    assert rows == [(None, True, True), (None, True, True), (None, True, True), ("only-one", True, True)]


def test_items_alike_and_invalid_each_get_their_error(client, user):
    jobs = [item(payload={"steps": "many"}), item(options=LATER), item(payload={"steps": "many"})]
    response = post_batch(client, user["headers"], jobs)
    assert response.status_code == 400
    assert set(response.get_json()["error"]["details"]) == {"0", "2"}


def test_dependencies_are_refused_in_a_batch(client, user):
    other = create_waiting_job(client, user["headers"]).get_json()["id"]
    response = post_batch(client, user["headers"], [item(options=LATER), item(options={"dependsOn": [other]})])
    assert response.status_code == 400
    assert "dependsOn" in response.get_json()["error"]["details"]["1"]["options"]


def test_a_batch_answers_202_with_its_jobs_in_order(client, user):
    jobs = [item(options=LATER), item(type_="noop", payload={}, options=LATER), item(options=LATER)]
    response = post_batch(client, user["headers"], jobs)
    assert response.status_code == 202
    assert "Location" not in response.headers
    body = response.get_json()
    assert set(body) == {"batchId", "count", "data"}
    assert body["count"] == 3 and len(body["data"]) == 3
    assert [job["type"] for job in body["data"]] == ["test-probe", "noop", "test-probe"]
    assert all(set(job) == {"id", "type", "status", "createdAt"} for job in body["data"])
    assert {job["status"] for job in body["data"]} == {"queued"}
    listed = batch_jobs(client, user["headers"], body["batchId"])
    assert {job["id"] for job in listed} == {job["id"] for job in body["data"]}
    assert {job["batchId"] for job in listed} == {body["batchId"]}
    one = client.get(f"/api/jobs/{body['data'][0]['id']}", headers=user["headers"]).get_json()
    assert one["batchId"] == body["batchId"] and one["nextAttemptAt"]  # startAfter applies
    single = create_waiting_job(client, user["headers"]).get_json()["id"]
    assert client.get(f"/api/jobs/{single}", headers=user["headers"]).get_json()["batchId"] is None


def test_a_batch_announces_itself_once_and_is_audited_once(app, client, user):
    body = create_batch(client, user["headers"], [item(options=LATER) for _ in range(25)])
    queued = notifications_of(client, user["headers"], "job_queued")
    assert len(queued) == 1
    assert queued[0]["data"]["batchId"] == body["batchId"] and queued[0]["data"]["count"] == 25
    assert queued[0]["data"]["url"].endswith(f"/jobs?batchId={body['batchId']}")
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == uuid.UUID(user["id"]))
        ).all()
        db.session.remove()
    assert sorted(entries).count("batch.created") == 1 and "job.created" not in entries


def test_another_user_sees_nothing_of_a_batch(client, user, other_user):
    body = create_batch(client, user["headers"], [item(options=LATER), item(options=LATER)])
    assert batch_jobs(client, other_user["headers"], body["batchId"]) == []
    job_id = body["data"][0]["id"]
    assert client.get(f"/api/jobs/{job_id}", headers=other_user["headers"]).status_code == 404
    assert len(batch_jobs(client, user["headers"], body["batchId"])) == 2


def test_an_idempotency_key_covers_the_whole_batch(app, client, user):
    jobs = [item(options=LATER), item(options=LATER)]
    headers = {**user["headers"], "Idempotency-Key": "nightly-2026-12-01"}
    first = post_batch(client, headers, jobs)
    again = post_batch(client, headers, jobs)
    assert first.status_code == 202 and again.status_code == 200
    assert again.get_json() == first.get_json()
    other_body = post_batch(client, headers, [item(options=LATER)])
    assert other_body.status_code == 409
    assert other_body.get_json()["error"]["code"] == "idempotency_key_reused"
    assert _jobs_of_user(app, user["id"]) == 2
    # The same key on POST /api/jobs is another request too.
    single = client.post("/api/jobs", json=jobs[0], headers=headers)
    assert single.status_code == 409 and single.get_json()["error"]["code"] == "idempotency_key_reused"


def test_singleton_keys_repeated_in_the_batch_or_held_by_a_waiting_job_are_refused(client, user):
    key = f"nightly-{uuid.uuid4().hex[:8]}"
    repeated = post_batch(client, user["headers"], [item(options={**LATER, "singletonKey": key})] * 2)
    assert repeated.status_code == 400
    assert "singletonKey" in repeated.get_json()["error"]["details"]["1"]["options"]
    holder = create_waiting_job(client, user["headers"], options={"singletonKey": key}).get_json()["id"]
    taken = post_batch(client, user["headers"], [item(options=LATER), item(options={**LATER, "singletonKey": key})])
    assert taken.status_code == 409
    error = taken.get_json()["error"]
    assert error["code"] == "singleton_conflict" and holder in str(error["details"]["1"])
    assert len(client.get("/api/jobs?limit=100", headers=user["headers"]).get_json()["data"]) == 1


def test_the_size_limit_is_batch_max_jobs(database):
    app = create_app({"BATCH_MAX_JOBS": 3})
    client = app.test_client()
    user = register(client)
    spec = client.get("/api/openapi.json").get_json()
    body_schema = spec["components"]["schemas"]["JobBatchCreate"]["properties"]["jobs"]
    assert body_schema["maxItems"] == 3 and body_schema["items"] == {"$ref": "#/components/schemas/JobCreate"}
    too_many = post_batch(client, user["headers"], [item(options=LATER)] * 4)
    assert too_many.status_code == 400 and "jobs" in too_many.get_json()["error"]["details"]
    assert post_batch(client, user["headers"], []).status_code == 400
    assert post_batch(client, user["headers"], [item(options=LATER)] * 3).status_code == 202


def test_the_default_size_limit_is_a_thousand(client, user):
    assert post_batch(client, user["headers"], [item(options=LATER)] * 1001).status_code == 400
    body = create_batch(client, user["headers"], [item(options=LATER) for _ in range(1000)])
    assert body["count"] == 1000 and len({job["id"] for job in body["data"]}) == 1000
    page = client.get(f"/api/jobs?batchId={body['batchId']}&limit=1", headers=user["headers"]).get_json()
    assert page["pagination"]["total"] == 1000


def test_a_batch_counts_as_one_request_for_the_rate_limit(database):
    app = create_app({"JOB_RATE_LIMIT_PER_MINUTE": 2})
    client = app.test_client()
    user = register(client)
    statuses = [post_batch(client, user["headers"], [item(options=LATER)] * 5).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]


def test_a_batch_created_while_redis_is_down_is_kept_and_sent_by_the_sweep(user, ctx):
    """Every job is committed (202) although the broker is unreachable, none marked as sent; the
    release sweep sends them once Redis answers again."""
    broken = create_app({"REDIS_URL": "redis://127.0.0.1:1/0"})
    response = post_batch(broken.test_client(), user["headers"], [item(type_="noop", payload={}) for _ in range(5)])
    assert response.status_code == 202
    ids = [uuid.UUID(job["id"]) for job in response.get_json()["data"]]
    db.session.expire_all()
    rows = db.session.execute(select(Job.status, Job.enqueued_at).where(Job.id.in_(ids))).all()
    assert [(status, sent) for status, sent in rows] == [("queued", None)] * 5, "not marked as sent"
    # A beat left running by an earlier test may release them first: either way they are sent now.
    release_due_jobs()
    db.session.expire_all()
    assert None not in db.session.scalars(select(Job.enqueued_at).where(Job.id.in_(ids))).all()
