"""platform tables (outbox, inbox, audit trail, signatures)

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""
from alembic import op

from mes_common.migrations import (create_audit_table, create_platform_tables, create_signature_table,
                                   drop_audit_table, drop_platform_tables, drop_signature_table, harden_audit_trail)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_platform_tables(op)
    create_audit_table(op)
    harden_audit_trail(op)
    create_signature_table(op)


def downgrade():
    drop_signature_table(op)
    drop_audit_table(op)
    drop_platform_tables(op)
