"""Workflows on a real Celery worker and beat: chains, fan-out and fan-in, a failing middle job,
cancel while running, retry after a failure, a 100-job workflow drained."""

from __future__ import annotations

import time

from tests.support.api import create_job, wait_for_job
from tests.support.mail import email_subjects
from tests.workflows.support import (
    FAILS,
    assert_ran_after,
    create_workflow,
    get_workflow,
    jobs_by_key,
    notifications_of,
    spec,
    wait_for_workflow,
)

FAIL_ONCE = {"retryLimit": 0}


def test_a_chain_runs_in_order(app, client, user, worker, beat):
    edges = {"a": [], "b": ["a"], "c": ["b"]}
    workflow = create_workflow(client, user["headers"], [spec(key, deps) for key, deps in edges.items()])
    done = wait_for_workflow(client, user["headers"], workflow["id"])
    assert done["status"] == "completed" and done["completedAt"]
    jobs = jobs_by_key(client, user["headers"], done)
    assert {job["status"] for job in jobs.values()} == {"completed"}
    assert all(job["attempts"] == 1 and job["blockedBy"] == [] for job in jobs.values())
    assert_ran_after(jobs, edges)
    completed = notifications_of(client, user["headers"], "workflow_completed")
    assert [n["data"]["workflowId"] for n in completed] == [workflow["id"]]
    assert completed[0]["data"]["completed"] == 3
    assert email_subjects(app, user["id"], "workflow_completed") == ["Workflow test completed"]


def test_fan_out_and_fan_in(client, user, worker, beat):
    edges = {"extract": [], "t1": ["extract"], "t2": ["extract"], "t3": ["extract"], "load": ["t1", "t2", "t3"]}
    workflow = create_workflow(client, user["headers"], [spec(key, deps) for key, deps in edges.items()])
    done = wait_for_workflow(client, user["headers"], workflow["id"])
    assert done["status"] == "completed"
    jobs = jobs_by_key(client, user["headers"], done)
    assert_ran_after(jobs, edges)


def test_a_failing_middle_job_cancels_its_descendants_only(app, client, user, worker, beat):
    edges = {
        "a": [],
        "bad": ["a"],
        "after_bad": ["bad"],
        "last": ["after_bad"],
        "sibling": ["a"],
        "join": ["bad", "sibling"],
    }
    jobs_in = [spec(key, deps) for key, deps in edges.items()]
    jobs_in[1] = spec("bad", ["a"], payload=FAILS, options=FAIL_ONCE)
    workflow = create_workflow(client, user["headers"], jobs_in)
    done = wait_for_workflow(client, user["headers"], workflow["id"])
    assert done["status"] == "failed"
    jobs = jobs_by_key(client, user["headers"], done)
    ids = {key: job["id"] for key, job in jobs.items()}
    assert jobs["a"]["status"] == "completed" and jobs["sibling"]["status"] == "completed"
    assert jobs["bad"]["status"] == "failed"
    assert (
        jobs["after_bad"]["status"] == "cancelled" and jobs["after_bad"]["error"] == f"dependency {ids['bad']} failed"
    )
    assert jobs["last"]["status"] == "cancelled"
    assert jobs["last"]["error"] == f"dependency {ids['after_bad']} cancelled"
    assert jobs["join"]["status"] == "cancelled" and jobs["join"]["error"] == f"dependency {ids['bad']} failed"
    assert all(jobs[key]["startedAt"] is None for key in ("after_bad", "last", "join"))
    failed = notifications_of(client, user["headers"], "workflow_failed")
    assert [n["data"]["workflowId"] for n in failed] == [workflow["id"]]
    assert email_subjects(app, user["id"], "workflow_failed") == ["Workflow test failed"]
    cancelled = {n["data"]["jobId"] for n in notifications_of(client, user["headers"], "job_cancelled")}
    assert {ids["after_bad"], ids["last"], ids["join"]} <= cancelled


def test_cancel_a_running_workflow(client, user, worker, beat):
    slow = {"steps": 60, "stepSeconds": 0.5}
    workflow = create_workflow(client, user["headers"], [spec("a", payload=slow), spec("b", ["a"]), spec("c", ["b"])])
    a_id = workflow["jobs"][0]["id"]
    wait_for_job(client, user["headers"], a_id, statuses=("active",))
    assert wait_for_workflow(client, user["headers"], workflow["id"], statuses=("active",))["status"] == "active"
    assert client.delete(f"/api/workflows/{workflow['id']}", headers=user["headers"]).status_code == 200
    stopped = time.monotonic()
    assert wait_for_job(client, user["headers"], a_id, timeout=10)["status"] == "cancelled"
    body = wait_for_workflow(client, user["headers"], workflow["id"], timeout=5)
    assert body["status"] == "cancelled" and {job["status"] for job in body["jobs"]} == {"cancelled"}
    time.sleep(max(0.0, 6 - (time.monotonic() - stopped)))  # the runner saw the cancellation by now
    jobs = jobs_by_key(client, user["headers"], body)
    assert jobs["a"]["status"] == "cancelled" and jobs["a"]["progress"]["current"] < 60
    assert jobs["b"]["startedAt"] is None and jobs["c"]["startedAt"] is None


def test_retry_of_a_failed_job_brings_back_its_dependents(client, user, worker, beat):
    workflow = create_workflow(
        client, user["headers"], [spec("a", payload=FAILS, options=FAIL_ONCE), spec("b", ["a"]), spec("c", ["b"])]
    )
    ids = {job["key"]: job["id"] for job in workflow["jobs"]}
    assert wait_for_workflow(client, user["headers"], workflow["id"])["status"] == "failed"
    retried = client.post(f"/api/jobs/{ids['a']}/retry", headers=user["headers"])
    assert retried.status_code == 202
    # The probe fails on every first attempt: the dependents came back, then were cancelled again.
    deadline = time.monotonic() + 30
    while len(notifications_of(client, user["headers"], "workflow_failed")) < 2:
        assert time.monotonic() < deadline, "the retried workflow did not fail again"
        time.sleep(0.2)
    body = get_workflow(client, user["headers"], workflow["id"])
    assert body["status"] == "failed"
    queued_b = [n for n in notifications_of(client, user["headers"], "job_queued") if n["data"]["jobId"] == ids["b"]]
    assert len(queued_b) == 2, "b was not queued again by the retry"
    jobs = jobs_by_key(client, user["headers"], body)
    assert jobs["b"]["error"] == f"dependency {ids['a']} failed"
    assert jobs["c"]["error"] == f"dependency {ids['b']} cancelled"


def test_retry_of_a_cancelled_job_runs_the_rest(client, user, worker, beat):
    workflow = create_workflow(
        client, user["headers"], [spec("a", options={"startAfter": 3600}), spec("b", ["a"]), spec("c", ["b"])]
    )
    ids = {job["key"]: job["id"] for job in workflow["jobs"]}
    assert client.delete(f"/api/jobs/{ids['a']}", headers=user["headers"]).status_code == 200
    assert get_workflow(client, user["headers"], workflow["id"])["status"] == "cancelled"
    assert client.post(f"/api/jobs/{ids['b']}/retry", headers=user["headers"]).status_code == 409
    assert client.post(f"/api/jobs/{ids['a']}/retry", headers=user["headers"]).status_code == 202
    reopened = get_workflow(client, user["headers"], workflow["id"])
    assert reopened["status"] in ("queued", "active") and reopened["completedAt"] is None
    done = wait_for_workflow(client, user["headers"], workflow["id"])
    assert done["status"] == "completed"
    assert_ran_after(jobs_by_key(client, user["headers"], done), {"b": ["a"], "c": ["b"]})


def test_a_job_depending_on_single_jobs(client, user, worker, beat):
    first = create_job(client, user["headers"], payload={"steps": 2, "stepSeconds": 0.2}).get_json()["id"]
    second = create_job(client, user["headers"]).get_json()["id"]
    joined = create_job(client, user["headers"], options={"dependsOn": [first, second]}).get_json()["id"]
    job = wait_for_job(client, user["headers"], joined)
    assert job["status"] == "completed" and job["blockedBy"] == []
    for dependency in (first, second):
        finished = client.get(f"/api/jobs/{dependency}", headers=user["headers"]).get_json()
        assert job["startedAt"] >= finished["completedAt"]


def test_a_100_job_workflow_is_created_and_drained(client, user, worker, beat):
    # Ten layers of ten: each job waits for two jobs of the layer before it.
    jobs_in = [spec(f"l0-{i}", payload={"steps": 1}) for i in range(10)]
    edges = {}
    for layer in range(1, 10):
        for i in range(10):
            key = f"l{layer}-{i}"
            edges[key] = [f"l{layer - 1}-{i}", f"l{layer - 1}-{(i + 1) % 10}"]
            jobs_in.append(spec(key, edges[key], payload={"steps": 1}))
    started = time.monotonic()
    workflow = create_workflow(client, user["headers"], jobs_in)
    created = time.monotonic() - started
    assert len(workflow["jobs"]) == 100 and created < 10
    done = wait_for_workflow(client, user["headers"], workflow["id"], timeout=120)
    assert done["status"] == "completed"
    listed = client.get(f"/api/jobs?workflowId={workflow['id']}&limit=100", headers=user["headers"]).get_json()
    assert listed["pagination"]["total"] == 100
    jobs = {job["id"]: job for job in listed["data"]}
    by_key = {entry["key"]: jobs[entry["id"]] for entry in done["jobs"]}
    assert all(job["attempts"] == 1 for job in jobs.values())
    assert_ran_after(by_key, edges)
