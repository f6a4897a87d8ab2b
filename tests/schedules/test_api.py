"""Schedules API: shape, validation 400s, ownership, pause/resume, PATCH, run now, preview,
audit, OpenAPI. No beat runs for these: schedules fire yearly so none comes due meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

NEW_YORK = ZoneInfo("America/New_York")

YEARLY = "0 3 1 1 *"


def schedule_body(**overrides) -> dict:
    body = {"name": "Nightly probe", "type": "test-probe", "payload": {"steps": 1}, "cron": YEARLY}
    body.update(overrides)
    return body


def create(client, headers, **overrides):
    return client.post("/api/schedules", json=schedule_body(**overrides), headers=headers)


def created(client, headers, **overrides) -> dict:
    response = create(client, headers, **overrides)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_answers_201_with_the_contract_shape(client, user):
    body = created(client, user["headers"], cron="0 9 * * 1", timezone="Asia/Tokyo", options={"priority": 40})
    assert set(body) == {
        "id",
        "name",
        "type",
        "payload",
        "options",
        "cron",
        "timezone",
        "enabled",
        "nextRunAt",
        "lastRunAt",
        "lastJobId",
        "createdAt",
    }
    assert body["enabled"] is True and body["lastRunAt"] is None and body["lastJobId"] is None
    assert body["options"] == {"priority": 40} and body["timezone"] == "Asia/Tokyo"
    # The job type's defaults are filled in, as POST /api/jobs stores them.
    assert body["payload"] == {"steps": 1, "stepSeconds": 0.0, "failAttempts": 0, "failWith": "retryable"}
    next_run = datetime.fromisoformat(body["nextRunAt"])
    assert next_run > datetime.now(UTC)
    assert (next_run.weekday(), next_run.hour, next_run.minute) == (0, 0, 0)  # Monday 09:00 Tokyo is 00:00 UTC
    fetched = client.get(f"/api/schedules/{body['id']}", headers=user["headers"]).get_json()
    assert fetched == body


def test_timezone_defaults_to_utc_and_macros_are_kept(client, user):
    body = created(client, user["headers"], cron="@Daily")
    assert body["timezone"] == "UTC" and body["cron"] == "@daily"
    assert datetime.fromisoformat(body["nextRunAt"]).time().isoformat() == "00:00:00"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "* * *"}, "cron"),
        ({"cron": "@reboot"}, "cron"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"cron": "*/10 * * * * *"}, "cron"),  # every 10 s: below SCHEDULE_MIN_INTERVAL_SECONDS (60)
        ({"cron": "0,30 * * * * *"}, "cron"),  # 30 s gaps
        ({"type": "no-such-type"}, "type"),
        ({"payload": {"steps": 0}}, "payload"),
        ({"options": {"priority": 500}}, "options"),
        ({"name": ""}, "name"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_invalid_schedules_are_400_naming_the_field(client, user, overrides, field):
    response = create(client, user["headers"], **overrides)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert field in error["details"], error
    assert error["message"]


def test_an_interval_of_exactly_the_minimum_is_allowed(client, user):
    # Paused: validated all the same, and never due while other tests run a beat.
    assert create(client, user["headers"], cron="* * * * *", enabled=False).status_code == 201  # 60 s, the default
    assert create(client, user["headers"], cron="0 * * * * *", enabled=False).status_code == 201


def test_a_connection_of_another_user_is_refused_as_for_post_jobs(client, user, other_user):
    response = client.post(
        "/api/connections", json={"name": "theirs", "url": "sqlite:////tmp/theirs.db"}, headers=other_user["headers"]
    )
    assert response.status_code == 201, response.get_json()
    theirs = response.get_json()["id"]
    answer = create(client, user["headers"], type="schema-rebuild", payload={"connectionId": theirs})
    direct = client.post(
        "/api/jobs", json={"type": "schema-rebuild", "payload": {"connectionId": theirs}}, headers=user["headers"]
    )
    assert answer.status_code == direct.status_code == 404  # not revealed, as for any unknown id
    assert answer.get_json()["error"]["details"] == direct.get_json()["error"]["details"]


def test_more_than_the_limit_is_400(app, client, user):
    app.config["MAX_SCHEDULES_PER_USER"] = 2
    try:
        created(client, user["headers"])
        created(client, user["headers"])
        response = create(client, user["headers"])
    finally:
        app.config["MAX_SCHEDULES_PER_USER"] = 100
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "schedule_limit"
    assert client.get("/api/schedules", headers=user["headers"]).get_json()["pagination"]["total"] == 2


def test_another_users_schedule_is_404_everywhere(client, user, other_user):
    schedule_id = created(client, user["headers"])["id"]
    theirs = other_user["headers"]
    assert client.get(f"/api/schedules/{schedule_id}", headers=theirs).status_code == 404
    assert client.patch(f"/api/schedules/{schedule_id}", json={"enabled": False}, headers=theirs).status_code == 404
    assert client.post(f"/api/schedules/{schedule_id}/run", headers=theirs).status_code == 404
    assert client.delete(f"/api/schedules/{schedule_id}", headers=theirs).status_code == 404
    assert client.get("/api/schedules", headers=theirs).get_json()["data"] == []
    still = client.get(f"/api/schedules/{schedule_id}", headers=user["headers"]).get_json()
    assert still["enabled"] is True


def test_list_is_paginated_newest_first(client, user):
    ids = [created(client, user["headers"], name=f"s{i}")["id"] for i in range(3)]
    page = client.get("/api/schedules?limit=2", headers=user["headers"]).get_json()
    assert [s["id"] for s in page["data"]] == ids[::-1][:2]
    assert page["pagination"] == {"page": 1, "limit": 2, "total": 3, "totalPages": 2}
    assert client.get("/api/schedules?limit=0", headers=user["headers"]).status_code == 400


def test_pause_clears_the_next_run_and_resume_recomputes_it(client, user):
    schedule = created(client, user["headers"], cron="0 * * * *")
    url = f"/api/schedules/{schedule['id']}"
    paused = client.patch(url, json={"enabled": False}, headers=user["headers"]).get_json()
    assert paused["enabled"] is False and paused["nextRunAt"] is None
    resumed = client.patch(url, json={"enabled": True}, headers=user["headers"]).get_json()
    assert resumed["enabled"] is True and resumed["nextRunAt"] == schedule["nextRunAt"]


def test_patch_recomputes_the_next_run_and_validates_like_create(client, user):
    schedule = created(client, user["headers"])
    url = f"/api/schedules/{schedule['id']}"
    changed = client.patch(
        url, json={"cron": "30 8 * * *", "timezone": "America/New_York", "name": "Morning"}, headers=user["headers"]
    ).get_json()
    local = datetime.fromisoformat(changed["nextRunAt"]).astimezone(NEW_YORK)
    assert (local.hour, local.minute) == (8, 30) and changed["name"] == "Morning"
    for bad in ({"cron": "nope"}, {"timezone": "Nowhere/Land"}, {"payload": {"steps": -1}}, {}, {"enabled": 1}):
        response = client.patch(url, json=bad, headers=user["headers"])
        assert response.status_code == 400, (bad, response.get_json())
    assert client.get(url, headers=user["headers"]).get_json() == changed


def test_run_now_creates_a_job_as_post_jobs_would(client, user):
    schedule = created(client, user["headers"], options={"priority": 70, "retryLimit": 2})
    response = client.post(f"/api/schedules/{schedule['id']}/run", headers=user["headers"])
    assert response.status_code == 202
    job_id = response.get_json()["jobId"]
    job = client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()
    assert job["scheduleId"] == schedule["id"] and job["scheduledFor"] is None
    assert job["priority"] == 70 and job["maxAttempts"] == 3 and job["payload"] == schedule["payload"]
    after = client.get(f"/api/schedules/{schedule['id']}", headers=user["headers"]).get_json()
    assert after["lastJobId"] == job_id and after["lastRunAt"] is not None
    assert after["nextRunAt"] == schedule["nextRunAt"]  # the cron is unchanged
    listed = client.get(f"/api/jobs?scheduleId={schedule['id']}", headers=user["headers"]).get_json()
    assert [j["id"] for j in listed["data"]] == [job_id]
    notifications = client.get("/api/notifications", headers=user["headers"]).get_json()["data"]
    assert any(n["type"] == "job_queued" and n["data"]["jobId"] == job_id for n in notifications)


def test_jobs_filter_by_schedule_is_validated_and_scoped(client, user, other_user):
    schedule = created(client, user["headers"])
    client.post(f"/api/schedules/{schedule['id']}/run", headers=user["headers"])
    assert client.get("/api/jobs?scheduleId=not-a-uuid", headers=user["headers"]).status_code == 400
    theirs = client.get(f"/api/jobs?scheduleId={schedule['id']}", headers=other_user["headers"]).get_json()
    assert theirs["data"] == []


def test_delete_keeps_the_jobs(client, user):
    schedule = created(client, user["headers"])
    job_id = client.post(f"/api/schedules/{schedule['id']}/run", headers=user["headers"]).get_json()["jobId"]
    assert client.delete(f"/api/schedules/{schedule['id']}", headers=user["headers"]).status_code == 204
    assert client.get(f"/api/schedules/{schedule['id']}", headers=user["headers"]).status_code == 404
    job = client.get(f"/api/jobs/{job_id}", headers=user["headers"]).get_json()
    assert job["status"] in ("queued", "active", "completed") and job["scheduleId"] is None


def test_every_change_is_audited(client, user, admin):
    schedule = created(client, user["headers"])
    url = f"/api/schedules/{schedule['id']}"
    client.patch(url, json={"name": "Renamed"}, headers=user["headers"])
    client.patch(url, json={"enabled": False}, headers=user["headers"])
    client.patch(url, json={"enabled": False}, headers=user["headers"])  # already paused: an update
    client.patch(url, json={"enabled": True}, headers=user["headers"])
    client.post(f"{url}/run", headers=user["headers"])
    client.delete(url, headers=user["headers"])
    entries = client.get("/api/admin/audit-log?limit=100", headers=admin["headers"]).get_json()["data"]
    mine = [e["action"] for e in entries if e["targetId"] == schedule["id"]]
    assert sorted(mine) == sorted(
        [
            "schedule.created",
            "schedule.updated",
            "schedule.paused",
            "schedule.updated",
            "schedule.resumed",
            "schedule.run",
            "schedule.deleted",
        ]
    )
    assert all(e["actorId"] == user["id"] for e in entries if e["targetId"] == schedule["id"])


def test_preview_lists_the_next_runs_in_the_zone(client, user):
    def preview(**body):
        return client.post("/api/schedules/preview", json=body, headers=user["headers"])

    response = preview(cron="30 2 * * *", timezone="Europe/Berlin", count=3)
    assert response.status_code == 200
    runs = [datetime.fromisoformat(run) for run in response.get_json()["nextRuns"]]
    assert len(runs) == 3 and runs == sorted(runs) and runs[0] > datetime.now(UTC)
    assert all(run.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") in ("02:30", "03:00") for run in runs)
    assert len(preview(cron="@hourly").get_json()["nextRuns"]) == 5
    bad = preview(cron="*/5 * * * * *")
    assert bad.status_code == 400 and "cron" in bad.get_json()["error"]["details"]
    assert preview(cron="* * * * *", count=99).status_code == 400
    assert preview(cron="* * * * *", timezone="Atlantis/Capital").status_code == 400
    assert client.get("/api/schedules", headers=user["headers"]).get_json()["pagination"]["total"] == 0


def test_schedules_need_a_token(client):
    assert client.get("/api/schedules").status_code == 401
    assert client.post("/api/schedules", json=schedule_body()).status_code == 401


def test_openapi_documents_schedules(client):
    spec = client.get("/api/openapi.json").get_json()
    for path, methods in {
        "/api/schedules": {"get", "post"},
        "/api/schedules/preview": {"post"},
        "/api/schedules/{schedule_id}": {"get", "patch", "delete"},
        "/api/schedules/{schedule_id}/run": {"post"},
    }.items():
        assert methods <= set(spec["paths"][path]), path
    schedule = spec["components"]["schemas"]["Schedule"]["properties"]
    assert schedule["nextRunAt"]["format"] == "date-time" and schedule["lastJobId"]["format"] == "uuid"
    create_body = spec["components"]["schemas"]["ScheduleCreate"]["properties"]
    assert "test-probe" in create_body["type"]["enum"] and create_body["payload"]["anyOf"]
    job = spec["components"]["schemas"]["Job"]["properties"]
    assert job["scheduledFor"]["format"] == "date-time" and job["scheduleId"]["format"] == "uuid"
    parameters = {p["name"]: p for p in spec["paths"]["/api/jobs"]["get"]["parameters"]}
    assert parameters["scheduleId"]["schema"]["format"] == "uuid"
