"""The schedule row: what to run, when (cron in a time zone), and when it next fires.

A schedule lives only here, never in a Celery ETA or in beat's memory: `next_run_at` is the
record, and beat processes claim due rows with `FOR UPDATE SKIP LOCKED`. The job a tick creates
points back through `jobs.schedule_id`; `(schedule_id, scheduled_for)` is unique, so a tick can
create at most one job however many processes handle it.
"""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

# app.models.base is not imported: app.models imports this module to register it, and this
# module must also load on its own.


class Schedule(db.Model):
    __tablename__ = "schedules"
    __table_args__ = (
        # The tick's one query: enabled schedules by next run.
        Index("ix_schedules_due", "next_run_at", postgresql_where=text("enabled")),
        Index("ix_schedules_user_created", "user_id", text("created_at DESC")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # A deleted owner takes their schedules along: there is nobody left to run them for.
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(50), nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    options: Mapped[dict | None] = mapped_column(JSONB)
    cron: Mapped[str] = mapped_column(String(200), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # The first tick not yet handled; null while paused. A tick's job and the advance of this
    # column commit together.
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )
