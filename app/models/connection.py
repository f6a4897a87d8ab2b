"""A user's database connections and the schema cached from each."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import DateTime

from app.extensions import db
from app.models.base import created_at, uuid_pk


class Connection(db.Model):
    __tablename__ = "connections"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    dialect: Mapped[str] = mapped_column(String(20), nullable=False)
    # The full URL, credentials included, encrypted with CONNECTION_SECRET_KEY.
    url_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # The same URL with the password masked: safe to return and log.
    display_url: Mapped[str] = mapped_column(String(2048), nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class SchemaCache(db.Model):
    __tablename__ = "schema_cache"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    total_tables: Mapped[int] = mapped_column(Integer, nullable=False)
    tables: Mapped[list] = mapped_column(JSONB, nullable=False)
