"""QIF: a characteristic keeps its designator as written, its drawing zone and
the QIF item it came from; imported QIF documents are kept verbatim

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_common.migrations import create_append_only_triggers, drop_append_only_function

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("characteristic", sa.Column("designator", sa.String(40)))
    op.add_column("characteristic", sa.Column("drawing_zone", sa.String(40)))
    op.add_column("characteristic", sa.Column("external_id", sa.String(64)))
    op.create_table(
        "qif_document",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("qpid", sa.String(64), nullable=False),
        sa.Column("plan_number", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("plan_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("inspection_plan.id")),
        sa.Column("inspection_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("inspection.id")),
        sa.Column("summary", postgresql.JSONB, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("kind", "qpid", "plan_number", name="uq_qif_document_qpid"),
        sa.CheckConstraint("kind IN ('plan', 'results')", name="ck_qif_document_kind"),
    )
    op.create_index("ix_qif_document_created", "qif_document", ["created_at", "id"])
    create_append_only_triggers(op, "qif_document", "quality record",
                                "an imported document is kept as it came in; import a new one")


def downgrade():
    op.drop_table("qif_document")
    drop_append_only_function(op, "qif_document")
    for column in ("external_id", "drawing_zone", "designator"):
        op.drop_column("characteristic", column)
