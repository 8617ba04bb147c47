"""the message log and the endpoints

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade():
    op.create_table(
        "endpoint",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("b2mml_version", sa.String(5)),
        sa.Column("nouns", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("event_types", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("auth_header", sa.String(100)),
        sa.Column("secret", sa.LargeBinary),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("kind IN ('b2mml', 'webhook')", name="ck_endpoint_kind"),
    )
    op.create_table(
        "message",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("endpoint_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("endpoint.id")),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("version", sa.String(5)),
        sa.Column("noun", sa.String(64)),
        sa.Column("verb", sa.String(20)),
        sa.Column("document_id", sa.String(200)),
        sa.Column("sender", sa.String(200)),
        sa.Column("idempotency_key", sa.String(300)),
        sa.Column("payload_hash", sa.String(64)),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("correlation_id", sa.String(100)),
        sa.Column("actor", sa.String(200)),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("options", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("answer", sa.Text),
        sa.Column("error", postgresql.JSONB),
        sa.Column("touched", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("order_key", sa.String(100)),
        sa.Column("event_id", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("direction IN ('in', 'out')", name="ck_message_direction"),
    )
    op.create_index("uq_message_key", "message", ["idempotency_key"], unique=True,
                    postgresql_where=sa.text("idempotency_key IS NOT NULL AND status IN ('processing', 'accepted')"))
    op.create_index("ix_message_created", "message", ["created_at", "id"])
    op.create_index("ix_message_due", "message", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_message_order", "message", ["endpoint_id", "order_key", "created_at"])
    op.create_index("uq_message_event", "message", ["endpoint_id", "event_id"], unique=True,
                    postgresql_where=sa.text("event_id IS NOT NULL"))
    op.create_index("ix_message_touched", "message", ["touched"], postgresql_using="gin",
                    postgresql_ops={"touched": "jsonb_path_ops"})


def downgrade():
    op.drop_table("message")
    op.drop_table("endpoint")
