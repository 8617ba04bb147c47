"""The reporting service's tables (database mes_reporting).

The facts and the buckets computed from them are a read model kept in two
generations, schemas `report_a` and `report_b` (mes_common.readmodel): the
tables below name the schema "report" and each statement runs translated to
the generation that answers. Facts are upserted by their owners' ids; a
row several events describe keeps, per row, the newest event's version
(`stamp`: event time | event id), so the result is the same in any order.

What the service owns (KPI definitions, alert rules, alerts, snapshots) lives
in the public schema and is not rebuilt.
"""
import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mes_common.audit import audit_model
from mes_common.db import platform_models
from mes_common.readmodel import model_state_model
from mes_common.signatures import signature_model

MODEL_SCHEMA = "report"
GENERATIONS = ("report_a", "report_b")
QUANTITY = Numeric(18, 6)
STAMP = String(80)   # "<event time ISO>|<event id>": compared as text
# an interval's end, open ones last: the intervals overlapping a window are found by it (store.load_facts)
OPEN_END = "coalesce({end}, 'infinity'::timestamptz)"


class Base(DeclarativeBase):
    pass


OutboxEvent, InboxEvent = platform_models(Base)
AuditEntry = audit_model(Base)
Signature = signature_model(Base)
ModelState = model_state_model(Base)


# ------------------------------------------------------------------ facts (a generation's)

class Equipment(Base):
    """A node of the resource hierarchy (enterprise … work unit)."""
    __tablename__ = "equipment"
    __table_args__ = (Index("ix_equipment_parent", "parent_id"), {"schema": MODEL_SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    level: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    stamp: Mapped[str] = mapped_column(STAMP, nullable=False)


class CalendarVersion(Base):
    """A node's shift calendar from the time it was set (its version)."""
    __tablename__ = "calendar"
    __table_args__ = {"schema": MODEL_SCHEMA}

    node_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    shifts: Mapped[list] = mapped_column(JSONB, nullable=False)


class CalendarException(Base):
    __tablename__ = "calendar_exception"
    __table_args__ = {"schema": MODEL_SCHEMA}

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    node_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class EquipmentState(Base):
    """One state of an equipment node (running, idle, setup, down, planned_maintenance)."""
    __tablename__ = "equipment_state"
    __table_args__ = (Index("ix_equipment_state_node", "node_id", "started_at"), {"schema": MODEL_SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    node_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    state: Mapped[str] = mapped_column(String(30), nullable=False)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Operation(Base):
    __tablename__ = "operation"
    __table_args__ = (Index("ix_operation_work_center", "work_center_id"), Index("ix_operation_part", "part_id"),
                      Index("ix_operation_work_order", "work_order_id"), {"schema": MODEL_SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    work_center_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_number: Mapped[str] = mapped_column(String(100), nullable=False)
    run_time: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False, doc="planned minutes per unit")
    stamp: Mapped[str] = mapped_column(STAMP, nullable=False)


class OperationMark(Base):
    """An operation's clock starting (started, resumed) or stopping (paused, completed)."""
    __tablename__ = "operation_mark"
    __table_args__ = {"schema": MODEL_SCHEMA}

    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(5), primary_key=True)


class OperationInterval(Base):
    """Derived from the marks: `run` (running) and `span` (start to end) intervals; end null: open."""
    __tablename__ = "operation_interval"
    __table_args__ = (Index("ix_operation_interval_wc", "work_center_id", "start"),
                      Index("ix_operation_interval_part", "part_id", "start"),
                      Index("ix_operation_interval_wc_end", "work_center_id", text(OPEN_END.format(end='"end"'))),
                      {"schema": MODEL_SCHEMA})

    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(5), primary_key=True)
    start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    end: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    work_center_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)


class QuantityReport(Base):
    """One good / scrap / rework report of an operation (its report id)."""
    __tablename__ = "quantity_report"
    __table_args__ = (Index("ix_quantity_report_wc", "work_center_id", "at"),
                      Index("ix_quantity_report_part", "part_id", "at"), {"schema": MODEL_SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    work_center_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    good: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    scrap: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    rework: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    reason_code: Mapped[str | None] = mapped_column(String(50), doc="the first reason code given: the primary one")
    unit_seconds: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False, doc="planned run time per unit (s)")


class Downtime(Base):
    __tablename__ = "downtime"
    __table_args__ = (Index("ix_downtime_wc", "work_center_id", "started_at"),
                      Index("ix_downtime_wc_end", "work_center_id", text(OPEN_END.format(end="ended_at"))),
                      {"schema": MODEL_SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    work_center_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    reason_code: Mapped[str] = mapped_column(String(50), nullable=False)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Inspection(Base):
    """A closed inspection: passed or failed (first pass yield)."""
    __tablename__ = "inspection"
    __table_args__ = (Index("ix_inspection_at", "at"), {"schema": MODEL_SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    part_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    stamp: Mapped[str] = mapped_column(STAMP, nullable=False)


class Ncr(Base):
    __tablename__ = "ncr"
    __table_args__ = (Index("ix_ncr_raised_at", "raised_at"), {"schema": MODEL_SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    number: Mapped[str] = mapped_column(String(50), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    defect_codes: Mapped[list] = mapped_column(JSONB, nullable=False)
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    stamp: Mapped[str] = mapped_column(STAMP, nullable=False)


class WorkOrder(Base):
    __tablename__ = "work_order"
    __table_args__ = (Index("ix_work_order_due", "due_date"), {"schema": MODEL_SCHEMA})

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    number: Mapped[str] = mapped_column(String(50), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    stamp: Mapped[str] = mapped_column(STAMP, nullable=False)


class _Sums:
    """The components a bucket sums: times in whole seconds, quantities exact."""
    pbt: Mapped[int] = mapped_column(Integer, nullable=False)
    apt: Mapped[int] = mapped_column(Integer, nullable=False)
    aubt: Mapped[int] = mapped_column(Integer, nullable=False)
    aust: Mapped[int] = mapped_column(Integer, nullable=False)
    adet: Mapped[int] = mapped_column(Integer, nullable=False)
    pq: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    gq: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    sq: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    rq: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    pri_pq: Mapped[Decimal] = mapped_column(Numeric(24, 6), nullable=False)


class Bucket(_Sums, Base):
    """One hour of a work center within one shift (label "": outside shifts, or no calendar)."""
    __tablename__ = "bucket"
    __table_args__ = (Index("ix_bucket_start", "start"), {"schema": MODEL_SCHEMA})

    work_center_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    shift: Mapped[str] = mapped_column(String(80), primary_key=True)


class BucketDay(_Sums, Base):
    """A work center's local day (its calendar's zone): the sums of its buckets."""
    __tablename__ = "bucket_day"
    __table_args__ = (Index("ix_bucket_day_day", "day"), {"schema": MODEL_SCHEMA})

    work_center_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)


class ShiftInstance(Base):
    """A shift as it happened at a work center: label, start and end."""
    __tablename__ = "shift_instance"
    __table_args__ = (Index("ix_shift_instance_start", "start"), {"schema": MODEL_SCHEMA})

    work_center_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    label: Mapped[str] = mapped_column(String(80), primary_key=True)
    start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    end: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Clock(Base):
    """Buckets are computed through `computed_through` (the timer moves it on)."""
    __tablename__ = "clock"
    __table_args__ = {"schema": MODEL_SCHEMA}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    computed_through: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


# ------------------------------------------------------------------ owned (public schema)

class Definition(Base):
    """A version of a KPI definition; the highest version of a key is current."""
    __tablename__ = "kpi_definition"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    formula: Mapped[str] = mapped_column(String(60), nullable=False)
    target: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    bands: Mapped[list] = mapped_column(JSONB, nullable=False)
    decimals: Mapped[int] = mapped_column(Integer, nullable=False)
    changed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AlertRule(Base):
    __tablename__ = "alert_rule"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kpi: Mapped[str] = mapped_column(String(60), nullable=False)
    node_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    window: Mapped[str] = mapped_column(String(10), nullable=False)
    hours: Mapped[int | None] = mapped_column(Integer)
    condition: Mapped[str] = mapped_column(String(10), nullable=False)
    threshold: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False)
    hysteresis: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    raised: Mapped[bool] = mapped_column(Boolean, nullable=False)
    last_value: Mapped[str | None] = mapped_column(String(40))
    evaluated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class Alert(Base):
    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_status", "status", "raised_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    rule_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("alert_rule.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    raised_value: Mapped[str] = mapped_column(String(40), nullable=False)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_value: Mapped[str | None] = mapped_column(String(40))
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    window_end: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class Snapshot(Base):
    """A period report as computed, with the definition versions it used."""
    __tablename__ = "snapshot"
    __table_args__ = (Index("ix_snapshot_created", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    end: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    definition_versions: Mapped[dict] = mapped_column(JSONB, nullable=False)
    report: Mapped[dict] = mapped_column(JSONB, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
