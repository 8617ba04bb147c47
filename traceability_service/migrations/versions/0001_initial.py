"""platform tables (outbox, inbox, audit trail), the model's state and its two generations

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_common.migrations import (create_audit_table, create_platform_tables, create_signature_table,
                                   drop_audit_table, drop_platform_tables, drop_signature_table, harden_audit_trail)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENERATIONS = ("trace_a", "trace_b")

# Last writer wins per key (traceability_service.models): of `a` (stamped `sa`)
# and `b` (stamped `sb`), each key keeps the value of the newer stamp.
LWW = """
CREATE FUNCTION trace_lww_attrs(a jsonb, sa jsonb, b jsonb, sb jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT a || coalesce((SELECT jsonb_object_agg(k, b -> k) FROM jsonb_object_keys(b) AS k
                        WHERE sa ->> k IS NULL OR sa ->> k < sb ->> k), '{}'::jsonb)
$$;
CREATE FUNCTION trace_lww_stamps(sa jsonb, sb jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sa || coalesce((SELECT jsonb_object_agg(k, sb -> k) FROM jsonb_object_keys(sb) AS k
                         WHERE sa ->> k IS NULL OR sa ->> k < sb ->> k), '{}'::jsonb)
$$;
"""


def _model_tables(schema):
    op.execute(f"CREATE SCHEMA {schema}")
    op.create_table(
        "node",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("attrs", postgresql.JSONB, nullable=False),
        sa.Column("stamps", postgresql.JSONB, nullable=False),
        sa.Column("known", sa.Boolean, nullable=False),
        sa.Column("number", sa.String(200), sa.Computed("attrs->>'number'", persisted=True)),
        sa.Column("heat_number", sa.String(200), sa.Computed("attrs->>'heat_number'", persisted=True)),
        sa.Column("supplier_lot", sa.String(200), sa.Computed("attrs->>'supplier_lot'", persisted=True)),
        schema=schema)
    op.create_index("ix_node_number", "node", ["number", "type"], schema=schema)
    op.create_index("ix_node_heat_number", "node", ["heat_number"], schema=schema,
                    postgresql_where=sa.text("heat_number IS NOT NULL"))
    op.create_index("ix_node_supplier_lot", "node", ["supplier_lot"], schema=schema,
                    postgresql_where=sa.text("supplier_lot IS NOT NULL"))
    op.create_table(
        "edge",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("from_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("to_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("quantity", sa.Float),
        sa.Column("work_order_id", postgresql.UUID(as_uuid=True)),
        sa.Column("operation_id", postgresql.UUID(as_uuid=True)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        schema=schema)
    op.create_index("ix_edge_to", "edge", ["to_id", "from_id", "kind"], schema=schema)
    op.create_index("ix_edge_from", "edge", ["from_id", "to_id", "kind"], schema=schema)
    op.create_table(
        "timeline",
        sa.Column("node_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("data", postgresql.JSONB, nullable=False),
        schema=schema)
    op.create_index("ix_timeline_node_at", "timeline", ["node_id", "at", "event_id"], schema=schema)


def upgrade():
    create_platform_tables(op)
    create_audit_table(op)
    harden_audit_trail(op)
    create_signature_table(op)
    op.execute(LWW)
    for schema in GENERATIONS:
        _model_tables(schema)
    op.create_table(
        "model_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("active", sa.String(20), nullable=False),
        sa.Column("rebuilding", sa.String(20)),
        sa.Column("rebuild_started_at", sa.DateTime(timezone=True)),
        sa.Column("rebuilt_at", sa.DateTime(timezone=True)),
        sa.Column("rebuild_events", sa.Integer),
        sa.CheckConstraint("id = 1", name="ck_model_state_one_row"),
        sa.CheckConstraint("active IN ('trace_a', 'trace_b')", name="ck_model_state_active"),
    )
    op.execute("INSERT INTO model_state (id, active) VALUES (1, 'trace_a')")


def downgrade():
    op.drop_table("model_state")
    for schema in GENERATIONS:
        op.execute(f"DROP SCHEMA {schema} CASCADE")
    op.execute("DROP FUNCTION trace_lww_attrs(jsonb, jsonb, jsonb, jsonb); DROP FUNCTION trace_lww_stamps(jsonb, jsonb)")
    drop_signature_table(op)
    drop_audit_table(op)
    drop_platform_tables(op)
