"""a routing operation may be a special process (its specification, code, source)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("routing_operation", sa.Column("special_process", postgresql.JSONB))


def downgrade():
    op.drop_column("routing_operation", "special_process")
