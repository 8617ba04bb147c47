"""rework operations: the MRB's rework and repair lines, worked on the shop floor

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade():
    op.execute("CREATE SEQUENCE rework_operation_number_seq")
    op.create_table(
        "rework_operation",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("disposition_id", UUID, nullable=False, unique=True),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("ncr_id", UUID, nullable=False),
        sa.Column("ncr_number", sa.String(32), nullable=False),
        sa.Column("ncr_title", sa.String(200), nullable=False),
        sa.Column("part_id", UUID, nullable=False),
        sa.Column("part_number", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(10), nullable=False),
        sa.Column("target_id", UUID, nullable=False),
        sa.Column("target_number", sa.String(100), nullable=False),
        sa.Column("quantity", sa.Numeric(18, 6), nullable=False),
        sa.Column("instructions", sa.Text),
        sa.Column("work_order_id", UUID, sa.ForeignKey("work_order.id")),
        sa.Column("work_order_number", sa.String(64)),
        sa.Column("operation_id", UUID, sa.ForeignKey("work_order_operation.id")),
        sa.Column("operation_sequence", sa.Integer),
        sa.Column("work_center_id", UUID),
        sa.Column("work_center_name", sa.String(200)),
        sa.Column("required_skills", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("operator_id", UUID),
        sa.Column("operator_name", sa.String(200)),
        sa.Column("equipment_id", UUID),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_rework_operation_quantity"),
        sa.CheckConstraint("status IN ('open','running','completed')", name="ck_rework_operation_status"),
    )
    op.create_index("ix_rework_operation_created", "rework_operation", ["created_at", "id"])
    op.create_index("ix_rework_operation_dispatch", "rework_operation", ["work_center_id", "status"])
    op.create_index("ix_rework_operation_work_order", "rework_operation", ["work_order_id"])
    op.create_index("ix_rework_operation_ncr", "rework_operation", ["ncr_number"])


def downgrade():
    op.drop_table("rework_operation")
    op.execute("DROP SEQUENCE rework_operation_number_seq")
