"""Webhooks: endpoints, their deliveries (an outbox) and every attempt of a delivery.

Revision ID: 0005_webhooks
Revises: 0004_schedules
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_webhooks"
down_revision = "0004_schedules"
branch_labels = None
depends_on = None


def _uuid(name: str, *args, **kwargs) -> sa.Column:
    return sa.Column(name, postgresql.UUID(as_uuid=True), *args, **kwargs)


def _user_id() -> sa.Column:
    return _uuid("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def _time(name: str, **kwargs) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)


def upgrade():
    op.create_table(
        "webhook_endpoints",
        _uuid("id", primary_key=True),
        _user_id(),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.String(40)), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("description", sa.String(500), nullable=False, server_default=""),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("disabled_reason", sa.String(500), nullable=True),
        _time("failing_since", nullable=True),
        _time("created_at", nullable=False, server_default=sa.func.now()),
        _time("updated_at", nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_webhook_endpoints_user_created", "webhook_endpoints", ["user_id", sa.text("created_at DESC")])
    op.create_table(
        "webhook_deliveries",
        _uuid("id", primary_key=True),
        _uuid("endpoint_id", sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
        _user_id(),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _time("next_attempt_at", nullable=True),
        _time("lease_until", nullable=True),
        _time("enqueued_at", nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        _time("created_at", nullable=False, server_default=sa.func.now()),
        _time("delivered_at", nullable=True),
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_created",
        "webhook_deliveries",
        ["endpoint_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        _uuid("delivery_id", sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        _time("started_at", nullable=False, server_default=sa.func.now()),
        _time("finished_at", nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("error", sa.String(1000), nullable=True),
    )
    op.create_index("ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id"])


def downgrade():
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
