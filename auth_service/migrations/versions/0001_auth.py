"""users, roles, sessions, tokens, MFA, audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_common.migrations import create_audit_table, create_platform_tables, drop_audit_table, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_platform_tables(op)
    create_audit_table(op)
    op.create_table("app_user",
    sa.Column("id", sa.UUID(), nullable=False),
    sa.Column("username", sa.String(length=64), nullable=False),
    sa.Column("email", sa.String(length=254), nullable=True),
    sa.Column("display_name", sa.String(length=200), nullable=False),
    sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.Column("must_change_password", sa.Boolean(), server_default="false", nullable=False),
    sa.Column("totp_secret", sa.String(length=64), nullable=True),
    sa.Column("mfa_enabled", sa.Boolean(), server_default="false", nullable=False),
    sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
    sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("uq_app_user_username", "app_user", [sa.literal_column("lower(username)")], unique=True)
    op.create_table("role",
    sa.Column("name", sa.String(length=64), nullable=False),
    sa.Column("description", sa.Text(), server_default="", nullable=False),
    sa.Column("permissions", postgresql.ARRAY(sa.String(length=64)), server_default="{}", nullable=False),
    sa.Column("requires_mfa", sa.Boolean(), server_default="false", nullable=False),
    sa.Column("builtin", sa.Boolean(), server_default="false", nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.PrimaryKeyConstraint("name")
    )
    op.create_table("api_token",
    sa.Column("id", sa.UUID(), nullable=False),
    sa.Column("user_id", sa.UUID(), nullable=False),
    sa.Column("name", sa.String(length=100), nullable=False),
    sa.Column("prefix", sa.String(length=16), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("permissions", postgresql.ARRAY(sa.String(length=64)), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("token_hash")
    )
    op.create_index("ix_api_token_user", "api_token", ["user_id"], unique=False)
    op.create_table("auth_session",
    sa.Column("id", sa.UUID(), nullable=False),
    sa.Column("user_id", sa.UUID(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("client_address", sa.String(length=64), nullable=True),
    sa.Column("user_agent", sa.String(length=300), nullable=True),
    sa.Column("mfa", sa.Boolean(), server_default="false", nullable=False),
    sa.Column("last_signed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_reason", sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_auth_session_revoked_at", "auth_session", ["revoked_at"], unique=False, postgresql_where=sa.text("revoked_at IS NOT NULL"))
    op.create_index("ix_auth_session_user_active", "auth_session", ["user_id"], unique=False, postgresql_where=sa.text("revoked_at IS NULL"))
    op.create_table("password_history",
    sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column("user_id", sa.UUID(), nullable=False),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_password_history_user", "password_history", ["user_id", "id"], unique=False)
    op.create_table("recovery_code",
    sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column("user_id", sa.UUID(), nullable=False),
    sa.Column("code_hash", sa.String(length=64), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("code_hash")
    )
    op.create_index("ix_recovery_code_user", "recovery_code", ["user_id"], unique=False)
    op.create_table("user_role",
    sa.Column("user_id", sa.UUID(), nullable=False),
    sa.Column("role", sa.String(length=64), nullable=False),
    sa.Column("granted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.ForeignKeyConstraint(["role"], ["role.name"], ),
    sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
    sa.PrimaryKeyConstraint("user_id", "role")
    )
    op.create_table("refresh_token",
    sa.Column("id", sa.UUID(), nullable=False),
    sa.Column("session_id", sa.UUID(), nullable=False),
    sa.Column("token_hash", sa.String(length=64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["session_id"], ["auth_session.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("token_hash")
    )
    op.create_index("ix_refresh_token_session", "refresh_token", ["session_id"], unique=False)


def downgrade():
    op.drop_index("ix_refresh_token_session", table_name="refresh_token")
    op.drop_table("refresh_token")
    op.drop_table("user_role")
    op.drop_index("ix_recovery_code_user", table_name="recovery_code")
    op.drop_table("recovery_code")
    op.drop_index("ix_password_history_user", table_name="password_history")
    op.drop_table("password_history")
    op.drop_index("ix_auth_session_user_active", table_name="auth_session", postgresql_where=sa.text("revoked_at IS NULL"))
    op.drop_index("ix_auth_session_revoked_at", table_name="auth_session", postgresql_where=sa.text("revoked_at IS NOT NULL"))
    op.drop_table("auth_session")
    op.drop_index("ix_api_token_user", table_name="api_token")
    op.drop_table("api_token")
    op.drop_table("role")
    op.drop_index("uq_app_user_username", table_name="app_user")
    op.drop_table("app_user")
    drop_audit_table(op)
    drop_platform_tables(op)
