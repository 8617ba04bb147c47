"""The Integration service's own tables (database mes_integration): the message log
(every message in and out, verbatim) and the endpoints messages go to."""
import datetime as dt
import uuid

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mes_common.audit import audit_model
from mes_common.signatures import signature_model
from mes_common.db import platform_models


class Base(DeclarativeBase):
    pass


OutboxEvent, InboxEvent = platform_models(Base)
AuditEntry = audit_model(Base)
Signature = signature_model(Base)


class Endpoint(Base):
    """A system messages go to: an ERP or PLM taking B2MML (`b2mml`), or a URL taking MES events as
    CloudEvents (`webhook`). The secret (the auth header's value, or the webhook's signing key) is
    stored encrypted (contract: never shown after it is set)."""
    __tablename__ = "endpoint"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    b2mml_version: Mapped[str | None] = mapped_column(String(5))
    nouns: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)        # b2mml: what it receives
    event_types: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)  # webhook: what it receives
    auth_header: Mapped[str | None] = mapped_column(String(100))
    secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now(),
                                                    onupdate=func.now())

    __mapper_args__ = {"version_id_col": version}


class Message(Base):
    """One message in or out, its payload verbatim. An inbound message holds its idempotency key while it is
    being processed or once accepted (a unique index on those): a repeat gets the first answer; a rejected
    or failed one frees its key, so the sender may send it again once the cause is fixed."""
    __tablename__ = "message"
    __table_args__ = (
        Index("uq_message_key", "idempotency_key", unique=True,
              postgresql_where=text("idempotency_key IS NOT NULL AND status IN ('processing', 'accepted')")),
        Index("ix_message_created", "created_at", "id"),
        Index("ix_message_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_message_order", "endpoint_id", "order_key", "created_at"),
        Index("uq_message_event", "endpoint_id", "event_id", unique=True,
              postgresql_where=text("event_id IS NOT NULL")),
        Index("ix_message_touched", "touched", postgresql_using="gin", postgresql_ops={"touched": "jsonb_path_ops"}),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)    # in | out
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("endpoint.id"))
    kind: Mapped[str] = mapped_column(String(10), nullable=False)        # b2mml | webhook
    version: Mapped[str | None] = mapped_column(String(5))               # V0600 | V0700
    noun: Mapped[str | None] = mapped_column(String(64))
    verb: Mapped[str | None] = mapped_column(String(20))
    document_id: Mapped[str | None] = mapped_column(String(200))         # BODID, else the noun's ID
    sender: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(300))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    http_status: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    correlation_id: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    options: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)  # in: ?site=, ?part_type= (replays)
    answer: Mapped[str | None] = mapped_column(Text)                     # what the MES answered (in)
    error: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))  # {error, message, details} of a refusal
    touched: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)  # [{type, id, number, action}]
    order_key: Mapped[str | None] = mapped_column(String(100))           # out: kept in order per key
    event_id: Mapped[str | None] = mapped_column(String(100))            # out: the event it carries
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now(),
                                                    onupdate=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
