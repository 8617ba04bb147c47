"""The traceability service's tables (database mes_traceability).

The read model lives twice, in schemas `trace_a` and `trace_b` (same tables):
`model_state.active` says which one answers. A rebuild fills the other from
the owners' event logs and swaps them in one transaction, so queries never
see a half-built model. The tables here name the schema "trace"; each
statement runs with `schema_translate_map` to the generation it means
(mes_common.readmodel.Generation).

A node's `attrs` are last-writer-wins per key: `stamps` holds, for each key,
the version (event time | event id) of the event that set it, and a merge
keeps the newer value of each key (the SQL functions `trace_lww_*`), so the
model is the same whatever order the events arrive in.
"""
import datetime as dt
import uuid

from sqlalchemy import Boolean, Computed, DateTime, Float, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mes_common.audit import audit_model
from mes_common.db import platform_models
from mes_common.readmodel import model_state_model
from mes_common.signatures import signature_model

MODEL_SCHEMA = "trace"             # the placeholder each statement translates
GENERATIONS = ("trace_a", "trace_b")


class Base(DeclarativeBase):
    pass


OutboxEvent, InboxEvent = platform_models(Base)
AuditEntry = audit_model(Base)
Signature = signature_model(Base)


ModelState = model_state_model(Base)   # which generation answers (mes_common.readmodel)


class Node(Base):
    """A lot, serial, work order, operation, inspection or NCR, and the display
    records (person, equipment, routing) the others name."""
    __tablename__ = "node"
    __table_args__ = (
        Index("ix_node_number", "number", "type"),
        Index("ix_node_heat_number", "heat_number", postgresql_where="heat_number IS NOT NULL"),
        Index("ix_node_supplier_lot", "supplier_lot", postgresql_where="supplier_lot IS NOT NULL"),
        {"schema": MODEL_SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    attrs: Mapped[dict] = mapped_column(JSONB, nullable=False)
    stamps: Mapped[dict] = mapped_column(JSONB, nullable=False)
    known: Mapped[bool] = mapped_column(Boolean, nullable=False, doc="its own event arrived (else only named)")
    number: Mapped[str | None] = mapped_column(String(200), Computed("attrs->>'number'", persisted=True))
    heat_number: Mapped[str | None] = mapped_column(String(200), Computed("attrs->>'heat_number'", persisted=True))
    supplier_lot: Mapped[str | None] = mapped_column(String(200),
                                                     Computed("attrs->>'supplier_lot'", persisted=True))


class Edge(Base):
    """`from_id` went into, or is evidence about, `to_id` (kinds: contract.EDGE_KINDS).
    A backward trace walks to→from, a forward one from→to."""
    __tablename__ = "edge"
    __table_args__ = (
        Index("ix_edge_to", "to_id", "from_id", "kind"),
        Index("ix_edge_from", "from_id", "to_id", "kind"),
        {"schema": MODEL_SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True,
                                          doc="the owner's link id, or derived from the event that made it")
    from_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    to_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    quantity: Mapped[float | None] = mapped_column(Float)
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class TimelineEntry(Base):
    """One event as it concerns one node: who, what, where, when."""
    __tablename__ = "timeline"
    __table_args__ = (
        Index("ix_timeline_node_at", "node_id", "at", "event_id"),
        {"schema": MODEL_SCHEMA},
    )

    node_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    type: Mapped[str] = mapped_column(String(200), nullable=False)
    actor: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[dict] = mapped_column(JSONB, nullable=False)
