"""Downloading the files a job produced: owner only, the right file, nothing once it is gone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.files.artifacts import artifact_store, describe, write_artifact
from app.models import Artifact, Job
from tests.support.api import create_job, wait_for_job


def _job_with_files(client, user, files: list[tuple[str, str, bytes]], expires_at=None) -> tuple[str, list[str]]:
    """A finished job of the caller's with artifacts written through the real store, listed in
    its result as a job handler lists them (several in one transaction, as a report does)."""
    # Due in an hour: no worker takes it while the test plays the handler's part.
    response = create_job(client, user["headers"], "test-probe", {"steps": 1}, options={"startAfter": 3600})
    job_id = response.get_json()["id"]
    job = db.session.get(Job, uuid.UUID(job_id))
    written = []
    for filename, content_type, body in files:
        with write_artifact(
            user_id=job.user_id,
            job_id=job.id,
            kind="report",
            filename=filename,
            content_type=content_type,
            expires_at=expires_at,
        ) as out:
            out.write(body)
        written.append(out.artifact)
    job.status, job.result = "completed", {"artifacts": [describe(a) for a in written]}
    db.session.commit()
    return job_id, [str(a.id) for a in written]


FILES = [
    ("report.json", "application/json", b'{"total": 3}\n'),
    ("report.csv", "text/csv; charset=utf-8", b"name,total\r\nx,3\r\n"),
]


def test_the_owner_downloads_the_first_file_by_default(client, user, ctx):
    job_id, _ = _job_with_files(client, user, FILES)
    response = client.get(f"/api/jobs/{job_id}/artifact", headers=user["headers"])
    assert response.status_code == 200
    assert response.data == b'{"total": 3}\n'
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Length"] == str(len(b'{"total": 3}\n'))
    assert response.headers["Content-Disposition"] == "attachment; filename=report.json"
    assert "no-store" in response.headers["Cache-Control"]


def test_artifact_id_chooses_among_several(client, user, ctx):
    job_id, (first_id, second_id) = _job_with_files(client, user, FILES)
    second = client.get(f"/api/jobs/{job_id}/artifact?artifactId={second_id}", headers=user["headers"])
    assert second.status_code == 200 and second.data == b"name,total\r\nx,3\r\n"
    assert second.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert second.headers["Content-Disposition"] == "attachment; filename=report.csv"

    listing = client.get(f"/api/jobs/{job_id}/artifacts", headers=user["headers"])
    assert listing.status_code == 200
    assert [a["id"] for a in listing.get_json()] == [first_id, second_id]
    assert listing.get_json()[1] == {
        "id": second_id,
        "filename": "report.csv",
        "contentType": "text/csv; charset=utf-8",
        "sizeBytes": 17,
    }


def test_an_unknown_or_malformed_artifact_id(client, user, ctx):
    job_id, _ = _job_with_files(client, user, FILES)
    unknown = client.get(f"/api/jobs/{job_id}/artifact?artifactId={uuid.uuid4()}", headers=user["headers"])
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "artifact_not_found"
    malformed = client.get(f"/api/jobs/{job_id}/artifact?artifactId=nope", headers=user["headers"])
    assert malformed.status_code == 400
    assert "artifactId" in malformed.get_json()["error"]["details"]


def test_another_users_job_is_not_found(client, user, other_user, ctx):
    job_id, (artifact_id, _) = _job_with_files(client, user, FILES)
    for path in (f"/api/jobs/{job_id}/artifact", f"/api/jobs/{job_id}/artifact?artifactId={artifact_id}"):
        response = client.get(path, headers=other_user["headers"])
        assert response.status_code == 404
        assert response.get_json()["error"] == {"code": "not_found", "message": "Job not found", "details": {}}
    assert client.get(f"/api/jobs/{job_id}/artifacts", headers=other_user["headers"]).status_code == 404
    assert client.get(f"/api/jobs/{job_id}/artifact").status_code == 401


def test_a_job_without_files(client, user, worker):
    job_id = create_job(client, user["headers"], "noop").get_json()["id"]
    assert wait_for_job(client, user["headers"], job_id)["status"] == "completed"
    response = client.get(f"/api/jobs/{job_id}/artifact", headers=user["headers"])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "artifact_not_found"
    assert client.get(f"/api/jobs/{job_id}/artifacts", headers=user["headers"]).get_json() == []


def test_an_expired_file_is_gone(client, user, ctx):
    job_id, _ = _job_with_files(client, user, FILES[:1], expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert client.get(f"/api/jobs/{job_id}/artifact", headers=user["headers"]).status_code == 404
    assert client.get(f"/api/jobs/{job_id}/artifacts", headers=user["headers"]).get_json() == []


def test_a_file_missing_from_the_store_is_gone(client, user, ctx):
    job_id, (first_id, second_id) = _job_with_files(client, user, FILES)
    artifact_store().delete(db.session.get(Artifact, uuid.UUID(first_id)).storage_key)
    default = client.get(f"/api/jobs/{job_id}/artifact", headers=user["headers"])
    assert default.status_code == 200 and default.data == FILES[1][2], "the next file that still exists"
    missing = client.get(f"/api/jobs/{job_id}/artifact?artifactId={first_id}", headers=user["headers"])
    assert missing.status_code == 404


@pytest.mark.parametrize("path", ["/api/jobs/{job_id}/artifact", "/api/jobs/{job_id}/artifacts"])
def test_the_routes_are_documented(client, path):
    document = client.get("/api/openapi.json").get_json()
    operation = document["paths"][path]["get"]
    assert {"200", "404"} <= set(operation["responses"])
    assert operation.get("security") == document["paths"]["/api/jobs/{job_id}"]["get"].get("security")
    if path.endswith("/artifact"):
        content = operation["responses"]["200"]["content"]
        assert content == {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
        assert [p["name"] for p in operation["parameters"]] == ["artifactId"]
