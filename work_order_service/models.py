"""The work order service's own tables (database mes_work_order)."""
import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric, Sequence,
                        String, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mes_common.audit import audit_model
from mes_common.signatures import signature_model
from mes_common.db import platform_models
from work_order_service.domain import SAGA_ACTIVE

QUANTITY = Numeric(18, 6)
SAGA_ACTIVE_SQL = "(" + ", ".join(f"'{s}'" for s in SAGA_ACTIVE) + ")"


class Base(DeclarativeBase):
    pass


OutboxEvent, InboxEvent = platform_models(Base)
AuditEntry = audit_model(Base)
Signature = signature_model(Base)
# generated work order numbers (WO-000001); ERP-given numbers do not consume it
NUMBER_SEQUENCE = Sequence("work_order_number_seq", metadata=Base.metadata)


class WorkOrder(Base):
    """A work order. Part, site, work center and creator are other services'
    entities: their ids plus cached display fields, kept current by the owners'
    `.updated` events (references.py) with one set-based UPDATE each, hence
    the indexes on the ids."""
    __tablename__ = "work_order"
    __table_args__ = (
        Index("ix_work_order_created", "created_at", "id"),
        Index("ix_work_order_status_created", "status", "created_at", "id"),
        Index("ix_work_order_part", "part_id"),
        Index("ix_work_order_site", "site_id"),
        Index("ix_work_order_work_center", "work_center_id"),
        Index("ix_work_order_created_by", "created_by_id"),
        CheckConstraint("quantity > 0", name="ck_work_order_quantity"),
        CheckConstraint("priority BETWEEN 1 AND 999", name="ck_work_order_priority"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_number: Mapped[str] = mapped_column(String(64), nullable=False)
    part_name: Mapped[str] = mapped_column(String(200), nullable=False)
    part_revision: Mapped[str] = mapped_column(String(16), nullable=False)
    uom: Mapped[str] = mapped_column(String(16), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False)
    site_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    site_name: Mapped[str] = mapped_column(String(200), nullable=False)
    work_center_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    work_center_name: Mapped[str | None] = mapped_column(String(200))
    output_location_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # what the ERP planned (integration's imports): the operations replace the routing's at release
    description: Mapped[str | None] = mapped_column(Text)
    planned_start: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    planned_operations: Mapped[list | None] = mapped_column(JSONB(none_as_null=True))
    source: Mapped[str | None] = mapped_column(String(200))  # e.g. "b2mml ERP-PROD <message id>"
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_by_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    held_from: Mapped[str | None] = mapped_column(String(20))  # where resume returns
    hold_reason: Mapped[str | None] = mapped_column(Text)
    release_error: Mapped[str | None] = mapped_column(Text)
    quantity_completed: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False, default=0)
    quantity_scrapped: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False, default=0)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now(), onupdate=func.now())
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    operations: Mapped[list["Operation"]] = relationship(
        back_populates="work_order", order_by="Operation.sequence", lazy="raise")
    history: Mapped[list["StatusChange"]] = relationship(order_by="StatusChange.id", lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class StatusChange(Base):
    """The status history of a work order (also in the audit trail; this one is
    the order's own record, shown with it)."""
    __tablename__ = "work_order_status_change"
    __table_args__ = (Index("ix_work_order_status_change_order", "work_order_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("work_order.id"),
                                                     nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Operation(Base):
    """An operation of a released work order: the routing's operation as it was
    at release (work center, standard times, frozen work instruction) plus
    what the shop floor did."""
    __tablename__ = "work_order_operation"
    __table_args__ = (
        UniqueConstraint("work_order_id", "sequence", name="uq_work_order_operation_sequence"),
        Index("ix_work_order_operation_dispatch", "work_center_id", "status"),
        Index("ix_work_order_operation_operator", "operator_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    work_order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("work_order.id"),
                                                     nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    work_center_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    work_center_code: Mapped[str | None] = mapped_column(String(64))
    work_center_name: Mapped[str | None] = mapped_column(String(200))
    setup_time: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)  # minutes
    run_time: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)    # minutes per unit
    # [{"skill": code, "min_level": n}] from the routing at release: checked when an operator starts or resumes
    required_skills: Mapped[list] = mapped_column(JSONB, nullable=False, default=list, server_default="[]")
    skill_note: Mapped[str | None] = mapped_column(Text)
    work_instruction: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))  # frozen at release
    # the routing's special process, as released: {specification, code, supplier_code, customer_approved}
    special_process: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    quantity_good: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False, default=0)
    quantity_scrap: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False, default=0)
    quantity_rework: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False, default=0)
    planned_start: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    planned_end: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    actual_start: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    actual_end: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    operator_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    operator_name: Mapped[str | None] = mapped_column(String(200))
    equipment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    work_order: Mapped[WorkOrder] = relationship(back_populates="operations", lazy="raise")
    intervals: Mapped[list["OperationInterval"]] = relationship(order_by="OperationInterval.id", lazy="raise")
    buy_offs: Mapped[list["StepBuyOff"]] = relationship(order_by="StepBuyOff.step", lazy="raise")


class OperationInterval(Base):
    """One stretch of running (start or resume → pause or completion): actual
    time excludes the pauses between them."""
    __tablename__ = "work_order_operation_interval"
    __table_args__ = (Index("ix_work_order_operation_interval_op", "operation_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("work_order_operation.id"),
                                                    nullable=False)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class OperationReport(Base):
    """One quantity report (a partial or final completion). Its id is the
    report id of the output it produced; its idempotency key makes a retried
    report apply once."""
    __tablename__ = "work_order_operation_report"
    __table_args__ = (Index("ix_work_order_operation_report_op", "operation_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("work_order_operation.id"),
                                                    nullable=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    good: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    scrap: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    rework: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    reason_codes: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    output: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))  # the output.reported data
    reported_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class StepBuyOff(Base):
    """Who bought off a step of an operation's frozen work instruction, when,
    with which values. Each step once."""
    __tablename__ = "work_order_step_buy_off"
    __table_args__ = (UniqueConstraint("operation_id", "step", name="uq_work_order_step_buy_off"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    operation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("work_order_operation.id"),
                                                    nullable=False)
    step: Mapped[int] = mapped_column(Integer, nullable=False)
    values: Mapped[dict] = mapped_column(JSONB, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Downtime(Base):
    __tablename__ = "work_order_downtime"
    __table_args__ = (
        Index("ix_work_order_downtime_started", "started_at", "id"),
        Index("ix_work_order_downtime_work_center", "work_center_id", "started_at"),
        Index("ix_work_order_downtime_work_order", "work_order_id"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ck_work_order_downtime_period"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    work_center_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    work_center_name: Mapped[str | None] = mapped_column(String(200))
    equipment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("work_order.id"))
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True),
                                                           ForeignKey("work_order_operation.id"))
    reason_code: Mapped[str] = mapped_column(String(50), nullable=False)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    recorded_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())


class Saga(Base):
    """A persisted multi-service change (the release saga): its state, the data
    its steps and compensations need, and a lease. The worker running it renews
    the lease at each step; a saga whose lease ran out was abandoned (process
    killed) and is compensated by the recovery timer. Every write checks and
    bumps `version`, so a worker that lost its lease cannot write after the
    recovery took over."""
    __tablename__ = "saga"
    __table_args__ = (
        # one release in flight per work order
        Index("uq_saga_active", "type", "work_order_id", unique=True,
              postgresql_where=text(f"state IN {SAGA_ACTIVE_SQL}")),
        Index("ix_saga_lease", "lease_until", postgresql_where=text(f"state IN {SAGA_ACTIVE_SQL}")),
        Index("ix_saga_work_order", "work_order_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(50), nullable=False)
    work_order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("work_order.id"),
                                                     nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    data: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    lease_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now(), onupdate=func.now())


# ------------------------------------------------------------ work instructions (instructions.py)

class WorkInstruction(Base):
    """One version of a work instruction: its steps and their data-collection
    fields (JSON). draft → released → obsolete; a released version never
    changes (trigger work_instruction_immutable, migration 0002); releasing
    a version obsoletes the older ones, so one version of a code is released."""
    __tablename__ = "work_instruction"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_work_instruction_code_version"),
        CheckConstraint("status IN ('draft','released','obsolete')", name="ck_work_instruction_status"),
        CheckConstraint("version > 0", name="ck_work_instruction_version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    steps: Mapped[list] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(200))
    released_by_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    obsoleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# ------------------------------------------------------------ rework operations (rework/)

REWORK_SEQUENCE = Sequence("rework_operation_number_seq", metadata=Base.metadata)


class ReworkOperation(Base):
    """A rework or repair the Material Review Board decided (one line of an
    NCR's signed disposition): the units to rework (a lot, a serial, or the
    work in process of an operation of ours), the MRB's instructions, where
    (the work center of the operation it came from, or one chosen at start)
    and what the shop floor did. One per disposition line."""
    __tablename__ = "rework_operation"
    __table_args__ = (
        Index("ix_rework_operation_created", "created_at", "id"),
        Index("ix_rework_operation_dispatch", "work_center_id", "status"),
        Index("ix_rework_operation_work_order", "work_order_id"),
        Index("ix_rework_operation_ncr", "ncr_number"),
        CheckConstraint("quantity > 0", name="ck_rework_operation_quantity"),
        CheckConstraint("status IN ('open','running','completed')", name="ck_rework_operation_status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    disposition_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, unique=True)
    decision: Mapped[str] = mapped_column(String(20), nullable=False)   # rework or repair
    ncr_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    ncr_number: Mapped[str] = mapped_column(String(32), nullable=False)
    ncr_title: Mapped[str] = mapped_column(String(200), nullable=False)
    part_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    part_number: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str] = mapped_column(String(10), nullable=False)   # lot, serial, operation
    target_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    target_number: Mapped[str] = mapped_column(String(100), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY, nullable=False)
    instructions: Mapped[str | None] = mapped_column(Text)
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("work_order.id"))
    work_order_number: Mapped[str | None] = mapped_column(String(64))
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("work_order_operation.id"))
    operation_sequence: Mapped[int | None] = mapped_column(Integer)
    work_center_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    work_center_name: Mapped[str | None] = mapped_column(String(200))
    # the skills of the operation it came from: reworking it takes what doing it takes
    required_skills: Mapped[list] = mapped_column(JSONB, nullable=False, default=list, server_default="[]")
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    operator_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    operator_name: Mapped[str | None] = mapped_column(String(200))
    equipment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
