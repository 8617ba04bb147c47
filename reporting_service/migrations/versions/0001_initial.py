"""platform tables, the model's state, its two generations of facts and buckets,
KPI definitions (the service adds its defaults at start), alert rules, alerts and snapshots

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_common.migrations import (create_audit_table, create_platform_tables, create_signature_table,
                                   drop_audit_table, drop_platform_tables, drop_signature_table, harden_audit_trail)
from mes_common.readmodel import create_model_state

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENERATIONS = ("report_a", "report_b")
UUID = postgresql.UUID(as_uuid=True)
TIME = sa.DateTime(timezone=True)
QUANTITY = sa.Numeric(18, 6)

def _sums():
    return [sa.Column(c, sa.Integer, nullable=False) for c in ("pbt", "apt", "aubt", "aust", "adet")] + [
        sa.Column(c, QUANTITY, nullable=False) for c in ("pq", "gq", "sq", "rq")] + [
        sa.Column("pri_pq", sa.Numeric(24, 6), nullable=False)]


def _model_tables(schema):
    op.execute(f"CREATE SCHEMA {schema}")

    def table(name, *columns, indexes=()):
        op.create_table(name, *columns, schema=schema)
        for index_name, index_columns in indexes:
            op.create_index(index_name, name, index_columns, schema=schema)

    table("equipment", sa.Column("id", UUID, primary_key=True), sa.Column("level", sa.String(20), nullable=False),
          sa.Column("code", sa.String(64), nullable=False), sa.Column("name", sa.String(200), nullable=False),
          sa.Column("parent_id", UUID), sa.Column("created_at", TIME, nullable=False),
          sa.Column("stamp", sa.String(80), nullable=False), indexes=[("ix_equipment_parent", ["parent_id"])])
    table("calendar", sa.Column("node_id", UUID, primary_key=True), sa.Column("version", sa.Integer, primary_key=True),
          sa.Column("valid_from", TIME, nullable=False), sa.Column("timezone", sa.String(64), nullable=False),
          sa.Column("shifts", postgresql.JSONB, nullable=False))
    table("calendar_exception", sa.Column("id", UUID, primary_key=True), sa.Column("node_id", UUID, nullable=False),
          sa.Column("starts_at", TIME, nullable=False), sa.Column("ends_at", TIME, nullable=False))
    table("equipment_state", sa.Column("id", UUID, primary_key=True), sa.Column("node_id", UUID, nullable=False),
          sa.Column("state", sa.String(30), nullable=False), sa.Column("started_at", TIME, nullable=False),
          sa.Column("ended_at", TIME), indexes=[("ix_equipment_state_node", ["node_id", "started_at"])])
    table("operation", sa.Column("id", UUID, primary_key=True), sa.Column("work_order_id", UUID, nullable=False),
          sa.Column("work_center_id", UUID, nullable=False), sa.Column("part_id", UUID, nullable=False),
          sa.Column("part_number", sa.String(100), nullable=False), sa.Column("run_time", QUANTITY, nullable=False),
          sa.Column("stamp", sa.String(80), nullable=False),
          indexes=[("ix_operation_work_center", ["work_center_id"]), ("ix_operation_part", ["part_id"]),
                   ("ix_operation_work_order", ["work_order_id"])])
    table("operation_mark", sa.Column("operation_id", UUID, primary_key=True), sa.Column("at", TIME, primary_key=True),
          sa.Column("kind", sa.String(5), primary_key=True))
    table("operation_interval", sa.Column("operation_id", UUID, primary_key=True),
          sa.Column("kind", sa.String(5), primary_key=True), sa.Column("start", TIME, primary_key=True),
          sa.Column("end", TIME), sa.Column("work_center_id", UUID, nullable=False),
          sa.Column("part_id", UUID, nullable=False),
          indexes=[("ix_operation_interval_wc", ["work_center_id", "start"]),
                   ("ix_operation_interval_part", ["part_id", "start"])])
    table("quantity_report", sa.Column("id", UUID, primary_key=True), sa.Column("operation_id", UUID, nullable=False),
          sa.Column("work_center_id", UUID, nullable=False), sa.Column("part_id", UUID, nullable=False),
          sa.Column("at", TIME, nullable=False), sa.Column("good", QUANTITY, nullable=False),
          sa.Column("scrap", QUANTITY, nullable=False), sa.Column("rework", QUANTITY, nullable=False),
          sa.Column("reason_code", sa.String(50)), sa.Column("unit_seconds", QUANTITY, nullable=False),
          indexes=[("ix_quantity_report_wc", ["work_center_id", "at"]), ("ix_quantity_report_part", ["part_id", "at"])])
    table("downtime", sa.Column("id", UUID, primary_key=True), sa.Column("work_center_id", UUID, nullable=False),
          sa.Column("reason_code", sa.String(50), nullable=False), sa.Column("started_at", TIME, nullable=False),
          sa.Column("ended_at", TIME), indexes=[("ix_downtime_wc", ["work_center_id", "started_at"])])
    table("inspection", sa.Column("id", UUID, primary_key=True), sa.Column("part_id", UUID),
          sa.Column("operation_id", UUID), sa.Column("passed", sa.Boolean, nullable=False),
          sa.Column("at", TIME, nullable=False), sa.Column("stamp", sa.String(80), nullable=False),
          indexes=[("ix_inspection_at", ["at"])])
    table("ncr", sa.Column("id", UUID, primary_key=True), sa.Column("number", sa.String(50), nullable=False),
          sa.Column("part_id", UUID, nullable=False), sa.Column("operation_id", UUID),
          sa.Column("defect_codes", postgresql.JSONB, nullable=False), sa.Column("raised_at", TIME, nullable=False),
          sa.Column("cancelled", sa.Boolean, nullable=False), sa.Column("stamp", sa.String(80), nullable=False),
          indexes=[("ix_ncr_raised_at", ["raised_at"])])
    table("work_order", sa.Column("id", UUID, primary_key=True), sa.Column("number", sa.String(50), nullable=False),
          sa.Column("part_id", UUID, nullable=False), sa.Column("due_date", sa.Date, nullable=False),
          sa.Column("status", sa.String(20), nullable=False), sa.Column("completed_at", TIME),
          sa.Column("stamp", sa.String(80), nullable=False), indexes=[("ix_work_order_due", ["due_date"])])
    table("bucket", sa.Column("work_center_id", UUID, primary_key=True), sa.Column("start", TIME, primary_key=True),
          sa.Column("shift", sa.String(80), primary_key=True), *_sums(), indexes=[("ix_bucket_start", ["start"])])
    table("bucket_day", sa.Column("work_center_id", UUID, primary_key=True),
          sa.Column("day", sa.Date, primary_key=True),
          sa.Column("timezone", sa.String(64), nullable=False), *_sums(), indexes=[("ix_bucket_day_day", ["day"])])
    table("shift_instance", sa.Column("work_center_id", UUID, primary_key=True),
          sa.Column("label", sa.String(80), primary_key=True), sa.Column("start", TIME, nullable=False),
          sa.Column("end", TIME, nullable=False), indexes=[("ix_shift_instance_start", ["start"])])
    table("clock", sa.Column("id", sa.Integer, primary_key=True), sa.Column("computed_through", TIME, nullable=False))


def upgrade():
    create_platform_tables(op)
    create_audit_table(op)
    harden_audit_trail(op)
    create_signature_table(op)
    for schema in GENERATIONS:
        _model_tables(schema)
    create_model_state(op, GENERATIONS)
    op.create_table(
        "kpi_definition",
        sa.Column("key", sa.String(60), primary_key=True), sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False), sa.Column("formula", sa.String(60), nullable=False),
        sa.Column("target", sa.Numeric(18, 6)), sa.Column("bands", postgresql.JSONB, nullable=False),
        sa.Column("decimals", sa.Integer, nullable=False), sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", TIME, nullable=False))
    op.create_table(
        "alert_rule",
        sa.Column("id", UUID, primary_key=True), sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kpi", sa.String(60), nullable=False), sa.Column("node_id", UUID),
        sa.Column("window", sa.String(10), nullable=False), sa.Column("hours", sa.Integer),
        sa.Column("condition", sa.String(10), nullable=False),
        sa.Column("threshold", sa.Numeric(18, 6), nullable=False),
        sa.Column("hysteresis", sa.Numeric(18, 6), nullable=False), sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("raised", sa.Boolean, nullable=False), sa.Column("last_value", sa.String(40)),
        sa.Column("evaluated_at", TIME), sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False))
    op.create_table(
        "alert",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("rule_id", UUID, sa.ForeignKey("alert_rule.id"), nullable=False),
        sa.Column("status", sa.String(10), nullable=False), sa.Column("raised_at", TIME, nullable=False),
        sa.Column("raised_value", sa.String(40), nullable=False), sa.Column("cleared_at", TIME),
        sa.Column("cleared_value", sa.String(40)), sa.Column("window_start", TIME, nullable=False),
        sa.Column("window_end", TIME, nullable=False), sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("acknowledged_at", TIME), sa.Column("note", sa.Text))
    op.create_index("ix_alert_status", "alert", ["status", "raised_at"])
    op.create_table(
        "snapshot",
        sa.Column("id", UUID, primary_key=True), sa.Column("title", sa.String(200), nullable=False),
        sa.Column("start", TIME, nullable=False), sa.Column("end", TIME, nullable=False),
        sa.Column("definition_versions", postgresql.JSONB, nullable=False),
        sa.Column("report", postgresql.JSONB, nullable=False), sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TIME, nullable=False))
    op.create_index("ix_snapshot_created", "snapshot", ["created_at", "id"])


def downgrade():
    for name in ("snapshot", "alert", "alert_rule", "kpi_definition", "model_state"):
        op.drop_table(name)
    for schema in GENERATIONS:
        op.execute(f"DROP SCHEMA {schema} CASCADE")
    drop_signature_table(op)
    drop_audit_table(op)
    drop_platform_tables(op)
