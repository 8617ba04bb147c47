"""equipment hierarchy, outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_common.migrations import create_platform_tables, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_platform_tables(op)
    op.create_table(
        "equipment_node",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("parent_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("equipment_node.id", ondelete="RESTRICT")),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("depth", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("level IN ('enterprise','site','area','work_center','work_unit','equipment')",
                           name="ck_equipment_node_level"),
    )
    op.create_index("uq_equipment_node_parent_code", "equipment_node", ["parent_id", "code"], unique=True,
                    postgresql_where=sa.text("parent_id IS NOT NULL"))
    op.create_index("uq_equipment_node_root_code", "equipment_node", ["code"], unique=True,
                    postgresql_where=sa.text("parent_id IS NULL"))
    op.create_index("ix_equipment_node_path", "equipment_node", ["path"],
                    postgresql_ops={"path": "text_pattern_ops"})
    op.create_index("ix_equipment_node_level_code", "equipment_node", ["level", "code", "id"])
    op.create_index("ix_equipment_node_parent_code_id", "equipment_node", ["parent_id", "code", "id"])


def downgrade():
    op.drop_table("equipment_node")
    drop_platform_tables(op)
