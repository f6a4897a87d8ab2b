"""The artifact sweep run by beat: delete artifacts that expired or whose job was purged, then
files in the store that no row knows."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta

from sqlalchemy import and_, delete, func, or_, select

from app.extensions import db
from app.files.artifacts import PARTIAL_SUFFIX, artifact_store
from app.models import Artifact

log = logging.getLogger(__name__)

ARTIFACT_PURGE_BATCH = 200
# A file without a row (its writer died before the commit) or a `.partial` one (its writer died
# mid-write) is removed once this old: a live writer renames or commits within moments.
ORPHAN_FILE_AGE = timedelta(days=1)


def purge_artifacts() -> int:
    """Delete artifacts that expired or whose job was purged, then orphan files in the store.

    Each artifact's file goes first, then its row, a batch per transaction: a crash in between
    leaves a row without a file (deleted again next time), never a file nobody can find.
    Returns the number of artifacts and orphan files removed."""
    rows = _purge_artifact_rows()
    files = _purge_orphan_files()
    if rows or files:
        log.info("purged %d artifacts and %d orphan files", rows, files)
    return rows + files


def _purge_artifact_rows() -> int:
    store = artifact_store()
    gone = or_(Artifact.expires_at < func.now(), and_(Artifact.job_id.is_(None), Artifact.kind != "upload"))
    total = 0
    while True:
        batch = db.session.execute(
            select(Artifact.id, Artifact.storage_key)
            .where(gone)
            .order_by(Artifact.expires_at)
            .limit(ARTIFACT_PURGE_BATCH)
            .with_for_update(skip_locked=True)  # another sweep running at once takes other rows
        ).all()
        deleted = []
        for artifact_id, key in batch:
            try:
                store.delete(key)
            except OSError as exc:  # keep the row: the file is tried again next time
                log.warning("could not delete artifact file %s: %s", artifact_id, type(exc).__name__)
                continue
            deleted.append(artifact_id)
        if deleted:
            db.session.execute(delete(Artifact).where(Artifact.id.in_(deleted)))
        db.session.commit()
        total += len(deleted)
        if len(batch) < ARTIFACT_PURGE_BATCH or not deleted:
            return total


def _purge_orphan_files() -> int:
    store = artifact_store()
    cutoff = time.time() - ORPHAN_FILE_AGE.total_seconds()
    old_keys = (key for key, modified in store.keys() if modified < cutoff)
    removed = 0
    for keys in _chunks(old_keys, ARTIFACT_PURGE_BATCH):
        complete = [key for key in keys if not key.endswith(PARTIAL_SUFFIX)]
        known = set(db.session.scalars(select(Artifact.storage_key).where(Artifact.storage_key.in_(complete))))
        db.session.rollback()
        for key in keys:
            if key not in known:
                store.delete(key)
                removed += 1
    return removed


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
