"""a rework or repair line of a disposition follows its rework operation (work
order service): pending until one is made, then open, running, completed. Lines
signed before keep none: their rework was not ordered through the MES.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("ncr_disposition", sa.Column("rework_status", sa.String(20)))
    op.add_column("ncr_disposition", sa.Column("rework_id", postgresql.UUID(as_uuid=True)))
    op.add_column("ncr_disposition", sa.Column("rework_number", sa.String(32)))


def downgrade():
    for column in ("rework_number", "rework_id", "rework_status"):
        op.drop_column("ncr_disposition", column)
