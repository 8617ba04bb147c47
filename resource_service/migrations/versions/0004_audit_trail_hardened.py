"""audit trail: the API token an actor used (via), a checkpoint of the chain head

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
from alembic import op

from mes_common.migrations import harden_audit_trail, soften_audit_trail

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    harden_audit_trail(op)


def downgrade():
    soften_audit_trail(op)
