"""21 CFR Part 11: audit trail with the API token an actor used (via) and a chain-head
checkpoint; the signature table (and signed records kept)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
from alembic import op

from mes_common.migrations import (create_signature_table, drop_signature_table, harden_audit_trail,
                                   protect_signed_records, soften_audit_trail, unprotect_signed_records)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    harden_audit_trail(op)
    create_signature_table(op)
    protect_signed_records(op, "routing", "routing")


def downgrade():
    unprotect_signed_records(op, "routing")
    drop_signature_table(op)
    soften_audit_trail(op)
