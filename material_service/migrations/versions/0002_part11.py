"""21 CFR Part 11: audit trail with the API token an actor used (via) and a chain-head
checkpoint; the signature table (and signed records kept)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""
from alembic import op

from mes_common.migrations import create_signature_table, drop_signature_table, harden_audit_trail, soften_audit_trail

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    harden_audit_trail(op)
    create_signature_table(op)


def downgrade():
    drop_signature_table(op)
    soften_audit_trail(op)
