"""The resource service's own tables (database mes_resource)."""
import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text,
                        Time, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import JSONB, UUID
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
    # [{"skill": code, "min_level": n}]: checked against the operator when the operation starts
    required_skills: Mapped[list] = mapped_column(JSONB, nullable=False, default=list, server_default="[]")
    skill_note: Mapped[str | None] = mapped_column(Text)   # what a skill code cannot say
    # the free text of a routing written before skills were a catalogue (migration 0005 turned
    # it into required_skills / skill_note); kept because a release signed it; never written now
    required_skill: Mapped[str | None] = mapped_column(String(200))
    work_instruction_code: Mapped[str | None] = mapped_column(String(64))
    # {specification, code, supplier_code, customer_approved} of a special process
    special_process: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))

    routing: Mapped[Routing] = relationship(back_populates="operations")
    work_center: Mapped[EquipmentNode] = relationship(lazy="joined", innerjoin=True)


class Skill(Base):
    """A skill of the catalogue (AS9100 7.2): its levels, lowest first, and how
    often a qualification in it must be renewed (None: it lasts until revoked)."""
    __tablename__ = "skill"
    __table_args__ = (
        CheckConstraint("recertification_days IS NULL OR recertification_days > 0",
                        name="ck_skill_recertification_days"),
        CheckConstraint("jsonb_array_length(levels) BETWEEN 1 AND 10", name="ck_skill_levels"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    levels: Mapped[list] = mapped_column(JSONB, nullable=False)
    recertification_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="true")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now(), onupdate=func.now())

    __mapper_args__ = {"version_id_col": version}


class Qualification(Base):
    """One certification of a person (an auth user) in a skill. A new grant
    supersedes the person's active one in that skill; revocation and expiry end
    it; every record stays (the person's history)."""
    __tablename__ = "qualification"
    __table_args__ = (
        Index("uq_qualification_active", "user_id", "skill_id", unique=True,
              postgresql_where=text("status = 'active'")),
        Index("ix_qualification_expiry", "expires_on", postgresql_where=text("status = 'active'")),
        Index("ix_qualification_skill_status", "skill_id", "status"),
        Index("ix_qualification_user", "user_id", "granted_at"),
        CheckConstraint("status IN ('active','superseded','revoked','expired')", name="ck_qualification_status"),
        CheckConstraint("level > 0", name="ck_qualification_level"),
        CheckConstraint("expires_on IS NULL OR expires_on > certified_on", name="ck_qualification_expiry"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    user_name: Mapped[str] = mapped_column(String(200), nullable=False)   # display name when granted
    skill_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("skill.id", ondelete="RESTRICT"),
                                                nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    certified_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)   # valid through this day
    certificate_ref: Mapped[str | None] = mapped_column(String(100))
    assessor: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    granted_by: Mapped[str] = mapped_column(String(200), nullable=False)
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(String(200))
    end_reason: Mapped[str | None] = mapped_column(Text)

    skill: Mapped[Skill] = relationship(lazy="joined", innerjoin=True)

    @property
    def level_name(self):
        return self.skill.levels[self.level - 1]


class Asset(Base):
    """A gauge (measuring and test equipment) or a production tool with its own
    lifecycle (AS9100 7.1.5). `status` is what people and timers set (in
    service, due, overdue, out for calibration, quarantined, retired); whether
    it may be used is also decided from the due date and the uses counted, so
    a late timer never lets an overdue one through."""
    __tablename__ = "asset"
    __table_args__ = (
        CheckConstraint("kind IN ('gauge','tool')", name="ck_asset_kind"),
        CheckConstraint("status IN ('in_service','due','overdue','out_for_calibration','quarantined','retired')",
                        name="ck_asset_status"),
        CheckConstraint("calibration_interval_days IS NULL OR calibration_interval_days > 0",
                        name="ck_asset_interval_days"),
        CheckConstraint("calibration_interval_uses IS NULL OR calibration_interval_uses > 0",
                        name="ck_asset_interval_uses"),
        CheckConstraint("uses_since_calibration >= 0", name="ck_asset_uses"),
        Index("ix_asset_due", "next_due_on", postgresql_where=text("status IN ('in_service','due')")),
        Index("ix_asset_location", "location_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    asset_number: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    location_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("equipment_node.id", ondelete="RESTRICT"))
    calibration_interval_days: Mapped[int | None] = mapped_column(Integer)
    calibration_interval_uses: Mapped[int | None] = mapped_column(Integer)
    due_warning_days: Mapped[int] = mapped_column(Integer, nullable=False, default=14, server_default="14")
    next_due_on: Mapped[dt.date | None] = mapped_column(Date)   # usable through this day
    uses_since_calibration: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    last_calibrated_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(30), nullable=False)
    status_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now(), onupdate=func.now())

    location: Mapped[EquipmentNode | None] = relationship(lazy="selectin")   # no outer join: rows are locked

    __mapper_args__ = {"version_id_col": version}


class Calibration(Base):
    """One calibration of an asset: as found (was it in tolerance when it came
    in: a failure makes every use since its last good calibration suspect) and
    as left (fit for use when it went back)."""
    __tablename__ = "calibration"
    __table_args__ = (
        CheckConstraint("as_found IN ('pass','fail')", name="ck_calibration_as_found"),
        CheckConstraint("as_left IN ('pass','fail')", name="ck_calibration_as_left"),
        Index("ix_calibration_asset", "asset_id", "calibrated_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    asset_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("asset.id", ondelete="RESTRICT"),
                                                nullable=False)
    calibrated_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    as_found: Mapped[str] = mapped_column(String(10), nullable=False)
    as_left: Mapped[str] = mapped_column(String(10), nullable=False)
    certificate_number: Mapped[str | None] = mapped_column(String(100))
    lab: Mapped[str | None] = mapped_column(String(200))
    next_due_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    suspect_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    suspect_uses: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                     server_default=func.now())


class AssetUse(Base):
    """One use of an asset: what it was used on (a work order operation, an
    inspection), by whom and when: the reverse-traceability of a gauge."""
    __tablename__ = "asset_use"
    __table_args__ = (
        Index("ix_asset_use_asset_time", "asset_id", "used_at"),
        Index("ix_asset_use_operation", "operation_id"),
        Index("uq_asset_use_request", "idempotency_key", "asset_id", unique=True,
              postgresql_where=text("idempotency_key IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    asset_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("asset.id", ondelete="RESTRICT"),
                                                nullable=False)
    used_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    work_order_number: Mapped[str | None] = mapped_column(String(32))
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    operation_sequence: Mapped[int | None] = mapped_column(Integer)
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    used_by: Mapped[str] = mapped_column(String(200), nullable=False)
    # the caller's key of the request that recorded it: a retried request records nothing twice
    idempotency_key: Mapped[str | None] = mapped_column(String(200))


class EquipmentState(Base):
    """What a piece of equipment (or a work unit, a work center) was doing from
    `started_at` until `ended_at` (None: still): running, idle, setup, down
    (with a reason) or planned maintenance. One open state per node."""
    __tablename__ = "equipment_state"
    __table_args__ = (
        Index("uq_equipment_state_open", "node_id", unique=True, postgresql_where=text("ended_at IS NULL")),
        Index("ix_equipment_state_node_time", "node_id", "started_at"),
        CheckConstraint("state IN ('running','idle','setup','down','planned_maintenance')",
                        name="ck_equipment_state_state"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ck_equipment_state_times"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    node_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("equipment_node.id", ondelete="RESTRICT"),
                                               nullable=False)
    state: Mapped[str] = mapped_column(String(30), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reported_by: Mapped[str] = mapped_column(String(200), nullable=False)


class Calendar(Base):
    """The shift pattern of a site (or of a work center, overriding its site's),
    in the plant's time zone."""
    __tablename__ = "calendar"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    node_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("equipment_node.id", ondelete="RESTRICT"),
                                               nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now(), onupdate=func.now())

    shifts: Mapped[list["CalendarShift"]] = relationship(
        back_populates="calendar", order_by="(CalendarShift.weekday, CalendarShift.starts)",
        cascade="all, delete-orphan", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}


class CalendarShift(Base):
    """A shift on one weekday (0 = Monday), local times; it ends the next day
    when `ends` is not after `starts`. Breaks are unpaid: not planned time."""
    __tablename__ = "calendar_shift"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_calendar_shift_weekday"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    calendar_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("calendar.id", ondelete="CASCADE"),
                                                   nullable=False)
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    starts: Mapped[dt.time] = mapped_column(Time, nullable=False)
    ends: Mapped[dt.time] = mapped_column(Time, nullable=False)
    breaks: Mapped[list] = mapped_column(JSONB, nullable=False, default=list, server_default="[]")

    calendar: Mapped[Calendar] = relationship(back_populates="shifts")


class CalendarException(Base):
    """Time a node (a site: every work center below it; a work center) does not
    work although its shifts say so: a holiday or a planned shutdown."""
    __tablename__ = "calendar_exception"
    __table_args__ = (
        Index("ix_calendar_exception_node_time", "node_id", "starts_at"),
        CheckConstraint("kind IN ('holiday','shutdown')", name="ck_calendar_exception_kind"),
        CheckConstraint("ends_at > starts_at", name="ck_calendar_exception_times"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    node_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("equipment_node.id", ondelete="RESTRICT"),
                                               nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
