"""Unread notifications index with the page's sort key; email deliveries keep their body.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

The unread index gains `id DESC` so unread pages are served by an index-only scan in the same
order as the listing. Email deliveries keep their message and data so that a sweep can send
again what the broker lost, and an `updated_at` to find retries whose message was lost.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_notifications_user_unread", table_name="notifications", postgresql_where=sa.text("NOT read"))
    op.create_index(
        "ix_notifications_user_unread",
        "notifications",
        ["user_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        postgresql_where=sa.text("NOT read"),
    )
    op.add_column("email_deliveries", sa.Column("message", sa.Text(), nullable=True))
    op.add_column(
        "email_deliveries",
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    )
    op.add_column(
        "email_deliveries",
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )


def downgrade():
    op.drop_column("email_deliveries", "updated_at")
    op.drop_column("email_deliveries", "data")
    op.drop_column("email_deliveries", "message")
    op.drop_index("ix_notifications_user_unread", table_name="notifications", postgresql_where=sa.text("NOT read"))
    op.create_index(
        "ix_notifications_user_unread",
        "notifications",
        ["user_id", sa.literal_column("created_at DESC")],
        postgresql_where=sa.text("NOT read"),
    )
