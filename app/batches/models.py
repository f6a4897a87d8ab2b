"""A batch: jobs created together by one `POST /api/jobs/batch`. The jobs point at it
(`jobs.batch_id`); this row holds what belongs to the whole: its owner, how many jobs it has,
how many of them have not finished, and when it finished (and was announced)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from app.extensions import db
from app.models.base import created_at, uuid_pk


class Batch(db.Model):
    __tablename__ = "batches"
    __table_args__ = (
        Index("ix_batches_user_created", "user_id", text("created_at DESC")),
        # The sweep looks for unfinished batches only.
        Index("ix_batches_open", "created_at", postgresql_where=text("completed_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    # Its jobs still queued or active, recounted under the row's lock whenever one of them
    # finishes or is retried (app/batches/settle.py).
    remaining: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = created_at()
    # Set (once, with its announcement) when every job has finished; cleared by a retry.
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
