"""Uploads: CSV or JSON files a user sends for a `bulk-import` job, kept UPLOAD_RETENTION_HOURS.

An upload is an `Artifact` of kind "upload" with no job. It stays after an import (the same
file can be imported again, e.g. after fixing the table) until it expires or its owner deletes
it; an expired upload counts as gone at once, and the artifact sweep
(`app.files.purge.purge_artifacts`) deletes its file and row later.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask import Request, current_app

from app.errors import NotFound
from app.extensions import db
from app.files.artifacts import artifact_store, describe, write_artifact
from app.files.intake import incoming_file
from app.models import Artifact
from app.models.base import iso
from app.platform.ownership import is_owned

UPLOAD_KIND = "upload"


def receive_upload(user_id: uuid.UUID, request: Request, filename: str | None = None) -> Artifact:
    """Stream the request's file into the artifact store and commit its row."""
    config = current_app.config
    limit = config["UPLOAD_MAX_BYTES"]
    upload = incoming_file(request, limit, filename)
    expires_at = datetime.now(UTC) + timedelta(hours=config["UPLOAD_RETENTION_HOURS"])
    with write_artifact(
        user_id=user_id,
        job_id=None,
        kind=UPLOAD_KIND,
        filename=upload.filename,
        content_type=upload.content_type,
        expires_at=expires_at,
    ) as writer:
        for chunk in upload.chunks:
            writer.write(chunk)
    db.session.commit()
    return writer.artifact


def find_upload(user_id: uuid.UUID, upload_id: uuid.UUID) -> Artifact | None:
    """The caller's upload if it exists and has not expired."""
    upload = db.session.get(Artifact, upload_id)
    if not is_owned(upload, user_id) or upload.kind != UPLOAD_KIND:
        return None
    if upload.expires_at <= datetime.now(UTC):
        return None
    return upload


def get_upload(user_id: uuid.UUID, upload_id: uuid.UUID) -> Artifact:
    """The caller's upload, or 404 (another user's upload is not revealed)."""
    upload = find_upload(user_id, upload_id)
    if upload is None:
        raise NotFound("Upload not found")
    return upload


def delete_upload(user_id: uuid.UUID, upload_id: uuid.UUID) -> None:
    upload = get_upload(user_id, upload_id)
    key = upload.storage_key
    db.session.delete(upload)
    db.session.commit()
    # The row goes first: a file left behind by a crash here is an orphan the artifact sweep
    # removes, whereas a row without its file would be an upload that cannot be read.
    artifact_store().delete(key)


def require_owned_upload(user_id: uuid.UUID, payload: dict) -> None:
    """`check_access` of bulk-import: the payload's upload must be the caller's (404 otherwise,
    like any other user's resource)."""
    try:
        upload_id = uuid.UUID(str(payload.get("uploadId")))
    except ValueError:
        upload_id = None
    if upload_id is None or find_upload(user_id, upload_id) is None:
        raise NotFound("Upload not found", {"payload": {"uploadId": ["Upload not found."]}})


def serialize_upload(upload: Artifact) -> dict:
    return {**describe(upload), "createdAt": iso(upload.created_at), "expiresAt": iso(upload.expires_at)}
