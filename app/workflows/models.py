"""A workflow: a DAG of jobs created in one request. The jobs carry the edges themselves
(`jobs.depends_on`, `jobs.blocked_by`, `jobs.workflow_id`); this row holds what belongs to the
whole: its owner, its name, its keys, and when it finished (and was announced)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from app.extensions import db
from app.models.base import created_at, uuid_pk


class Workflow(db.Model):
    __tablename__ = "workflows"
    __table_args__ = (
        Index("ix_workflows_user_created", "user_id", text("created_at DESC")),
        # The sweep looks for unfinished workflows only.
        Index("ix_workflows_open", "created_at", postgresql_where=text("completed_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str | None] = mapped_column(String(255))
    # [{"key": ..., "id": ...}] in the order the request listed them: the keys a client chose.
    job_keys: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    created_at: Mapped[datetime] = created_at()
    # Set (once, with its announcement) when every job has finished; cleared by a retry.
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
