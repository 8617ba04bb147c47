"""audit entries name the API token an actor used (via)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""
from alembic import op

from mes_common.migrations import add_audit_via, drop_audit_via

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    add_audit_via(op)


def downgrade():
    drop_audit_via(op)
