"""a work order keeps what the ERP planned: its description, planned start,
planned operations (used at release) and where it came from

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("work_order", sa.Column("description", sa.Text))
    op.add_column("work_order", sa.Column("planned_start", sa.DateTime(timezone=True)))
    op.add_column("work_order", sa.Column("planned_operations", postgresql.JSONB))
    op.add_column("work_order", sa.Column("source", sa.String(200)))


def downgrade():
    for column in ("source", "planned_operations", "planned_start", "description"):
        op.drop_column("work_order", column)
