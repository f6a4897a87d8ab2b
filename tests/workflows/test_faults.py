"""Dependencies across crashes, on a private Redis where only the processes a test starts run
its jobs: release without any sweep, a hand-off lost between the commit and the broker, a worker
SIGKILLed just after a completion, and the sweep that repairs a blocked job left behind."""

from __future__ import annotations

import os
import signal
import time
import uuid

from sqlalchemy import text

from app.extensions import db
from app.jobs import state
from app.models import Job
from app.platform import unit_of_work
from app.workflows.sweep import sweep_dependencies
from tests.faults.harness import check_exactly_once, job_rows, wait_all_final
from tests.support import processes
from tests.workflows.support import assert_ran_after, create_workflow, jobs_by_key, spec, wait_for_workflow

RETRIES = {"retryLimit": 5, "retryDelay": 0}


def _worker(env: dict, name: str):
    return processes.start_worker(
        concurrency=2, name=f"{name}-{uuid.uuid4().hex[:6]}", queues="jobs,maintenance", env=env
    )


def _status(job_id: str) -> str:
    db.session.expire_all()
    status = db.session.get(Job, uuid.UUID(job_id)).status
    db.session.commit()
    return status


def test_dependents_are_released_by_the_completion_itself(fault_app):
    """No beat runs: nothing but the completing transactions and their hand-offs can start the
    dependents, and the fan-in's dependencies complete at the same moments on parallel processes."""
    app, client, env, account = fault_app
    worker = _worker(env, "nobeat")
    try:
        edges = {"a": [], "b1": ["a"], "b2": ["a"], "b3": ["a"], "b4": ["a"], "c": ["b1", "b2", "b3", "b4"], "d": ["c"]}
        workflow = create_workflow(client, account["headers"], [spec(key, deps) for key, deps in edges.items()])
        done = wait_for_workflow(client, account["headers"], workflow["id"], timeout=30)
    finally:
        processes.stop(worker)
    assert done["status"] == "completed"
    assert_ran_after(jobs_by_key(client, account["headers"], done), edges)
    # Run by this test's worker: not sent by a sweep of some other beat on the same database.
    rows = job_rows([job["id"] for job in done["jobs"]])
    assert all(worker_name.startswith("nobeat-") for _, _, worker_name in rows.values()), rows


def test_many_fan_ins_at_once_need_no_sweep(fault_app):
    """Dependencies completing at the same instant on four processes: each fan-in is released by
    whichever completion came last, never left waiting (no beat runs to repair one)."""
    app, client, env, account = fault_app
    edges = {"a": [], "b1": ["a"], "b2": ["a"], "b3": ["a"], "b4": ["a"], "c": ["b1", "b2", "b3", "b4"]}
    worker = processes.start_worker(concurrency=4, name=f"fanin-{uuid.uuid4().hex[:6]}", queues="jobs", env=env)
    try:
        workflows = [
            create_workflow(
                client, account["headers"], [spec(k, deps, payload={"steps": 1}) for k, deps in edges.items()]
            )
            for _ in range(10)
        ]
        done = [wait_for_workflow(client, account["headers"], wf["id"], timeout=60) for wf in workflows]
    finally:
        processes.stop(worker)
    assert [wf["status"] for wf in done] == ["completed"] * 10


def test_a_hand_off_lost_after_the_commit_is_sent_by_the_sweeps(fault_app):
    """The completion commits, the process dies before the broker hears of the released job."""
    app, client, env, account = fault_app
    workflow = create_workflow(client, account["headers"], [spec("a"), spec("b", ["a"])])
    a_id, b_id = (uuid.UUID(job["id"]) for job in workflow["jobs"])
    claimed = state.claim(a_id, "crashing-worker")
    db.session.commit()
    assert state.complete(claimed, claimed.attempts, {"steps": 1}, None) is not None
    db.session.info.pop(unit_of_work.HAND_OFFS)  # what a crash right after the commit loses
    db.session.commit()
    b = db.session.get(Job, b_id)
    assert b.status == "queued" and b.blocked_by is None, "b was not released in a's transaction"

    beat = processes.start_beat(env=env)
    worker = _worker(env, "after-crash")
    try:
        rows = wait_all_final([str(b_id)], timeout=60)
    finally:
        processes.stop(worker)
        processes.stop(beat)
    assert rows[str(b_id)][0] == "completed"
    assert check_exactly_once([str(b_id)], rows)["completed"] == 1


def test_worker_sigkilled_just_after_a_completion(fault_app):
    app, client, env, account = fault_app
    edges = {"a": [], "b1": ["a"], "b2": ["a"], "b3": ["a"], "c": ["b1", "b2", "b3"], "d": ["c"]}
    jobs_in = [
        spec(key, deps, payload={"steps": 2, "stepSeconds": 0.3}, options=RETRIES) for key, deps in edges.items()
    ]
    beat = processes.start_beat(env=env)
    worker = _worker(env, "victim")
    replacement = None
    try:
        workflow = create_workflow(client, account["headers"], jobs_in)
        ids = {job["key"]: job["id"] for job in workflow["jobs"]}
        deadline = time.monotonic() + 30
        while _status(ids["a"]) != "completed":
            assert time.monotonic() < deadline, "a never completed"
            time.sleep(0.005)
        os.killpg(worker.pid, signal.SIGKILL)  # the main process and every pool child at once
        worker.wait(10)
        replacement = _worker(env, "replacement")
        rows = wait_all_final(list(ids.values()), timeout=120)
    finally:
        for proc in (replacement, worker, beat):
            if proc is not None:
                processes.stop(proc)
    figures = check_exactly_once(list(ids.values()), rows)
    assert figures["completed"] == len(ids), figures
    done = wait_for_workflow(client, account["headers"], workflow["id"], timeout=10)
    assert done["status"] == "completed"
    assert_ran_after(jobs_by_key(client, account["headers"], done), edges)


def test_the_sweep_repairs_blocked_jobs_left_behind(fault_app):
    """Dependencies finished by a path that skipped the release (or the cascade): the sweep
    unblocks the job whose dependencies all completed, cancels the one whose dependency failed,
    and settles the workflow."""
    app, client, env, account = fault_app
    # `b` is delayed: once unblocked it waits, so no release sweep (the session's beat shares this
    # database) sends it before the test looks.
    later = {"startAfter": 3600}
    done_first = create_workflow(client, account["headers"], [spec("a"), spec("b", ["a"], options=later)])
    failed_first = create_workflow(client, account["headers"], [spec("x"), spec("y", ["x"])])
    a_id, b_id = (job["id"] for job in done_first["jobs"])
    x_id, y_id = (job["id"] for job in failed_first["jobs"])
    bypass = text("UPDATE jobs SET status = :status, completed_at = now() WHERE id = CAST(:id AS uuid)")
    db.session.execute(bypass, {"status": "completed", "id": a_id})
    db.session.execute(bypass, {"status": "failed", "id": x_id})
    db.session.commit()

    assert sweep_dependencies() >= 2
    db.session.expire_all()
    b, y = db.session.get(Job, uuid.UUID(b_id)), db.session.get(Job, uuid.UUID(y_id))
    assert b.status == "queued" and b.blocked_by is None and b.enqueued_at is None  # for the release sweep, when due
    assert y.status == "cancelled" and y.error == f"dependency {x_id} failed"
    db.session.commit()
    failed = client.get(f"/api/workflows/{failed_first['id']}", headers=account["headers"]).get_json()
    assert failed["status"] == "failed" and failed["completedAt"]
    notes = client.get("/api/notifications?limit=100", headers=account["headers"]).get_json()["data"]
    assert failed_first["id"] in {n["data"].get("workflowId") for n in notes if n["type"] == "workflow_failed"}


def test_a_finished_workflow_goes_once_retention_deleted_its_jobs(fault_app):
    app, client, env, account = fault_app
    workflow = create_workflow(client, account["headers"], [spec("a", options={"startAfter": 3600})])
    assert client.delete(f"/api/workflows/{workflow['id']}", headers=account["headers"]).status_code == 200
    sweep_dependencies()
    assert client.get(f"/api/workflows/{workflow['id']}", headers=account["headers"]).status_code == 200
    params = {"id": workflow["id"]}
    db.session.execute(text("DELETE FROM jobs WHERE workflow_id = CAST(:id AS uuid)"), params)
    db.session.execute(
        text("UPDATE workflows SET completed_at = now() - interval '31 days' WHERE id = CAST(:id AS uuid)"), params
    )
    db.session.commit()
    sweep_dependencies()
    assert client.get(f"/api/workflows/{workflow['id']}", headers=account["headers"]).status_code == 404
