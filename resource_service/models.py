"""The resource service's own tables (database mes_resource)."""
import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mes_common.audit import audit_model
from mes_common.signatures import signature_model
from mes_common.db import platform_models


class Base(DeclarativeBase):
    pass


OutboxEvent, InboxEvent = platform_models(Base)
AuditEntry = audit_model(Base)
Signature = signature_model(Base)


class EquipmentNode(Base):
    """One node of the ISA-95 equipment hierarchy.

    `path` is the materialized path of ids from the root (`/a/b/c/`), so a
    subtree or the ancestors are one indexed query whose cost follows the
    size of the answer, not of the hierarchy.
    """
    __tablename__ = "equipment_node"
    __table_args__ = (
        # codes are unique among siblings; roots are siblings of each other
        Index("uq_equipment_node_parent_code", "parent_id", "code", unique=True,
              postgresql_where=text("parent_id IS NOT NULL")),
        Index("uq_equipment_node_root_code", "code", unique=True,
              postgresql_where=text("parent_id IS NULL")),
        Index("ix_equipment_node_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
        Index("ix_equipment_node_level_code", "level", "code", "id"),
        Index("ix_equipment_node_parent_code_id", "parent_id", "code", "id"),
        CheckConstraint("level IN ('enterprise','site','area','work_center','work_unit','equipment')",
                        name="ck_equipment_node_level"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    level: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("equipment_node.id", ondelete="RESTRICT"))
    path: Mapped[str] = mapped_column(Text, nullable=False)
    depth: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="true")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now(), onupdate=func.now())

    __mapper_args__ = {"version_id_col": version}


class Routing(Base):
    """One version of the routing of a part revision (the part lives in
    material_service: an id without a foreign key). At most one version of a
    part revision is released (partial unique index)."""
    __tablename__ = "routing"
    __table_args__ = (
        UniqueConstraint("part_id", "part_revision", "version", name="uq_routing_part_revision_version"),
        Index("uq_routing_released", "part_id", "part_revision", unique=True,
              postgresql_where=text("status = 'released'")),
        Index("ix_routing_status", "status", "part_id", "part_revision", "version"),
        CheckConstraint("status IN ('draft','released','obsolete')", name="ck_routing_status"),
        CheckConstraint("version > 0", name="ck_routing_version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_revision: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now(), onupdate=func.now())
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    row_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    operations: Mapped[list["RoutingOperation"]] = relationship(
        back_populates="routing", order_by="RoutingOperation.sequence", cascade="all, delete-orphan",
        lazy="selectin")

    __mapper_args__ = {"version_id_col": row_version}


class RoutingOperation(Base):
    """One step of a routing: where (a work center of the hierarchy), how long
    (standard setup minutes + run minutes per unit), by whom (skill), how
    (work instruction code, resolved to a released version at work order release)."""
    __tablename__ = "routing_operation"
    __table_args__ = (
        UniqueConstraint("routing_id", "sequence", name="uq_routing_operation_sequence"),
        Index("ix_routing_operation_work_center", "work_center_id"),
        CheckConstraint("sequence > 0", name="ck_routing_operation_sequence"),
        CheckConstraint("setup_time >= 0 AND run_time >= 0", name="ck_routing_operation_times"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    routing_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("routing.id", ondelete="CASCADE"), nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    work_center_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("equipment_node.id", ondelete="RESTRICT"), nullable=False)
    setup_time: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False)
    run_time: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False)
    required_skill: Mapped[str | None] = mapped_column(String(200))
    work_instruction_code: Mapped[str | None] = mapped_column(String(64))

    routing: Mapped[Routing] = relationship(back_populates="operations")
    work_center: Mapped[EquipmentNode] = relationship(lazy="joined", innerjoin=True)
