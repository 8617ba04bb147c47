"""First Article Inspection reports (AS9102 Rev C); a signed one cannot be deleted

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_common.migrations import protect_signed_records, unprotect_signed_records

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UUID, JSONB = postgresql.UUID(as_uuid=True), postgresql.JSONB


def upgrade():
    op.execute("CREATE SEQUENCE fai_report_number_seq")
    op.create_table(
        "fai_report",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("previous_fair_id", UUID, sa.ForeignKey("fai_report.id")),
        sa.Column("previous_fair_number", sa.String(32)),
        sa.Column("part_id", UUID, nullable=False),
        sa.Column("part_number", sa.String(64), nullable=False),
        sa.Column("part_name", sa.String(200), nullable=False),
        sa.Column("part_revision", sa.String(16), nullable=False),
        sa.Column("serial_id", UUID, nullable=False),
        sa.Column("serial_number", sa.String(100), nullable=False),
        sa.Column("work_order_id", UUID),
        sa.Column("work_order_number", sa.String(64)),
        sa.Column("drawing_number", sa.String(64), nullable=False),
        sa.Column("drawing_revision", sa.String(16), nullable=False),
        sa.Column("additional_changes", sa.Text),
        sa.Column("process_reference", sa.String(200)),
        sa.Column("organization", sa.String(200)),
        sa.Column("supplier_code", sa.String(64)),
        sa.Column("po_number", sa.String(64)),
        sa.Column("plan_numbers", JSONB, nullable=False),
        sa.Column("detail_parts", JSONB, nullable=False),
        sa.Column("form2", JSONB, nullable=False),
        sa.Column("form3", JSONB, nullable=False),
        sa.Column("comments", sa.Text),
        sa.Column("status_reason", sa.Text),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint("status IN ('draft', 'in_review', 'approved', 'rejected')", name="ck_fai_report_status"),
        sa.CheckConstraint("kind IN ('full', 'partial')", name="ck_fai_report_kind"),
    )
    op.create_index("ix_fai_report_created", "fai_report", ["created_at", "id"])
    op.create_index("ix_fai_report_part", "fai_report", ["part_id", "part_revision"])
    protect_signed_records(op, "fai_report", "fai_report")


def downgrade():
    unprotect_signed_records(op, "fai_report")
    op.drop_table("fai_report")
    op.execute("DROP SEQUENCE fai_report_number_seq")
