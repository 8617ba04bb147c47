"""an SPC violation names its inspection, the series it was found on and the
frozen limits it was judged against; a plan's inspections are read in the
order they opened (a control chart)

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


def upgrade():
    op.add_column("spc_violation", sa.Column("series", sa.String(10), nullable=False))
    op.add_column("spc_violation", sa.Column("inspection_id", postgresql.UUID(as_uuid=True), nullable=False))
    op.add_column("spc_violation", sa.Column("limits_id", postgresql.UUID(as_uuid=True), nullable=False))
    op.create_foreign_key("fk_spc_violation_limits", "spc_violation", "control_limits", ["limits_id"], ["id"])
    op.create_index("ix_spc_violation_inspection", "spc_violation", ["inspection_id"])
    op.create_index("ix_inspection_plan_opened", "inspection", ["plan_number", "opened_at", "id"])


def downgrade():
    op.drop_index("ix_inspection_plan_opened", table_name="inspection")
    op.drop_index("ix_spc_violation_inspection", table_name="spc_violation")
    op.drop_constraint("fk_spc_violation_limits", "spc_violation", type_="foreignkey")
    for column in ("limits_id", "inspection_id", "series"):
        op.drop_column("spc_violation", column)
