"""The auth service's own tables (database mes_auth).

Secrets are never stored in the clear: passwords as argon2id hashes, refresh
tokens, API tokens and recovery codes as SHA-256 of 256/130-bit random values
(high entropy: a fast hash is enough and keeps lookups indexable), TOTP seeds
sealed with a key kept outside the database (auth_service.sealing).
"""
import datetime as dt
import uuid

from sqlalchemy import (BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, func,
                        text)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mes_common.audit import audit_model
from mes_common.signatures import signature_model
from mes_common.db import platform_models


class Base(DeclarativeBase):
    pass


OutboxEvent, InboxEvent = platform_models(Base)
AuditEntry = audit_model(Base)
Signature = signature_model(Base)


def _id():
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


def _created():
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (
        # usernames are unique regardless of case: "Alice" cannot impersonate "alice"
        Index("uq_app_user_username", func.lower(text("username")), unique=True),
    )

    id: Mapped[uuid.UUID] = _id()
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true", default=True)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                             server_default=func.now())
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false",
                                                       default=False)
    # a password an administrator set serves once, until then (AUTH.TEMPORARY_PASSWORD_TTL)
    password_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # TOTP: the secret while enrolling or enabled, sealed (auth_service.sealing); mfa_enabled once confirmed
    totp_secret: Mapped[str | None] = mapped_column(Text)
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false", default=False)
    # the last accepted TOTP time step: a code is accepted once, and never an older one
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now(), onupdate=func.now())

    __mapper_args__ = {"version_id_col": version}


class PasswordHistory(Base):
    """Previous password hashes (the last five cannot be reused)."""
    __tablename__ = "password_history"
    __table_args__ = (Index("ix_password_history_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("app_user.id"), nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = _created()


class Role(Base):
    __tablename__ = "role"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False,
                                                   server_default="{}")
    requires_mfa: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false", default=False)
    builtin: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false", default=False)
    created_at: Mapped[dt.datetime] = _created()


class UserRole(Base):
    __tablename__ = "user_role"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("app_user.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), ForeignKey("role.name"), primary_key=True)
    granted_at: Mapped[dt.datetime] = _created()


class Session(Base):
    """One login: its refresh tokens form one rotation family."""
    __tablename__ = "auth_session"
    __table_args__ = (
        Index("ix_auth_session_user_active", "user_id", postgresql_where=text("revoked_at IS NULL")),
        Index("ix_auth_session_revoked_at", "revoked_at", postgresql_where=text("revoked_at IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("app_user.id"), nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    mfa: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false", default=False)
    # 21 CFR 11.200(a)(1): the first signing of a session needs every component
    last_signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(100))


class RefreshToken(Base):
    __tablename__ = "refresh_token"
    __table_args__ = (Index("ix_refresh_token_session", "session_id"),)

    id: Mapped[uuid.UUID] = _id()
    session_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("auth_session.id"),
                                                  nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = _created()
    # set when it is exchanged: presenting it again is reuse
    rotated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user", "user_id"),)

    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("app_user.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # the first characters, shown in lists so an owner can tell tokens apart
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _created()


class RecoveryCode(Base):
    __tablename__ = "recovery_code"
    __table_args__ = (Index("ix_recovery_code_user", "user_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("app_user.id"), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _created()
