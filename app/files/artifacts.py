"""The artifact store: where exports, backups, reports and uploads keep their bytes.

A local folder by default (`ARTIFACT_DIR`); every web and worker process must see the same
folder (a shared volume when they run on several machines). Files are written under a temporary
name and renamed into place when complete, so a reader never sees half a file, and a failed or
cancelled writer leaves nothing behind. The `Artifact` row is added to the session only once the
file is complete; a job handler's row commits together with the job's completion.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Artifact, Job

PARTIAL_SUFFIX = ".partial"


class LocalArtifactStore:
    """Files under one root folder, addressed by a relative key (`<user id>/<artifact id>`)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:  # keys are ours, but never trust a path blindly
            raise ValueError("artifact key escapes the store")
        return path

    @contextmanager
    def open_write(self, key: str) -> Iterator[BinaryIO]:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(final.name + PARTIAL_SUFFIX)
        try:
            with open(partial, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def open_read(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[tuple[str, float]]:
        """Every file in the store (complete or partial) with its modification time, for sweeps."""
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            if path.is_file():
                yield path.relative_to(self.root).as_posix(), path.stat().st_mtime


def artifact_store() -> LocalArtifactStore:
    return LocalArtifactStore(current_app.config["ARTIFACT_DIR"])


class CountingWriter:
    """A binary file wrapper that counts what was written (the artifact's size, and progress)."""

    def __init__(self, handle: BinaryIO):
        self._handle = handle
        self.bytes_written = 0
        self.artifact: Artifact | None = None  # set once the file is complete

    def write(self, data: bytes) -> int:
        written = self._handle.write(data)
        self.bytes_written += len(data)
        return written

    def flush(self) -> None:
        self._handle.flush()


def default_expiry() -> datetime:
    """Artifacts of a job live as long as the job is kept (JOB_RETENTION_DAYS)."""
    return datetime.now(UTC) + timedelta(days=current_app.config["JOB_RETENTION_DAYS"])


@contextmanager
def write_artifact(
    *,
    user_id: uuid.UUID,
    job_id: uuid.UUID | None,
    kind: str,
    filename: str,
    content_type: str,
    expires_at: datetime | None = None,
) -> Iterator[CountingWriter]:
    """Stream an artifact's bytes into the store; on success its row joins the session.

    The caller commits (a job handler's writes commit with the job's completion). If the body
    raises (an error, a cancellation), the partial file is removed and no row is added.
    """
    artifact_id = uuid.uuid4()
    key = f"{user_id}/{artifact_id}"
    with artifact_store().open_write(key) as handle:
        writer = CountingWriter(handle)
        yield writer
    writer.artifact = Artifact(
        id=artifact_id,
        user_id=user_id,
        job_id=job_id,
        kind=kind,
        filename=filename,
        content_type=content_type,
        size_bytes=writer.bytes_written,
        storage_key=key,
        expires_at=expires_at or default_expiry(),
    )
    db.session.add(writer.artifact)


def describe(artifact: Artifact) -> dict:
    """How an artifact appears in a job's result (never its storage key)."""
    return {
        "id": str(artifact.id),
        "filename": artifact.filename,
        "contentType": artifact.content_type,
        "sizeBytes": artifact.size_bytes,
    }


def downloadable_artifacts(job: Job) -> list[Artifact]:
    """The job's files that have not expired and are in the store, in the order its result lists
    them (the order the job made them: rows written in one transaction share their `created_at`)."""
    store = artifact_store()
    rows = [
        artifact
        for artifact in db.session.scalars(
            select(Artifact).where(Artifact.job_id == job.id, Artifact.expires_at > datetime.now(UTC))
        )
        if store.exists(artifact.storage_key)
    ]
    result = job.result if isinstance(job.result, dict) else {}
    entries = result.get("artifacts") if isinstance(result.get("artifacts"), list) else []
    listed = [entry.get("id") for entry in entries if isinstance(entry, dict)]
    rank = {artifact_id: index for index, artifact_id in enumerate(listed)}
    return sorted(rows, key=lambda a: (rank.get(str(a.id), len(rank)), a.created_at, str(a.id)))
