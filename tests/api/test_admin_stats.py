"""GET /api/admin/stats/jobs: the operator page's figures, computed by PostgreSQL from the job rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from app.extensions import db
from app.models import Job

URL = "/api/admin/stats/jobs"


def _finished_job(user_id: str, type_: str, status: str, completed_at: datetime, run_seconds: float) -> Job:
    return Job(
        id=uuid.uuid4(),
        user_id=uuid.UUID(user_id),
        type=type_,
        status=status,
        payload={},
        priority=0,
        attempts=1,
        max_attempts=1,
        retry_delay=0,
        retry_backoff=False,
        expire_in_seconds=60,
        created_at=completed_at - timedelta(seconds=run_seconds + 1),
        started_at=completed_at - timedelta(seconds=run_seconds),
        completed_at=completed_at,
    )


@pytest.fixture()
def finished_jobs(ctx, admin):
    """Jobs of a type of their own, finished three hours ago (no other test finishes jobs then)."""
    type_ = f"stats-{uuid.uuid4().hex[:8]}"
    minute = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    at = minute + timedelta(seconds=20)
    rows = [
        _finished_job(admin["id"], type_, "completed", at, 1),
        _finished_job(admin["id"], type_, "completed", at, 2),
        _finished_job(admin["id"], type_, "completed", at + timedelta(seconds=30), 10),
        _finished_job(admin["id"], type_, "failed", at, 4),
        _finished_job(admin["id"], type_, "cancelled", at + timedelta(minutes=2), 1),
        _finished_job(admin["id"], type_, "cancelled", at + timedelta(minutes=2), 1),
        # Outside a 24-hour window.
        _finished_job(admin["id"], type_, "completed", at - timedelta(hours=30), 99),
    ]
    db.session.add_all(rows)
    db.session.commit()
    yield {"type": type_, "minute": minute}
    db.session.execute(delete(Job).where(Job.type == type_))
    db.session.commit()


def _minute(body: dict, minute: datetime) -> dict:
    rows = [row for row in body["perMinute"] if datetime.fromisoformat(row["minute"]) == minute]
    assert len(rows) == 1, f"minute {minute} missing from the window"
    return rows[0]


def test_counts_and_run_times_match_the_rows(client, admin, finished_jobs):
    response = client.get(URL + "?hours=24", headers=admin["headers"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["hours"] == 24
    assert len(body["perMinute"]) == 24 * 60  # every minute, empty ones as zeros
    minutes = [datetime.fromisoformat(row["minute"]) for row in body["perMinute"]]
    assert minutes == sorted(minutes) and minutes[1] - minutes[0] == timedelta(minutes=1)
    assert datetime.fromisoformat(body["from"]) == minutes[0]
    assert datetime.fromisoformat(body["to"]) == minutes[-1]

    minute = finished_jobs["minute"]
    counts = {"completed": 3, "failed": 1, "cancelled": 0}
    assert _minute(body, minute) | counts == _minute(body, minute)
    assert _minute(body, minute + timedelta(minutes=1)) | {"completed": 0, "failed": 0, "cancelled": 0} == _minute(
        body, minute + timedelta(minutes=1)
    )
    assert _minute(body, minute + timedelta(minutes=2))["cancelled"] == 2
    for outcome in ("completed", "failed", "cancelled"):
        assert body["totals"][outcome] == sum(row[outcome] for row in body["perMinute"])

    # Only the three completed in the window: 1, 2 and 10 seconds.
    [run_time] = [row for row in body["runTimeByType"] if row["type"] == finished_jobs["type"]]
    assert run_time == {
        "type": finished_jobs["type"],
        "count": 3,
        "avgSeconds": pytest.approx(13 / 3, abs=0.001),
        "p50Seconds": 2.0,
        "p95Seconds": pytest.approx(9.2),  # percentile_cont interpolates between 2 and 10
        "maxSeconds": 10.0,
    }
    series = [row for row in body["runTimeSeries"] if row["type"] == finished_jobs["type"]]
    assert sum(row["count"] for row in series) == 3
    assert body["runTimeBucketSeconds"] == 600


def test_a_shorter_window_leaves_older_jobs_out(client, admin, finished_jobs):
    body = client.get(URL + "?hours=1", headers=admin["headers"]).get_json()
    assert len(body["perMinute"]) == 60
    assert finished_jobs["type"] not in {row["type"] for row in body["runTimeByType"]}
    assert finished_jobs["type"] not in {row["type"] for row in body["runTimeSeries"]}


def test_the_default_window_is_24_hours(client, admin):
    body = client.get(URL, headers=admin["headers"]).get_json()
    assert body["hours"] == 24 and len(body["perMinute"]) == 1440


def test_only_admins(client, user):
    response = client.get(URL, headers=user["headers"])
    assert response.status_code == 403
    assert response.get_json()["error"]["code"]
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize("hours", ["0", "49", "soon", "-1"])
def test_bad_windows_are_400(client, admin, hours):
    response = client.get(f"{URL}?hours={hours}", headers=admin["headers"])
    assert response.status_code == 400
    assert "hours" in response.get_json()["error"]["details"]


def test_documented_in_openapi(client):
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/admin/stats/jobs"]["get"]
    assert {"200", "403"} <= set(operation["responses"])
    schema = spec["components"]["schemas"]["JobStats"]
    assert {"perMinute", "runTimeByType", "runTimeSeries", "totals", "from", "to"} <= set(schema["properties"])
    minute = spec["components"]["schemas"]["MinuteCounts"]["properties"]["minute"]
    assert minute["format"] == "date-time"
    [hours] = [p for p in operation["parameters"] if p["name"] == "hours"]
    assert hours["schema"]["maximum"] == 48
