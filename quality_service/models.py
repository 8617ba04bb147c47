"""The quality service's own tables (database mes_quality).

Parts, lots, serials, work orders and people belong to other services: their
ids plus the display fields the records were made with (a quality record shows
what was true when it was written). Measured values are NUMERIC without a
scale: stored as typed, never rounded.
"""
import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (ARRAY, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric,
                        Sequence, String, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mes_common.audit import audit_model
from mes_common.db import platform_models
from mes_common.signatures import signature_model

QUANTITY = Numeric(18, 6)


class Base(DeclarativeBase):
    pass


OutboxEvent, InboxEvent = platform_models(Base)
AuditEntry = audit_model(Base)
Signature = signature_model(Base)
INSPECTION_SEQUENCE = Sequence("inspection_number_seq", metadata=Base.metadata)
NCR_SEQUENCE = Sequence("ncr_number_seq", metadata=Base.metadata)
CAPA_SEQUENCE = Sequence("capa_number_seq", metadata=Base.metadata)


def _id():
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


def _created():
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _updated():
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now())


class StatusChange(Base):
    """The status history of plans, inspections, NCRs and CAPAs."""
    __tablename__ = "status_change"
    __table_args__ = (Index("ix_status_change_record", "record_type", "record_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_type: Mapped[str] = mapped_column(String(40), nullable=False)
    record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)


# ------------------------------------------------------------------ plans

class InspectionPlan(Base):
    """One revision of an inspection plan of a part revision (optionally of one
    routing operation). Released revisions are immutable; releasing a new one
    supersedes the released one."""
    __tablename__ = "inspection_plan"
    __table_args__ = (
        UniqueConstraint("plan_number", "revision", name="uq_plan_revision"),
        Index("uq_plan_one_draft", "plan_number", unique=True, postgresql_where=text("status = 'draft'")),
        Index("uq_plan_one_released", "plan_number", unique=True, postgresql_where=text("status = 'released'")),
        Index("ix_plan_part", "part_id", "part_revision"),
    )

    id: Mapped[uuid.UUID] = _id()
    plan_number: Mapped[str] = mapped_column(String(64), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_number: Mapped[str] = mapped_column(String(64), nullable=False)
    part_revision: Mapped[str] = mapped_column(String(16), nullable=False)
    operation_sequence: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    change_note: Mapped[str | None] = mapped_column(Text)
    inspector_skills: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    characteristics: Mapped[list["Characteristic"]] = relationship(
        back_populates="plan", order_by="Characteristic.number", cascade="all, delete-orphan", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}


class Characteristic(Base):
    __tablename__ = "characteristic"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_characteristic_number"),)

    id: Mapped[uuid.UUID] = _id()
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection_plan.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)   # the balloon number
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    criticality: Mapped[str] = mapped_column(String(20), nullable=False)
    nominal: Mapped[Decimal | None] = mapped_column(Numeric)
    lower_tolerance: Mapped[Decimal | None] = mapped_column(Numeric)
    upper_tolerance: Mapped[Decimal | None] = mapped_column(Numeric)
    unit: Mapped[str | None] = mapped_column(String(40))
    gauge_type: Mapped[str | None] = mapped_column(String(100))
    sampling: Mapped[dict] = mapped_column(JSONB, nullable=False)
    subgroup_size: Mapped[int] = mapped_column(Integer, nullable=False)
    spc: Mapped[dict | None] = mapped_column(JSONB)   # {"rules": ..., "opens_ncr": bool} when charted
    description: Mapped[str | None] = mapped_column(Text)
    # as the drawing and a CMM's plan name it (AS9102 form 3, QIF): the designator as written ("12a",
    # "-NONE-"), the drawing zone, and the QIF characteristic item's id or UUID it was imported from
    designator: Mapped[str | None] = mapped_column(String(40))
    drawing_zone: Mapped[str | None] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(64))

    plan: Mapped[InspectionPlan] = relationship(back_populates="characteristics")


class ControlPoint(Base):
    """Which plan applies where: receiving inspection of purchased lots of a part,
    in-process at an operation, final at the last one."""
    __tablename__ = "control_point"
    __table_args__ = (
        Index("uq_control_point", "part_id", text("coalesce(part_revision, '')"), "kind",
              text("coalesce(operation_sequence, -1)"), unique=True, postgresql_where=text("active")),
    )

    id: Mapped[uuid.UUID] = _id()
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_number: Mapped[str] = mapped_column(String(64), nullable=False)
    part_revision: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    operation_sequence: Mapped[int | None] = mapped_column(Integer)
    plan_number: Mapped[str] = mapped_column(String(64), nullable=False)
    gates: Mapped[bool] = mapped_column(Boolean, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


# ------------------------------------------------------------------ inspections

class Inspection(Base):
    __tablename__ = "inspection"
    __table_args__ = (
        Index("ix_inspection_operation", "operation_id"),
        Index("ix_inspection_lot", "lot_id"),
        Index("ix_inspection_opened", "opened_at", "id"),
        Index("ix_inspection_status_opened", "status", "opened_at", "id"),
        Index("ix_inspection_plan_opened", "plan_number", "opened_at", "id"),   # SPC: a plan's inspections in order
    )

    id: Mapped[uuid.UUID] = _id()
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection_plan.id"), nullable=False)
    plan_number: Mapped[str] = mapped_column(String(64), nullable=False)
    plan_revision: Mapped[int] = mapped_column(Integer, nullable=False)
    control_point_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_number: Mapped[str] = mapped_column(String(64), nullable=False)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    lot_number: Mapped[str | None] = mapped_column(String(64))
    serial_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    serial_number: Mapped[str | None] = mapped_column(String(100))
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    work_order_number: Mapped[str | None] = mapped_column(String(64))
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    operation_sequence: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)   # units the sampling draws from
    supplier: Mapped[str | None] = mapped_column(String(200))
    # what opened it automatically (a lot or an operation at a control point): opened once
    trigger_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    opened_by: Mapped[str] = mapped_column(String(200), nullable=False)
    opened_at: Mapped[dt.datetime] = _created()
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str | None] = mapped_column(Text)
    ncr_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    ncr_number: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    items: Mapped[list["InspectionItem"]] = relationship(order_by="InspectionItem.number", lazy="selectin",
                                                         cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class InspectionItem(Base):
    """One characteristic of an inspection: its sampling plan for this lot and
    where its results stand."""
    __tablename__ = "inspection_item"

    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"),
                                                     primary_key=True)
    characteristic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("characteristic.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    sample_size: Mapped[int] = mapped_column(Integer, nullable=False)
    accept: Mapped[int] = mapped_column(Integer, nullable=False)
    reject: Mapped[int] = mapped_column(Integer, nullable=False)
    severity: Mapped[str | None] = mapped_column(String(20))
    code_letter: Mapped[str | None] = mapped_column(String(1))
    measured: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    nonconforming: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    verdict: Mapped[str | None] = mapped_column(String(10))


class InspectionResult(Base):
    """One sample of one characteristic: as typed, as converted to the
    characteristic's unit, and conforming or not (computed)."""
    __tablename__ = "inspection_result"
    __table_args__ = (
        UniqueConstraint("inspection_id", "characteristic_id", "sample", name="uq_result_sample"),
        Index("ix_result_chart", "plan_number", "characteristic_number", "opened_at", "inspection_id", "sample"),
        CheckConstraint("sample >= 1", name="ck_result_sample"),
    )

    id: Mapped[uuid.UUID] = _id()
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspection.id"), nullable=False)
    characteristic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("characteristic.id"), nullable=False)
    # the chart's key and order, copied so SPC reads one index (a characteristic continues across revisions)
    plan_number: Mapped[str] = mapped_column(String(64), nullable=False)
    characteristic_number: Mapped[int] = mapped_column(Integer, nullable=False)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sample: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[Decimal | None] = mapped_column(Numeric)          # in the characteristic's unit
    entered_value: Mapped[Decimal | None] = mapped_column(Numeric)  # as typed
    entered_unit: Mapped[str | None] = mapped_column(String(40))
    passed: Mapped[bool | None] = mapped_column(Boolean)             # attribute and visual
    defects: Mapped[int | None] = mapped_column(Integer)
    conforming: Mapped[bool] = mapped_column(Boolean, nullable=False)
    gauge_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    gauge_number: Mapped[str | None] = mapped_column(String(64))
    inspector_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    inspector: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[dt.datetime] = _created()
    note: Mapped[str | None] = mapped_column(Text)


class SamplingState(Base):
    """Z1.4 switching of one characteristic's stream of lots (per supplier)."""
    __tablename__ = "sampling_state"

    plan_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    characteristic_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream: Mapped[str] = mapped_column(String(200), primary_key=True)
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    recent: Mapped[list] = mapped_column(JSONB, nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    rejected_on_tightened: Mapped[int] = mapped_column(Integer, nullable=False)
    discontinued: Mapped[bool] = mapped_column(Boolean, nullable=False)
    updated_at: Mapped[dt.datetime] = _updated()


# ------------------------------------------------------------------ nonconformance

class Ncr(Base):
    __tablename__ = "ncr"
    __table_args__ = (
        Index("ix_ncr_created", "created_at", "id"),
        Index("ix_ncr_status_created", "status", "created_at", "id"),
        Index("ix_ncr_part", "part_id"),
        CheckConstraint("quantity > 0", name="ck_ncr_quantity"),
    )

    id: Mapped[uuid.UUID] = _id()
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_number: Mapped[str] = mapped_column(String(64), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    work_order_number: Mapped[str | None] = mapped_column(String(64))
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    operation_sequence: Mapped[int | None] = mapped_column(Integer)
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    inspection_number: Mapped[str | None] = mapped_column(String(32))
    supplier: Mapped[str | None] = mapped_column(String(200))
    characteristics: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    defect_codes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False, default=list)
    containment: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    trigger_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    items: Mapped[list["NcrItem"]] = relationship(order_by="NcrItem.position", lazy="selectin",
                                                  cascade="all, delete-orphan")
    dispositions: Mapped[list["Disposition"]] = relationship(order_by="Disposition.position", lazy="selectin",
                                                             cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class NcrItem(Base):
    """A lot or serial of an NCR, its nonconforming quantity and its hold in
    material; or the work in process of a work-order operation (target_type
    operation), held by the inspection gate of that operation (no material yet)."""
    __tablename__ = "ncr_item"
    __table_args__ = (UniqueConstraint("ncr_id", "target_type", "target_id", name="uq_ncr_item"),
                      Index("ix_ncr_item_target", "target_type", "target_id"))

    id: Mapped[uuid.UUID] = _id()
    ncr_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ncr.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    target_type: Mapped[str] = mapped_column(String(10), nullable=False)
    target_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    target_number: Mapped[str] = mapped_column(String(100), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    hold_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    hold_status: Mapped[str] = mapped_column(String(20), nullable=False)   # pending, held, released
    hold_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Disposition(Base):
    """One line of the MRB's disposition: what becomes of a quantity of an item."""
    __tablename__ = "ncr_disposition"

    id: Mapped[uuid.UUID] = _id()
    ncr_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ncr.id", ondelete="CASCADE"), nullable=False)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ncr_item.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    decision: Mapped[str] = mapped_column(String(20), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    justification: Mapped[str | None] = mapped_column(Text)
    customer_approval: Mapped[str | None] = mapped_column(String(200))
    instructions: Mapped[str | None] = mapped_column(Text)
    effect_status: Mapped[str] = mapped_column(String(20), nullable=False)   # proposed, pending, applied
    # rework and repair lines: the work order service's rework operation (pending until it says it made one)
    rework_status: Mapped[str | None] = mapped_column(String(20))   # pending, open, running, completed
    rework_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    rework_number: Mapped[str | None] = mapped_column(String(32))


# ------------------------------------------------------------------ CAPA

class Capa(Base):
    __tablename__ = "capa"
    __table_args__ = (Index("ix_capa_created", "created_at", "id"),)

    id: Mapped[uuid.UUID] = _id()
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    problem: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    root_cause_method: Mapped[str | None] = mapped_column(String(20))
    whys: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    fishbone_category: Mapped[str | None] = mapped_column(String(20))
    root_cause: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    owner_name: Mapped[str] = mapped_column(String(200), nullable=False)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    effectiveness_criteria: Mapped[str | None] = mapped_column(Text)
    effectiveness_result: Mapped[str | None] = mapped_column(Text)
    effective: Mapped[bool | None] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    ncrs: Mapped[list["CapaNcr"]] = relationship(order_by="CapaNcr.ncr_number", lazy="selectin",
                                                 cascade="all, delete-orphan")
    actions: Mapped[list["CapaAction"]] = relationship(order_by="CapaAction.number", lazy="selectin",
                                                       cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class CapaNcr(Base):
    __tablename__ = "capa_ncr"

    capa_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("capa.id", ondelete="CASCADE"), primary_key=True)
    ncr_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ncr.id"), primary_key=True)
    ncr_number: Mapped[str] = mapped_column(String(32), nullable=False)


class CapaAction(Base):
    __tablename__ = "capa_action"
    __table_args__ = (UniqueConstraint("capa_id", "number", name="uq_capa_action_number"),)

    id: Mapped[uuid.UUID] = _id()
    capa_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("capa.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    owner_name: Mapped[str] = mapped_column(String(200), nullable=False)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    evidence: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[str | None] = mapped_column(String(200))


# ------------------------------------------------------------------ SPC

class ControlLimits(Base):
    """Frozen control limits of a characteristic's chart (a characteristic is its
    plan number and balloon number: it continues across plan revisions)."""
    __tablename__ = "control_limits"
    __table_args__ = (Index("ix_control_limits_chart", "plan_number", "characteristic_number", "chart",
                            "computed_at"),)

    id: Mapped[uuid.UUID] = _id()
    plan_number: Mapped[str] = mapped_column(String(64), nullable=False)
    characteristic_number: Mapped[int] = mapped_column(Integer, nullable=False)
    chart: Mapped[str] = mapped_column(String(10), nullable=False)
    subgroup_size: Mapped[int] = mapped_column(Integer, nullable=False)
    limits: Mapped[dict] = mapped_column(JSONB, nullable=False)
    baseline: Mapped[dict] = mapped_column(JSONB, nullable=False)
    computed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    computed_at: Mapped[dt.datetime] = _created()
    reason: Mapped[str | None] = mapped_column(Text)


class SpcViolation(Base):
    """A run rule broken by a point of a chart against its frozen limits: found
    once per point and rule, as the point's results are recorded."""
    __tablename__ = "spc_violation"
    __table_args__ = (UniqueConstraint("plan_number", "characteristic_number", "chart", "rule", "point_key",
                                       name="uq_spc_violation"),
                      Index("ix_spc_violation_detected", "plan_number", "characteristic_number", "detected_at"),
                      Index("ix_spc_violation_inspection", "inspection_id"))

    id: Mapped[uuid.UUID] = _id()
    plan_number: Mapped[str] = mapped_column(String(64), nullable=False)
    characteristic_number: Mapped[int] = mapped_column(Integer, nullable=False)
    chart: Mapped[str] = mapped_column(String(10), nullable=False)
    series: Mapped[str] = mapped_column(String(10), nullable=False)      # xbar, r, s, x, mr, p, c
    rule: Mapped[str] = mapped_column(String(40), nullable=False)
    point_key: Mapped[str] = mapped_column(String(100), nullable=False)   # "<inspection id>:<subgroup>"
    inspection_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    limits_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("control_limits.id", name="fk_spc_violation_limits"),
                                                 nullable=False)
    value: Mapped[float] = mapped_column(Numeric, nullable=False)
    detected_at: Mapped[dt.datetime] = _created()
    ncr_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


# ------------------------------------------------------------------ QIF documents (qif/)

class QifDocument(Base):
    """An imported QIF document, kept verbatim (for the record) with what it
    produced: a plan revision or an inspection. A document (its QPId) is
    applied once to a plan number."""
    __tablename__ = "qif_document"
    __table_args__ = (
        UniqueConstraint("kind", "qpid", "plan_number", name="uq_qif_document_qpid"),
        Index("ix_qif_document_created", "created_at", "id"),
        CheckConstraint("kind IN ('plan', 'results')", name="ck_qif_document_kind"),
    )

    id: Mapped[uuid.UUID] = _id()
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    qpid: Mapped[str] = mapped_column(String(64), nullable=False)
    plan_number: Mapped[str] = mapped_column(String(64), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    document: Mapped[str] = mapped_column(Text, nullable=False)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspection_plan.id"))
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspection.id"))
    summary: Mapped[dict] = mapped_column(JSONB, nullable=False)   # what the import did (the answer)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())


# ------------------------------------------------------------------ First Article Inspection (fai/)

FAI_SEQUENCE = Sequence("fai_report_number_seq", metadata=Base.metadata)


class FaiReport(Base):
    """An AS9102 Rev C First Article Inspection Report of a serial: form 1's
    fields, and forms 1 (detail parts), 2 and 3 as gathered from the MES
    (refreshed while a draft; frozen once in review). Signed by its preparer
    (authorship) and its approver (approval); an approved one never changes."""
    __tablename__ = "fai_report"
    __table_args__ = (
        Index("ix_fai_report_created", "created_at", "id"),
        Index("ix_fai_report_part", "part_id", "part_revision"),
        CheckConstraint("status IN ('draft', 'in_review', 'approved', 'rejected')", name="ck_fai_report_status"),
        CheckConstraint("kind IN ('full', 'partial')", name="ck_fai_report_kind"),
    )

    id: Mapped[uuid.UUID] = _id()
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str] = mapped_column(String(30), nullable=False)
    previous_fair_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("fai_report.id"))
    previous_fair_number: Mapped[str | None] = mapped_column(String(32))
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_number: Mapped[str] = mapped_column(String(64), nullable=False)
    part_name: Mapped[str] = mapped_column(String(200), nullable=False)
    part_revision: Mapped[str] = mapped_column(String(16), nullable=False)
    serial_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    serial_number: Mapped[str] = mapped_column(String(100), nullable=False)
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    work_order_number: Mapped[str | None] = mapped_column(String(64))
    drawing_number: Mapped[str] = mapped_column(String(64), nullable=False)
    drawing_revision: Mapped[str] = mapped_column(String(16), nullable=False)
    additional_changes: Mapped[str | None] = mapped_column(Text)
    process_reference: Mapped[str | None] = mapped_column(String(200))
    organization: Mapped[str | None] = mapped_column(String(200))
    supplier_code: Mapped[str | None] = mapped_column(String(64))
    po_number: Mapped[str | None] = mapped_column(String(64))
    plan_numbers: Mapped[list] = mapped_column(JSONB, nullable=False)
    detail_parts: Mapped[list] = mapped_column(JSONB, nullable=False)
    form2: Mapped[list] = mapped_column(JSONB, nullable=False)
    form3: Mapped[list] = mapped_column(JSONB, nullable=False)
    comments: Mapped[str | None] = mapped_column(Text)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now(), onupdate=func.now())
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
