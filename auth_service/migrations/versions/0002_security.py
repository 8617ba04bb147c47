"""security review: temporary passwords expire, sealed TOTP seeds, per-address locks;
audit trail: via, chain-head checkpoint; the signature table

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

from mes_common.migrations import create_signature_table, drop_signature_table, harden_audit_trail, soften_audit_trail

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    harden_audit_trail(op)
    create_signature_table(op)
    op.drop_column("app_user", "locked_until")   # a lock holds per address now (auth_service.throttle)
    op.add_column("app_user", sa.Column("password_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.alter_column("app_user", "totp_secret", type_=sa.Text(), existing_type=sa.String(length=64))
    # API tokens made without an expiry get the longest lifetime (AUTH.API_TOKEN_MAX_DAYS' default)
    op.execute("UPDATE api_token SET expires_at = created_at + interval '365 days' WHERE expires_at IS NULL")


def downgrade():
    op.alter_column("app_user", "totp_secret", type_=sa.String(length=64), existing_type=sa.Text())
    op.drop_column("app_user", "password_expires_at")
    op.add_column("app_user", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    drop_signature_table(op)
    soften_audit_trail(op)
