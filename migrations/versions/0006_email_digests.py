"""Email digests: a window per user that collects job emails after the first one.

Revision ID: 0006_email_digests
Revises: 0005_webhooks
Create Date: 2026-12-01

`email_digests` holds each user's digest windows; a delivery collected by one points at it
through `email_deliveries.digest_id`, as does the digest email sent when the window closes.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_email_digests"
down_revision = "0005_webhooks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "email_digests",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "user_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_email_digests_user_id_users"),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_email_digests"),
    )
    op.create_index(
        "ix_email_digests_user_open", "email_digests", ["user_id"], postgresql_where=sa.text("status = 'open'")
    )
    op.create_index(
        "ix_email_digests_due_open", "email_digests", ["due_at"], postgresql_where=sa.text("status = 'open'")
    )
    op.add_column("email_deliveries", sa.Column("digest_id", postgresql.UUID(as_uuid=True), nullable=True))
    op.create_foreign_key(
        "fk_email_deliveries_digest_id_email_digests",
        "email_deliveries",
        "email_digests",
        ["digest_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_email_deliveries_digest",
        "email_deliveries",
        ["digest_id"],
        postgresql_where=sa.text("digest_id IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_email_deliveries_digest", table_name="email_deliveries")
    op.drop_constraint("fk_email_deliveries_digest_id_email_digests", "email_deliveries", type_="foreignkey")
    op.drop_column("email_deliveries", "digest_id")
    op.drop_table("email_digests")
