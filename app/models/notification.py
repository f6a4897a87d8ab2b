"""In-app notifications: rows first, pushed to sockets second."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from app.extensions import db
from app.models.base import created_at, uuid_pk


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # Serves the newest-first page of one user (keyset on created_at, id).
        Index("ix_notifications_user_created", "user_id", text("created_at DESC"), text("id DESC")),
        # Serves the unread count and the unread pages without touching read rows.
        Index(
            "ix_notifications_user_unread",
            "user_id",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text("NOT read"),
        ),
        # Serves the retention sweep.
        Index("ix_notifications_expires_at", "expires_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(50), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict, server_default=text("'{}'"))
    read: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=text("false"))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmailDigest(db.Model):
    """One user's digest window: job emails after the first that opened it wait in it until
    `due_at`, then go as one email (see app/notifications/digest.py)."""

    __tablename__ = "email_digests"
    __table_args__ = (
        # Serves the lookup of the user's open window on every job email.
        Index("ix_email_digests_user_open", "user_id", postgresql_where=text("status = 'open'")),
        # Serves the sweep that closes due windows.
        Index("ix_email_digests_due_open", "due_at", postgresql_where=text("status = 'open'")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")  # open -> closed
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmailDelivery(db.Model):
    """One email per notification and channel: its outcome is recorded, never lost silently.

    A job email collected by a digest window has `digest_id` set and status `digest` until the
    window closes, then `digested`; the digest itself is a delivery of type `job_digest` with
    the same `digest_id`."""

    __tablename__ = "email_deliveries"
    __table_args__ = (Index("ix_email_deliveries_digest", "digest_id", postgresql_where=text("digest_id IS NOT NULL")),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    notification_type: Mapped[str] = mapped_column(String(50), nullable=False)
    recipient: Mapped[str] = mapped_column(String(320), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    # The body and links, kept so that a sweep can send again what the broker lost.
    message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict, server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    digest_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("email_digests.id", ondelete="SET NULL")
    )
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )
