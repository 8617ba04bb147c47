"""probe tables

Revision ID: p0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_common.migrations import create_platform_tables, drop_platform_tables

revision = "p0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_platform_tables(op)
    op.create_table(
        "effect",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
    )


def downgrade():
    op.drop_table("effect")
    drop_platform_tables(op)
