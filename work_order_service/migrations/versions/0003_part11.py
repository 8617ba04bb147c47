"""21 CFR Part 11: audit trail with the API token an actor used (via) and a chain-head
checkpoint; the signature table (and signed records kept)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
from alembic import op

from mes_common.migrations import (create_signature_table, drop_signature_table, harden_audit_trail,
                                   protect_signed_records, soften_audit_trail, unprotect_signed_records)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    harden_audit_trail(op)
    create_signature_table(op)
    protect_signed_records(op, "work_order", "work_order")
    protect_signed_records(op, "work_instruction", "work_instruction")
    protect_signed_records(op, "work_order_step_buy_off", "step_buy_off",
                           key_sql="OLD.operation_id::text || ':' || OLD.step")


def downgrade():
    unprotect_signed_records(op, "work_order_step_buy_off")
    unprotect_signed_records(op, "work_instruction")
    unprotect_signed_records(op, "work_order")
    drop_signature_table(op)
    soften_audit_trail(op)
