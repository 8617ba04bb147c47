"""work order tables, outbox, inbox, audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_common.migrations import create_audit_table, create_platform_tables, drop_audit_table, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

QUANTITY = sa.Numeric(18, 6)
SAGA_ACTIVE = "state IN ('started', 'reserving', 'compensating')"


def _uuid(name, *args, **kwargs):
    return sa.Column(name, postgresql.UUID(as_uuid=True), *args, **kwargs)


def _time(name, nullable=True, **kwargs):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, **kwargs)


def _quantity(name):
    return sa.Column(name, QUANTITY, nullable=False, server_default="0")


def upgrade():
    create_platform_tables(op)
    create_audit_table(op)
    op.execute("CREATE SEQUENCE work_order_number_seq")
    op.create_table(
        "work_order",
        _uuid("id", primary_key=True),
        sa.Column("number", sa.String(64), nullable=False, unique=True),
        _uuid("part_id", nullable=False),
        sa.Column("part_number", sa.String(64), nullable=False),
        sa.Column("part_name", sa.String(200), nullable=False),
        sa.Column("part_revision", sa.String(16), nullable=False),
        sa.Column("uom", sa.String(16), nullable=False),
        sa.Column("quantity", QUANTITY, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        _uuid("site_id", nullable=False),
        sa.Column("site_name", sa.String(200), nullable=False),
        _uuid("work_center_id"),
        sa.Column("work_center_name", sa.String(200)),
        _uuid("output_location_id"),
        _uuid("created_by_id"),
        sa.Column("created_by_name", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("held_from", sa.String(20)),
        sa.Column("hold_reason", sa.Text),
        sa.Column("release_error", sa.Text),
        _quantity("quantity_completed"),
        _quantity("quantity_scrapped"),
        sa.Column("version", sa.Integer, nullable=False),
        _time("created_at", nullable=False, server_default=sa.func.now()),
        _time("updated_at", nullable=False, server_default=sa.func.now()),
        _time("released_at"),
        _time("completed_at"),
        _time("closed_at"),
        sa.CheckConstraint("quantity > 0", name="ck_work_order_quantity"),
        sa.CheckConstraint("priority BETWEEN 1 AND 999", name="ck_work_order_priority"),
    )
    # owned by the column: dropped with the table, reset by TRUNCATE ... RESTART IDENTITY
    op.execute("ALTER SEQUENCE work_order_number_seq OWNED BY work_order.number")
    op.create_index("ix_work_order_created", "work_order", ["created_at", "id"])
    op.create_index("ix_work_order_status_created", "work_order", ["status", "created_at", "id"])
    # the reference handlers update every order of a part / site / work center / user at once
    op.create_index("ix_work_order_part", "work_order", ["part_id"])
    op.create_index("ix_work_order_site", "work_order", ["site_id"])
    op.create_index("ix_work_order_work_center", "work_order", ["work_center_id"])
    op.create_index("ix_work_order_created_by", "work_order", ["created_by_id"])

    op.create_table(
        "work_order_status_change",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        _uuid("work_order_id", sa.ForeignKey("work_order.id"), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("actor", sa.String(200), nullable=False),
        _time("at", nullable=False),
    )
    op.create_index("ix_work_order_status_change_order", "work_order_status_change", ["work_order_id", "id"])

    op.create_table(
        "work_order_operation",
        _uuid("id", primary_key=True),
        _uuid("work_order_id", sa.ForeignKey("work_order.id"), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _uuid("work_center_id", nullable=False),
        sa.Column("work_center_code", sa.String(64)),
        sa.Column("work_center_name", sa.String(200)),
        sa.Column("setup_time", QUANTITY, nullable=False),
        sa.Column("run_time", QUANTITY, nullable=False),
        sa.Column("required_skill", sa.String(200)),
        sa.Column("work_instruction", postgresql.JSONB),
        sa.Column("status", sa.String(20), nullable=False),
        _quantity("quantity_good"),
        _quantity("quantity_scrap"),
        _quantity("quantity_rework"),
        _time("planned_start"),
        _time("planned_end"),
        _time("actual_start"),
        _time("actual_end"),
        _uuid("operator_id"),
        sa.Column("operator_name", sa.String(200)),
        _uuid("equipment_id"),
        sa.UniqueConstraint("work_order_id", "sequence", name="uq_work_order_operation_sequence"),
    )
    op.create_index("ix_work_order_operation_dispatch", "work_order_operation", ["work_center_id", "status"])
    op.create_index("ix_work_order_operation_operator", "work_order_operation", ["operator_id"])

    op.create_table(
        "work_order_operation_interval",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        _uuid("operation_id", sa.ForeignKey("work_order_operation.id"), nullable=False),
        _time("started_at", nullable=False),
        _time("ended_at"),
    )
    op.create_index("ix_work_order_operation_interval_op", "work_order_operation_interval", ["operation_id", "id"])

    op.create_table(
        "work_order_operation_report",
        _uuid("id", primary_key=True),
        _uuid("operation_id", sa.ForeignKey("work_order_operation.id"), nullable=False),
        sa.Column("idempotency_key", sa.String(200), unique=True),
        sa.Column("good", QUANTITY, nullable=False),
        sa.Column("scrap", QUANTITY, nullable=False),
        sa.Column("rework", QUANTITY, nullable=False),
        sa.Column("reason_codes", postgresql.JSONB, nullable=False),
        sa.Column("output", postgresql.JSONB),
        _uuid("reported_by_id"),
        sa.Column("actor", sa.String(200), nullable=False),
        _time("at", nullable=False),
    )
    op.create_index("ix_work_order_operation_report_op", "work_order_operation_report", ["operation_id", "at"])

    op.create_table(
        "work_order_step_buy_off",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        _uuid("operation_id", sa.ForeignKey("work_order_operation.id"), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("values", postgresql.JSONB, nullable=False),
        sa.Column("note", sa.Text),
        _uuid("by_id"),
        sa.Column("by_name", sa.String(200), nullable=False),
        _time("at", nullable=False),
        sa.UniqueConstraint("operation_id", "step", name="uq_work_order_step_buy_off"),
    )

    op.create_table(
        "work_order_downtime",
        _uuid("id", primary_key=True),
        _uuid("work_center_id", nullable=False),
        sa.Column("work_center_name", sa.String(200)),
        _uuid("equipment_id"),
        _uuid("work_order_id", sa.ForeignKey("work_order.id")),
        _uuid("operation_id", sa.ForeignKey("work_order_operation.id")),
        sa.Column("reason_code", sa.String(50), nullable=False),
        _time("started_at", nullable=False),
        _time("ended_at"),
        sa.Column("note", sa.Text),
        _uuid("recorded_by_id"),
        sa.Column("recorded_by_name", sa.String(200), nullable=False),
        _time("created_at", nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ck_work_order_downtime_period"),
    )
    op.create_index("ix_work_order_downtime_started", "work_order_downtime", ["started_at", "id"])
    op.create_index("ix_work_order_downtime_work_center", "work_order_downtime", ["work_center_id", "started_at"])
    op.create_index("ix_work_order_downtime_work_order", "work_order_downtime", ["work_order_id"])

    op.create_table(
        "saga",
        _uuid("id", primary_key=True),
        sa.Column("type", sa.String(50), nullable=False),
        _uuid("work_order_id", sa.ForeignKey("work_order.id"), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("data", postgresql.JSONB, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        _time("lease_until", nullable=False),
        _time("created_at", nullable=False, server_default=sa.func.now()),
        _time("updated_at", nullable=False, server_default=sa.func.now()),
    )
    op.create_index("uq_saga_active", "saga", ["type", "work_order_id"], unique=True,
                    postgresql_where=sa.text(SAGA_ACTIVE))
    op.create_index("ix_saga_lease", "saga", ["lease_until"], postgresql_where=sa.text(SAGA_ACTIVE))
    op.create_index("ix_saga_work_order", "saga", ["work_order_id"])


def downgrade():
    for table in ("saga", "work_order_downtime", "work_order_step_buy_off", "work_order_operation_report",
                  "work_order_operation_interval", "work_order_operation", "work_order_status_change",
                  "work_order"):
        op.drop_table(table)
    op.execute("DROP SEQUENCE IF EXISTS work_order_number_seq")  # gone with its table
    drop_audit_table(op)
    drop_platform_tables(op)
