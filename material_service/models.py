"""The material service's own tables (database mes_material).

Quantities are NUMERIC(18,6). Inventory is the immutable ledger
(`inventory_transaction`, trigger-protected) plus the balances per lot and
location that every ledger write maintains in the same transaction; a CHECK
keeps on-hand (and what is reserved of it) from going negative.
"""
import datetime as dt
import decimal
import uuid

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, ForeignKeyConstraint,
                        Index, Integer, Numeric, Sequence, String, Text, UniqueConstraint, func, text)
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

QTY = Numeric(18, 6)


def _uuid_pk():
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


def _created():
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _updated():
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now())


class Part(Base):
    __tablename__ = "part"
    __table_args__ = (
        CheckConstraint("type IN ('raw','purchased','manufactured','assembly')", name="ck_part_type"),
        CheckConstraint("status IN ('active','inactive','obsolete')", name="ck_part_status"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    part_number: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    uom: Mapped[str] = mapped_column(String(16), nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    lot_controlled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    serial_controlled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="active")
    revision: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}


class PartRevision(Base):
    __tablename__ = "part_revision"
    __table_args__ = (UniqueConstraint("part_id", "revision", name="uq_part_revision"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("part.id"), nullable=False)
    revision: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = _created()

    __mapper_args__ = {"eager_defaults": True}


class Bom(Base):
    """The header of the BOM of one part revision: its version counts replacements."""
    __tablename__ = "bom"
    __table_args__ = (
        ForeignKeyConstraint(["part_id", "revision"], ["part_revision.part_id", "part_revision.revision"],
                             name="fk_bom_part_revision"),
    )

    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    revision: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[dt.datetime] = _updated()

    __mapper_args__ = {"eager_defaults": True}


class BomComponent(Base):
    __tablename__ = "bom_component"
    __table_args__ = (
        ForeignKeyConstraint(["part_id", "revision"], ["bom.part_id", "bom.revision"], ondelete="CASCADE",
                             name="fk_bom_component_bom"),
        CheckConstraint("quantity > 0", name="ck_bom_component_quantity"),
        CheckConstraint("component_part_id <> part_id", name="ck_bom_component_not_itself"),
        # where-used walks the edges upwards
        Index("ix_bom_component_component", "component_part_id"),
        Index("ix_bom_component_bom", "part_id", "revision", "position"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    revision: Mapped[str] = mapped_column(String(16), nullable=False)
    component_part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("part.id"), nullable=False)
    quantity: Mapped[decimal.Decimal] = mapped_column(QTY, nullable=False)
    uom: Mapped[str] = mapped_column(String(16), nullable=False)
    effective_from: Mapped[dt.date | None] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, nullable=False)


class Location(Base):
    __tablename__ = "location"

    id: Mapped[uuid.UUID] = _uuid_pk()
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    site_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()

    __mapper_args__ = {"eager_defaults": True}


class Lot(Base):
    """A lot's identity, attributes and status; its quantities are its balances."""
    __tablename__ = "lot"
    __table_args__ = (
        UniqueConstraint("part_id", "lot_number", name="uq_lot_part_number"),
        CheckConstraint("status IN ('received','quarantine','released','consumed','expired','rejected')",
                        name="ck_lot_status"),
        Index("ix_lot_number", "lot_number", "id"),
        Index("ix_lot_work_order", "work_order_id", postgresql_where=text("work_order_id IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    lot_number: Mapped[str] = mapped_column(String(64), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("part.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    supplier: Mapped[str | None] = mapped_column(String(200))
    supplier_lot: Mapped[str | None] = mapped_column(String(64))
    heat_number: Mapped[str | None] = mapped_column(String(64))
    certificates: Mapped[list] = mapped_column(JSONB, nullable=False, server_default="[]")
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}


class LotBalance(Base):
    """On hand of one lot at one location, and how much of it is reserved."""
    __tablename__ = "lot_balance"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="ck_lot_balance_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= quantity", name="ck_lot_balance_reserved"),
        Index("ix_lot_balance_part", "part_id"),
        Index("ix_lot_balance_location", "location_id"),
    )

    lot_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("lot.id"), primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("location.id"),
                                                   primary_key=True)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    quantity: Mapped[decimal.Decimal] = mapped_column(QTY, nullable=False)
    reserved: Mapped[decimal.Decimal] = mapped_column(QTY, nullable=False, server_default="0")

    __mapper_args__ = {"eager_defaults": True}


class InventoryTransaction(Base):
    """One immutable ledger row (UPDATE, DELETE and TRUNCATE are refused by triggers)."""
    __tablename__ = "inventory_transaction"
    __table_args__ = (
        CheckConstraint("type IN ('receive','issue','consume','produce','move','adjust','scrap','split','merge')",
                        name="ck_inventory_transaction_type"),
        CheckConstraint("quantity <> 0", name="ck_inventory_transaction_quantity"),
        Index("ix_inventory_transaction_lot", "lot_id", "id"),
        Index("ix_inventory_transaction_part", "part_id", "id"),
        Index("ix_inventory_transaction_work_order", "work_order_id", "type",
              postgresql_where=text("work_order_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    serial_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    location_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    quantity: Mapped[decimal.Decimal] = mapped_column(QTY, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(200))
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()

    __mapper_args__ = {"eager_defaults": True}


class Serial(Base):
    """A serialized unit: its own unit of inventory (status and location)."""
    __tablename__ = "serial"
    __table_args__ = (
        UniqueConstraint("part_id", "serial_number", name="uq_serial_part_number"),
        CheckConstraint("status IN ('available','consumed','assembled','scrapped')", name="ck_serial_status"),
        Index("ix_serial_number", "serial_number", "id"),
        Index("ix_serial_work_order", "work_order_id", postgresql_where=text("work_order_id IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    serial_number: Mapped[str] = mapped_column(String(100), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("part.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    location_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    parent_serial_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()

    __mapper_args__ = {"eager_defaults": True}


class Hold(Base):
    """A hold on one lot or serial. A cascade hold points at its root hold;
    releasing the root releases them all."""
    __tablename__ = "hold"
    __table_args__ = (
        CheckConstraint("target_type IN ('lot','serial')", name="ck_hold_target_type"),
        CheckConstraint("status IN ('active','released')", name="ck_hold_status"),
        Index("ix_hold_active_target", "target_type", "target_id", postgresql_where=text("status = 'active'")),
        Index("ix_hold_root", "root_hold_id", postgresql_where=text("root_hold_id IS NOT NULL")),
        Index("ix_hold_placed", "placed_at", "id"),
        Index("ix_hold_reference", "reference", postgresql_where=text("reference IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    target_type: Mapped[str] = mapped_column(String(10), nullable=False)
    target_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    root_hold_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("hold.id"))
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    # what the hold is for in another service's words (an NCR number): how its owner finds it again
    reference: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    placed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    placed_at: Mapped[dt.datetime] = _created()
    released_by: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    release_reason: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"eager_defaults": True}


class GenealogyLink(Base):
    """Material flow from a source lot/serial to a target lot/serial, indexed
    on both ends so a trace costs in proportion to its answer."""
    __tablename__ = "genealogy_link"
    __table_args__ = (
        CheckConstraint("source_type IN ('lot','serial') AND target_type IN ('lot','serial')",
                        name="ck_genealogy_link_types"),
        CheckConstraint("relation IN ('split','merge','assembly','produced_from')", name="ck_genealogy_link_relation"),
        Index("ix_genealogy_link_source", "source_type", "source_id"),
        Index("ix_genealogy_link_target", "target_type", "target_id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    source_type: Mapped[str] = mapped_column(String(10), nullable=False)
    source_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    target_type: Mapped[str] = mapped_column(String(10), nullable=False)
    target_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    relation: Mapped[str] = mapped_column(String(16), nullable=False)
    quantity: Mapped[decimal.Decimal | None] = mapped_column(QTY)
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()

    __mapper_args__ = {"eager_defaults": True}


class Reservation(Base):
    """A part quantity reserved for a work order, keyed by the caller's
    idempotency key. A release of an unknown key leaves a tombstone (status
    released, quantity 0) so a late duplicate reserve reserves nothing."""
    __tablename__ = "reservation"
    __table_args__ = (
        CheckConstraint("status IN ('active','released','consumed')", name="ck_reservation_status"),
        Index("ix_reservation_work_order", "work_order_id", "status"),
        Index("ix_reservation_created", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    part_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    quantity: Mapped[decimal.Decimal] = mapped_column(QTY, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(200))
    release_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created()
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"eager_defaults": True}


class ReservationAllocation(Base):
    """Where a reservation sits: `quantity` is still reserved on that lot
    balance, `consumed` has been consumed by the work order since."""
    __tablename__ = "reservation_allocation"
    __table_args__ = (
        CheckConstraint("quantity >= 0 AND consumed >= 0", name="ck_reservation_allocation_quantities"),
        Index("ix_reservation_allocation_reservation", "reservation_id"),
        Index("ix_reservation_allocation_lot", "lot_id", "location_id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    reservation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("reservation.id"),
                                                      nullable=False)
    lot_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    location_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    quantity: Mapped[decimal.Decimal] = mapped_column(QTY, nullable=False)
    consumed: Mapped[decimal.Decimal] = mapped_column(QTY, nullable=False, server_default="0")

    __mapper_args__ = {"eager_defaults": True}


class IdempotentRequest(Base):
    """The answer of a mutating request made with an idempotency key: a repeat
    gets it back instead of applying the request again."""
    __tablename__ = "idempotent_request"

    scope: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    result: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    created_at: Mapped[dt.datetime] = _created()


# generated lot numbers (LOT-000001, ...) when the receiver gives none
LOT_NUMBER_SEQUENCE = Sequence("lot_number_seq", metadata=Base.metadata)
