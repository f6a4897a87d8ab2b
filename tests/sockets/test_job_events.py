"""Events of jobs run by the real Celery worker, as subscribed clients receive them."""

from __future__ import annotations

import time

import pytest

from tests.support.api import WAITING, create_job

pytestmark = pytest.mark.usefixtures("worker")

LIFECYCLE = {"queued": 0, "active": 1, "completed": 2, "failed": 2, "cancelled": 2}


def statuses(events: list[tuple[str, dict]]) -> list[str]:
    return [data["status"] for name, data in events if name == "job:status"]


def rest_job(api, token: str, job_id: str) -> dict:
    response = api("GET", f"/api/jobs/{job_id}", token)
    assert response.status_code == 200, response.text
    return response.json()


def check_against_rest(api, token: str):
    """A hook that reads the job through REST the moment its event arrives: what the event says
    must already be committed (the row is at least as far along as the event)."""

    def check(data: dict) -> bool:
        job = rest_job(api, token, data["jobId"])
        if "status" not in data:  # job:completed / job:failed
            return job["status"] in ("completed", "failed")
        if LIFECYCLE[job["status"]] > LIFECYCLE[data["status"]]:
            return True
        progress = data.get("progress") or {}
        return job["status"] == data["status"] and (job["progress"] or {}).get("current", 0) >= progress.get(
            "current", 0
        )

    return check


def create_waiting_probe(api, token: str, payload: dict) -> str:
    """A test-probe job held back an hour, so a test can subscribe before it runs; returns its id."""
    created = api("POST", "/api/jobs", token, json={"type": "test-probe", "payload": payload, "options": WAITING})
    return created.json()["id"]


def test_probe_job_sequence_from_subscription_to_completed(open_socket, api, user):
    socket = open_socket(user["token"])
    for event in ("job:status", "job:completed"):
        socket.on_arrival(event, check_against_rest(api, user["token"]))
    created = api(
        "POST", "/api/jobs", user["token"], json={"type": "test-probe", "payload": {"steps": 5, "stepSeconds": 0.2}}
    )
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    ack = socket.call("subscribe:job", {"jobId": job_id})
    assert ack["ok"] is True and ack["job"]["status"] in ("queued", "active")

    completed = socket.wait_for("job:completed", lambda data: data["jobId"] == job_id, timeout=30)
    assert completed == {"jobId": job_id, "result": {"steps": 5}}
    events = socket.job_events(job_id)
    assert events[-1][0] == "job:completed"  # the last word, after the last status
    timeline = [ack["job"]["status"], *statuses(events)]
    assert timeline == sorted(timeline, key=LIFECYCLE.get), timeline
    assert timeline[-1] == "completed"
    assert events[-2] == (
        "job:status",
        {
            "jobId": job_id,
            "status": "completed",
            "progress": {"current": 5, "total": 5, "percentage": 100, "message": "Step 5 of 5"},
        },
    )
    progress = [
        data["progress"]["current"]
        for name, data in events
        if name == "job:status" and data["status"] == "active" and data["progress"]
    ]
    assert len(progress) >= 2 and progress == sorted(set(progress)), progress
    # Every event was already true in Postgres when it arrived.
    assert all(ok for _, _, ok in socket.hook_results), socket.hook_results


def test_retried_job_announces_queued_active_progress_completed(open_socket, api, user):
    """A subscriber sees the whole lifecycle, `queued` included, when a job is queued again."""
    job_id = create_waiting_probe(api, user["token"], {"steps": 3, "stepSeconds": 0.3})
    socket = open_socket(user["token"])
    assert socket.call("subscribe:job", {"jobId": job_id})["job"]["status"] == "queued"
    assert api("DELETE", f"/api/jobs/{job_id}", user["token"]).status_code == 200
    socket.wait_for("job:status", lambda data: data["jobId"] == job_id and data["status"] == "cancelled")
    assert api("POST", f"/api/jobs/{job_id}/retry", user["token"]).status_code == 202
    socket.wait_for("job:completed", lambda data: data["jobId"] == job_id, timeout=30)

    seen = statuses(socket.job_events(job_id))
    collapsed = [status for i, status in enumerate(seen) if i == 0 or seen[i - 1] != status]
    assert collapsed == ["cancelled", "queued", "active", "completed"], seen
    active = [data for name, data in socket.job_events(job_id) if name == "job:status" and data["status"] == "active"]
    assert active[0]["progress"] is None  # started, no step done yet
    assert [data["progress"]["current"] for data in active[1:]] == sorted(
        {d["progress"]["current"] for d in active[1:]}
    )


def test_failing_job_ends_with_job_failed(open_socket, api, user):
    socket = open_socket(user["token"])
    socket.on_arrival("job:failed", check_against_rest(api, user["token"]))
    job_id = create_waiting_probe(api, user["token"], {"failAttempts": 5, "failWith": "permanent"})
    # Subscribed while it cannot start yet, then queued again to run now: no event can be missed.
    assert socket.call("subscribe:job", {"jobId": job_id})["ok"] is True
    api("DELETE", f"/api/jobs/{job_id}", user["token"])
    api("POST", f"/api/jobs/{job_id}/retry", user["token"])
    failed = socket.wait_for("job:failed", lambda data: data["jobId"] == job_id, timeout=30)
    assert failed["jobId"] == job_id and "Injected permanent failure" in failed["error"]
    assert failed["error"] == rest_job(api, user["token"], job_id)["error"]
    events = socket.job_events(job_id)
    assert events[-1][0] == "job:failed"
    assert statuses(events)[-3:] == ["queued", "active", "failed"]
    assert socket.received("job:completed") == []
    assert all(ok for _, _, ok in socket.hook_results)


def test_notifications_reach_every_socket_of_the_user_and_no_one_else(open_socket, web_b, client, user, other_user):
    first, second = open_socket(user["token"]), open_socket(user["token"], server=web_b)
    stranger = open_socket(other_user["token"])
    for socket in (first, second, stranger):
        socket.wait_for("authenticated", timeout=5)
    job_id = create_job(client, user["headers"], payload={"steps": 1}).get_json()["id"]

    def of_job(socket) -> list[dict]:
        return [n for n in socket.received("notification") if n["data"].get("jobId") == job_id]

    for socket in (first, second):
        socket.wait_for("notification", lambda n: n["type"] == "job_completed" and n["data"]["jobId"] == job_id)
        assert [n["type"] for n in of_job(socket)] == ["job_queued", "job_started", "job_completed"]
    assert of_job(first) == of_job(second)
    # They are the user's stored notifications, as the REST API lists them.
    stored = client.get("/api/notifications?limit=100", headers=user["headers"]).get_json()["data"]
    by_id = {n["id"]: n for n in stored}
    assert all(by_id[n["id"]] == n for n in of_job(first))
    time.sleep(0.5)  # anything misrouted to the stranger would have arrived by now
    assert stranger.received("notification") == []


def test_progress_is_throttled_and_still_ends_with_completed(open_socket, api, user):
    socket = open_socket(user["token"])
    job_id = create_waiting_probe(api, user["token"], {"steps": 200, "stepSeconds": 0.005})
    socket.call("subscribe:job", {"jobId": job_id})
    api("DELETE", f"/api/jobs/{job_id}", user["token"])
    started = time.monotonic()
    api("POST", f"/api/jobs/{job_id}/retry", user["token"])
    socket.wait_for("job:completed", lambda data: data["jobId"] == job_id, timeout=60)
    elapsed = time.monotonic() - started

    events = socket.job_events(job_id)
    progress = [
        data for name, data in events if name == "job:status" and data["status"] == "active" and data["progress"]
    ]
    # At most one progress event per 0.25 s (WEBSOCKET_PROGRESS_INTERVAL), plus the first.
    assert 1 <= len(progress) <= elapsed / 0.25 + 2, (len(progress), elapsed)
    assert len(progress) < 200 / 4
    assert events[-2][1]["status"] == "completed" and events[-2][1]["progress"]["current"] == 200
    assert events[-1] == ("job:completed", {"jobId": job_id, "result": {"steps": 200}})
