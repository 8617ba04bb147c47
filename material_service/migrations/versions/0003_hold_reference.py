"""holds say what they are for in their owner's words (an NCR number)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("hold", sa.Column("reference", sa.String(200)))
    op.create_index("ix_hold_reference", "hold", ["reference"], postgresql_where=sa.text("reference IS NOT NULL"))


def downgrade():
    op.drop_index("ix_hold_reference", table_name="hold")
    op.drop_column("hold", "reference")
