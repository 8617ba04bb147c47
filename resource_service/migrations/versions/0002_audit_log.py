"""audit trail (hash-chained, append-only)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from alembic import op

from mes_common.migrations import create_audit_table, drop_audit_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    create_audit_table(op)


def downgrade():
    drop_audit_table(op)
