"""The artifact sweep, run in-process: expired artifacts and those of purged jobs lose their file
and their row; orphan and half-written files older than a day go; everything else stays."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import timedelta as td
from types import SimpleNamespace

import pytest

import celeryconfig
from app.extensions import db
from app.files import purge as maintenance
from app.files.artifacts import LocalArtifactStore, artifact_store, write_artifact
from app.files.purge import purge_artifacts
from app.jobs.sweeps import purge_old_jobs
from app.models import Artifact, Job
from app.users.service import create_user
from workers import maintenance as tasks

DAY = 24 * 3600


@pytest.fixture()
def owner(ctx):
    return create_user(f"purge-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery staple")


def _job(owner, completed_days_ago: float | None = None):
    completed = datetime.now(UTC) - timedelta(days=completed_days_ago) if completed_days_ago is not None else None
    job = Job(
        user_id=owner.id,
        type="noop",
        status="completed",
        payload={},
        expire_in_seconds=60,
        started_at=completed,
        completed_at=completed,
    )
    db.session.add(job)
    db.session.commit()
    return job


def _artifact(owner, job, kind="export", expires_in=timedelta(days=1), body=b"data"):
    with write_artifact(
        user_id=owner.id,
        job_id=job.id if job else None,
        kind=kind,
        filename=f"{kind}.bin",
        content_type="application/octet-stream",
        expires_at=datetime.now(UTC) + expires_in,
    ) as writer:
        writer.write(body)
    db.session.commit()
    row = writer.artifact
    # Plain values: the test looks the row up again after the sweep may have deleted it.
    return SimpleNamespace(id=row.id, storage_key=row.storage_key, job_id=row.job_id)


def _file(owner, name: str, age_seconds: float) -> str:
    """A file in the store that no row names, last written `age_seconds` ago."""
    key = f"{owner.id}/{name}"
    path = artifact_store().path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))
    return key


def _exists(artifact) -> tuple[bool, bool]:
    """(row still there, file still there)"""
    db.session.expire_all()
    return db.session.get(Artifact, artifact.id) is not None, artifact_store().exists(artifact.storage_key)


def test_expired_artifacts_and_those_of_purged_jobs_go_the_rest_stays(owner):
    job = _job(owner)
    expired = _artifact(owner, job, expires_in=timedelta(seconds=-1))
    current = _artifact(owner, job)
    expired_upload = _artifact(owner, None, kind="upload", expires_in=timedelta(seconds=-1))
    current_upload = _artifact(owner, None, kind="upload")
    orphan_report = _artifact(owner, _job(owner), kind="report")
    db.session.delete(db.session.get(Job, orphan_report.job_id))  # the job goes, the row stays
    db.session.commit()
    # A kept artifact's file is old too: age alone never removes a file that has a row.
    os.utime(artifact_store().path(current.storage_key), (time.time() - 3 * DAY,) * 2)

    old_orphan = _file(owner, str(uuid.uuid4()), age_seconds=2 * DAY)
    new_orphan = _file(owner, str(uuid.uuid4()), age_seconds=60)
    old_partial = _file(owner, f"{uuid.uuid4()}.partial", age_seconds=2 * DAY)
    new_partial = _file(owner, f"{uuid.uuid4()}.partial", age_seconds=60)

    assert _exists(orphan_report) == (True, True)
    removed = purge_artifacts()

    assert _exists(expired) == (False, False)
    assert _exists(expired_upload) == (False, False)
    assert _exists(orphan_report) == (False, False)
    assert _exists(current) == (True, True)
    assert _exists(current_upload) == (True, True), "an upload has no job: only its expiry removes it"
    store = artifact_store()
    assert not store.exists(old_orphan) and not store.exists(old_partial)
    assert store.exists(new_orphan) and store.exists(new_partial), "a writer may still be busy with these"
    assert removed >= 5  # other tests' leftovers in the shared store may add to it

    purge_artifacts()  # a second sweep changes nothing of what stays
    assert _exists(current) == (True, True) and store.exists(new_orphan)


def test_purging_old_jobs_leaves_their_files_to_the_artifact_sweep(owner, app):
    retention = app.config["JOB_RETENTION_DAYS"]
    old = _artifact(owner, _job(owner, completed_days_ago=retention + 1), expires_in=timedelta(days=30))
    recent = _artifact(owner, _job(owner, completed_days_ago=0), expires_in=timedelta(days=30))

    assert purge_old_jobs() >= 1

    db.session.expire_all()
    row = db.session.get(Artifact, old.id)
    assert row is not None and row.job_id is None, "ON DELETE SET NULL keeps the row for the sweep"
    assert _exists(old) == (True, True)

    purge_artifacts()
    assert _exists(old) == (False, False)
    assert _exists(recent) == (True, True)


def test_the_sweep_works_through_many_batches(owner, monkeypatch):
    monkeypatch.setattr(maintenance, "ARTIFACT_PURGE_BATCH", 3)
    job = _job(owner)
    expired = [_artifact(owner, job, expires_in=timedelta(minutes=-5), body=b"x" * n) for n in range(10)]
    kept = _artifact(owner, job)
    maintenance.purge_artifacts()
    assert all(_exists(artifact) == (False, False) for artifact in expired)
    assert _exists(kept) == (True, True)


def test_a_file_that_cannot_be_deleted_keeps_its_row(owner, monkeypatch):
    job = _job(owner)
    stuck = _artifact(owner, job, expires_in=timedelta(seconds=-1))
    real_delete = LocalArtifactStore.delete

    def refuse(self, key):
        if key == stuck.storage_key:
            raise PermissionError("read-only")
        return real_delete(self, key)

    monkeypatch.setattr(LocalArtifactStore, "delete", refuse)
    maintenance.purge_artifacts()
    assert _exists(stuck) == (True, True), "the row stays so that the file is tried again"
    monkeypatch.setattr(LocalArtifactStore, "delete", real_delete)
    maintenance.purge_artifacts()
    assert _exists(stuck) == (False, False)


def test_beat_runs_the_artifact_sweep_hourly():
    entry = celeryconfig._beat_schedule()["purge-artifacts"]
    assert entry["task"] == tasks.purge_artifacts.name == "maintenance.purge_artifacts"
    assert entry["schedule"] == td(hours=1)
