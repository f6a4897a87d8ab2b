"""Artifacts: files the service keeps for a user (an export, a backup, a report, an upload).

The row is the record (owner, job, name, size, expiry); the bytes live in the artifact store
(`app/files/artifacts.py`) under `storage_key`. A row exists only once its file is complete.
"""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from app.extensions import db
from app.models.base import created_at, uuid_pk

ARTIFACT_KINDS = ("export", "upload", "backup", "report")


class Artifact(db.Model):
    __tablename__ = "artifacts"
    __table_args__ = (
        Index("ix_artifacts_job", "job_id"),
        Index("ix_artifacts_user_created", "user_id", "created_at"),
        Index("ix_artifacts_expires", "expires_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    # The job that produced it; null for uploads. SET NULL, not CASCADE: the purge must see the
    # row to delete its file, so a purged job leaves an orphan row for the artifact sweep.
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("jobs.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
