"""analytics-report end to end: a known job history in the service's database, the report job
through the API and the real worker, and the figures in its result, JSON and CSV artifacts."""

from __future__ import annotations

import csv
import io
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.files.artifacts import artifact_store
from app.models import Artifact, Job
from tests.support.api import create_job, wait_for_job


def _job(user_id: str, type_: str, status: str, created: datetime, seconds: float | None = None, error=None) -> dict:
    started = created + timedelta(seconds=5)
    return {
        "user_id": uuid.UUID(user_id),
        "type": type_,
        "status": status,
        "payload": {},
        "expire_in_seconds": 60,
        "created_at": created,
        "started_at": started if seconds is not None else None,
        "completed_at": started + timedelta(seconds=seconds) if seconds is not None else None,
        "error": error,
    }


def _insert(app, jobs: list[dict]) -> None:
    with app.app_context():
        db.session.add_all(Job(**job) for job in jobs)
        db.session.commit()
        db.session.remove()


def _days():
    """Two calendar days (UTC) well inside the window, at noon."""
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return today - timedelta(days=2), today - timedelta(days=1)


def _report(client, account, **payload) -> dict:
    response = create_job(client, account["headers"], "analytics-report", payload)
    assert response.status_code == 202, response.get_json()
    job = wait_for_job(client, account["headers"], response.get_json()["id"], timeout=60)
    assert job["status"] == "completed", job
    return job


def _artifact(app, client, account, job: dict, index: int) -> bytes:
    """An artifact through the API when the download endpoint exists, else from the store."""
    artifact = job["result"]["artifacts"][index]
    if any(rule.rule == "/api/jobs/<uuid:job_id>/artifact" for rule in app.url_map.iter_rules()):
        response = client.get(f"/api/jobs/{job['id']}/artifact?artifactId={artifact['id']}", headers=account["headers"])
        assert response.status_code == 200, response.get_json()
        assert response.headers["Content-Type"] == artifact["contentType"]
        assert artifact["filename"] in response.headers["Content-Disposition"]
        return response.get_data()

    with app.app_context():
        row = db.session.get(Artifact, uuid.UUID(artifact["id"]))
        assert row.kind == "report" and str(row.job_id) == job["id"] and row.size_bytes == artifact["sizeBytes"]
        with artifact_store().open_read(row.storage_key) as handle:
            body = handle.read()
        db.session.remove()
    return body


def test_a_users_report_has_exact_counts_durations_failures_and_days(app, client, user, other_user, worker):
    day1, day2 = _days()
    mine = user["id"]
    _insert(
        app,
        [
            _job(mine, "noop", "completed", day1, seconds=1),
            _job(mine, "noop", "completed", day1, seconds=2),
            _job(mine, "noop", "completed", day2, seconds=10),
            _job(mine, "noop", "cancelled", day2),
            _job(mine, "test-probe", "completed", day2, seconds=0.5),
            _job(mine, "test-probe", "failed", day1, seconds=1, error="boom"),
            _job(mine, "test-probe", "failed", day2, seconds=1, error="boom"),
            _job(mine, "test-probe", "failed", day2, seconds=1, error="disk full"),
            # Outside the window, and someone else's: neither counts.
            _job(mine, "noop", "completed", day1 - timedelta(days=40), seconds=1),
            _job(other_user["id"], "noop", "completed", day1, seconds=1),
        ],
    )
    job = _report(client, user, days=30)
    result = job["result"]
    assert result["totalJobs"] == 8, "the report job itself is not counted"
    assert result["days"] == 30 and result["allUsers"] is False
    assert result["byStatus"] == {"cancelled": 1, "completed": 4, "failed": 3}
    json_artifact, csv_artifact = result["artifacts"]
    assert json_artifact["contentType"] == "application/json" and json_artifact["filename"].endswith(".json")
    assert csv_artifact["contentType"] == "text/csv" and csv_artifact["filename"].endswith(".csv")
    assert job["progress"]["percentage"] == 100

    report = json.loads(_artifact(app, client, user, job, 0))
    assert report["totalJobs"] == 8 and "users" not in report
    assert report["byType"] == {
        "noop": {"total": 4, "byStatus": {"cancelled": 1, "completed": 3}},
        "test-probe": {"total": 4, "byStatus": {"completed": 1, "failed": 3}},
    }
    # percentile_cont over 1, 2, 10 s: p50 = 2, p95 = 2 + 0.9 * (10 - 2) = 9.2
    assert report["durations"] == {
        "noop": {"count": 3, "avgSeconds": 4.333, "p50Seconds": 2.0, "p95Seconds": 9.2, "maxSeconds": 10.0},
        "test-probe": {"count": 1, "avgSeconds": 0.5, "p50Seconds": 0.5, "p95Seconds": 0.5, "maxSeconds": 0.5},
    }
    assert [(f["error"], f["count"], f["types"]) for f in report["topFailures"]] == [
        ("boom", 2, ["test-probe"]),
        ("disk full", 1, ["test-probe"]),
    ]
    d1, d2 = day1.date().isoformat(), day2.date().isoformat()
    expected_days = [
        [d1, "noop", "completed", "2"],
        [d1, "test-probe", "failed", "1"],
        [d2, "noop", "cancelled", "1"],
        [d2, "noop", "completed", "1"],
        [d2, "test-probe", "completed", "1"],
        [d2, "test-probe", "failed", "2"],
    ]
    assert [[r["date"], r["type"], r["status"], str(r["count"])] for r in report["perDay"]] == expected_days
    rows = list(csv.reader(io.StringIO(_artifact(app, client, user, job, 1).decode("utf-8"))))
    assert rows == [["date", "type", "status", "count"], *expected_days]


def test_a_short_window_leaves_older_jobs_out(app, client, user, worker):
    now = datetime.now(UTC)
    _insert(
        app,
        [
            _job(user["id"], "noop", "completed", now - timedelta(hours=2), seconds=1),
            _job(user["id"], "noop", "failed", now - timedelta(days=3), seconds=1, error="old"),
        ],
    )
    result = _report(client, user, days=1)["result"]
    assert result["totalJobs"] == 1 and result["byStatus"] == {"completed": 1}


def test_all_users_is_for_admins_only(client, user, worker):
    response = create_job(client, user["headers"], "analytics-report", {"days": 7, "allUsers": True})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert "administrators" in response.get_json()["error"]["message"].lower()


def test_an_admin_report_counts_every_users_jobs(app, client, user, other_user, admin, worker):
    day1, day2 = _days()
    marker = f"fixture-{secrets.token_hex(4)}"  # a type only this test uses: exact figures
    _insert(
        app,
        [
            _job(user["id"], marker, "completed", day1, seconds=4),
            _job(user["id"], marker, "failed", day2, seconds=1, error="only mine"),
            _job(other_user["id"], marker, "completed", day2, seconds=8),
            _job(other_user["id"], marker, "completed", day2, seconds=6),
        ],
    )
    job = _report(client, admin, days=30, allUsers=True)
    report = json.loads(_artifact(app, client, admin, job, 0))
    assert report["allUsers"] is True and report["users"] >= 2
    assert report["byType"][marker] == {"total": 4, "byStatus": {"completed": 3, "failed": 1}}
    assert report["durations"][marker] == {
        "count": 3,
        "avgSeconds": 6.0,
        "p50Seconds": 6.0,
        "p95Seconds": 7.8,
        "maxSeconds": 8.0,
    }
    assert {"error": "only mine", "count": 1, "types": [marker]} in [
        {k: f[k] for k in ("error", "count", "types")} for f in report["topFailures"]
    ] or len(report["topFailures"]) == 10
    with app.app_context():
        since = func.now() - timedelta(days=30)
        everyone = db.session.scalar(
            select(func.count()).where(Job.created_at >= since, Job.id != uuid.UUID(job["id"]))
        )
        db.session.remove()
    assert job["result"]["totalJobs"] == everyone, "every user's jobs, but not the report itself"

    # The same admin without allUsers sees only their own jobs.
    own = _report(client, admin, days=30)["result"]
    assert own["totalJobs"] < everyone


@pytest.mark.parametrize("payload", [{"days": 0}, {"days": 367}, {"allUsers": "maybe"}])
def test_invalid_payloads_are_400(client, user, payload):
    response = create_job(client, user["headers"], "analytics-report", payload)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "validation_error"
