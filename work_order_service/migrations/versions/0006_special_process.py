"""an operation keeps the routing's special process as it was released

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("work_order_operation", sa.Column("special_process", postgresql.JSONB))


def downgrade():
    op.drop_column("work_order_operation", "special_process")
