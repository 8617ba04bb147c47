"""material tables, outbox, inbox, audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
from alembic import op

from mes_common.migrations import create_audit_table, create_platform_tables, drop_audit_table, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_platform_tables(op)
    create_audit_table(op)


def downgrade():
    drop_audit_table(op)
    drop_platform_tables(op)
