"""Jobs: the record of every background operation, its attempts and its progress.

Postgres is the record and Redis only carries messages, so everything needed to re-enqueue,
retry, recover or dead-letter a job lives in this row.
"""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text, false, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from app.extensions import db
from app.models.base import created_at, uuid_pk


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        # A user's jobs in the list's order (its whole sort key, so a page is an index scan).
        Index("ix_jobs_user_created_id", "user_id", text("created_at DESC"), text("id DESC")),
        # The release sweep: queued jobs not yet handed to the broker, in the order they should run.
        Index(
            "ix_jobs_release",
            text("priority DESC"),
            "created_at",
            postgresql_where=text("status = 'queued' AND enqueued_at IS NULL"),
        ),
        # Jobs by status, but not the completed ones (nearly all rows, never looked up by status).
        Index("ix_jobs_status_open", "status", "type", postgresql_where=text("status <> 'completed'")),
        # At most one waiting job per (type, singletonKey).
        Index(
            "uq_jobs_singleton",
            "type",
            "singleton_key",
            unique=True,
            postgresql_where=text("singleton_key IS NOT NULL AND status IN ('queued', 'active')"),
        ),
        Index("ix_jobs_finished", "completed_at", postgresql_where=text("completed_at IS NOT NULL")),
        # Schedules (app/schedules): one job per tick; a schedule's jobs newest first.
        Index(
            "uq_jobs_schedule_tick",
            "schedule_id",
            "scheduled_for",
            unique=True,
            postgresql_where=text("schedule_id IS NOT NULL"),
        ),
        Index(
            "ix_jobs_schedule_created",
            "schedule_id",
            text("created_at DESC"),
            postgresql_where=text("schedule_id IS NOT NULL"),
        ),
        # Workflows (app/workflows): the jobs that depend on a job, a workflow's jobs, and the jobs
        # still waiting for a dependency (the dependency sweep looks only at those).
        Index(
            "ix_jobs_depends_on",
            "depends_on",
            postgresql_using="gin",
            postgresql_where=text("depends_on IS NOT NULL"),
        ),
        Index("ix_jobs_workflow", "workflow_id", postgresql_where=text("workflow_id IS NOT NULL")),
        Index("ix_jobs_blocked", "created_at", postgresql_where=text("blocked_by IS NOT NULL")),
        # Batches (app/batches): a batch's jobs newest first, and its recount.
        Index(
            "ix_jobs_batch_created",
            "batch_id",
            text("created_at DESC"),
            postgresql_where=text("batch_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(50), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="queued")
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    progress: Mapped[dict | None] = mapped_column(JSONB)
    result: Mapped[dict | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(30))

    priority: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    retry_delay: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retry_backoff: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    expire_in_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    singleton_key: Mapped[str | None] = mapped_column(String(255))

    created_at: Mapped[datetime] = created_at()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the job may run: startAfter, or the end of a retry back-off. Null means now.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the current attempt was handed to the broker; null means "not yet": the sweep does it.
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(255))
    # Dependencies and workflows (app/workflows): the jobs this one waits for, those of them not
    # completed yet (null once none is left: only then may it go to the broker), its workflow.
    depends_on: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    blocked_by: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    # Whether a job may depend on this one (set with its first dependent, never cleared): only then
    # does its completion release dependents.
    has_dependents: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    workflow_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("workflows.id", ondelete="SET NULL")
    )
    # Schedules (app/schedules): the schedule that created the job (null once it is deleted) and
    # the tick it was created for (null for "run now").
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("schedules.id", name="fk_jobs_schedule", ondelete="SET NULL", use_alter=True)
    )
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Batches (app/batches): the batch that created the job. SET NULL: the batch row is
    # bookkeeping of the announcement; losing it never deletes a user's jobs.
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("batches.id", ondelete="SET NULL")
    )


class IdempotencyKey(db.Model):
    """An `Idempotency-Key` a user sent, the hash of its request and what it created: a job
    (`POST /api/jobs`) or a batch (`POST /api/jobs/batch`), exactly one of the two."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (CheckConstraint("(job_id IS NULL) <> (batch_id IS NULL)", name="one_target"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("jobs.id", ondelete="CASCADE"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("batches.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = created_at()


class DeadLetter(db.Model):
    """A job that failed for good, kept for operators to inspect and redrive."""

    __tablename__ = "dead_letters"

    id: Mapped[uuid.UUID] = uuid_pk()
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    job_type: Mapped[str] = mapped_column(String(50), nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = created_at()
    redriven_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    redriven_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class JobExecution(db.Model):
    """Test probe: one row per run of the `test-probe` job type, to count effects."""

    __tablename__ = "job_executions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    completed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = created_at()
