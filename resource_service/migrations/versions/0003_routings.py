"""routings: versions per part revision, operations at work centers

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "routing",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("part_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("part_revision", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.UniqueConstraint("part_id", "part_revision", "version", name="uq_routing_part_revision_version"),
        sa.CheckConstraint("status IN ('draft','released','obsolete')", name="ck_routing_status"),
        sa.CheckConstraint("version > 0", name="ck_routing_version"),
    )
    # the rule "one released routing per part revision", kept by the database itself
    op.create_index("uq_routing_released", "routing", ["part_id", "part_revision"], unique=True,
                    postgresql_where=sa.text("status = 'released'"))
    op.create_index("ix_routing_status", "routing", ["status", "part_id", "part_revision", "version"])
    op.create_table(
        "routing_operation",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("routing_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("routing.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("work_center_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("equipment_node.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("setup_time", sa.Numeric(18, 6), nullable=False),
        sa.Column("run_time", sa.Numeric(18, 6), nullable=False),
        sa.Column("required_skill", sa.String(200)),
        sa.Column("work_instruction_code", sa.String(64)),
        sa.UniqueConstraint("routing_id", "sequence", name="uq_routing_operation_sequence"),
        sa.CheckConstraint("sequence > 0", name="ck_routing_operation_sequence"),
        sa.CheckConstraint("setup_time >= 0 AND run_time >= 0", name="ck_routing_operation_times"),
    )
    op.create_index("ix_routing_operation_work_center", "routing_operation", ["work_center_id"])


def downgrade():
    op.drop_table("routing_operation")
    op.drop_table("routing")
