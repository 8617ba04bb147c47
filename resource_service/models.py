"""The resource service's own tables (database mes_resource)."""
import datetime as dt
import uuid

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mes_common.audit import audit_model
from mes_common.db import platform_models


class Base(DeclarativeBase):
    pass


OutboxEvent, InboxEvent = platform_models(Base)
AuditEntry = audit_model(Base)


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
