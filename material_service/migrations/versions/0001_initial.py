"""material tables, outbox, inbox, audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mes_common.migrations import (create_append_only_triggers, create_audit_table, create_platform_tables,
                                   drop_append_only_function, drop_audit_table, drop_platform_tables)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

QTY = sa.Numeric(precision=18, scale=6)


def _id():
    return sa.Column("id", sa.UUID(), primary_key=True)


def _created(name="created_at"):
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade():
    create_platform_tables(op)
    create_audit_table(op)

    op.create_table(
        "part",
        _id(),
        sa.Column("part_number", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("uom", sa.String(16), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("lot_controlled", sa.Boolean(), nullable=False),
        sa.Column("serial_controlled", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), server_default="active", nullable=False),
        sa.Column("revision", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _created(), _created("updated_at"),
        sa.CheckConstraint("type IN ('raw','purchased','manufactured','assembly')", name="ck_part_type"),
        sa.CheckConstraint("status IN ('active','inactive','obsolete')", name="ck_part_status"),
    )
    op.create_table(
        "part_revision",
        _id(),
        sa.Column("part_id", sa.UUID(), sa.ForeignKey("part.id"), nullable=False),
        sa.Column("revision", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("created_by", sa.String(200), nullable=False),
        _created(),
        sa.UniqueConstraint("part_id", "revision", name="uq_part_revision"),
    )
    op.create_table(
        "bom",
        sa.Column("part_id", sa.UUID(), primary_key=True),
        sa.Column("revision", sa.String(16), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _created("updated_at"),
        sa.ForeignKeyConstraint(["part_id", "revision"], ["part_revision.part_id", "part_revision.revision"],
                                name="fk_bom_part_revision"),
    )
    op.create_table(
        "bom_component",
        _id(),
        sa.Column("part_id", sa.UUID(), nullable=False),
        sa.Column("revision", sa.String(16), nullable=False),
        sa.Column("component_part_id", sa.UUID(), sa.ForeignKey("part.id"), nullable=False),
        sa.Column("quantity", QTY, nullable=False),
        sa.Column("uom", sa.String(16), nullable=False),
        sa.Column("effective_from", sa.Date()),
        sa.Column("effective_to", sa.Date()),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["part_id", "revision"], ["bom.part_id", "bom.revision"], ondelete="CASCADE",
                                name="fk_bom_component_bom"),
        sa.CheckConstraint("quantity > 0", name="ck_bom_component_quantity"),
        sa.CheckConstraint("component_part_id <> part_id", name="ck_bom_component_not_itself"),
    )
    op.create_index("ix_bom_component_component", "bom_component", ["component_part_id"])
    op.create_index("ix_bom_component_bom", "bom_component", ["part_id", "revision", "position"])

    op.create_table(
        "location",
        _id(),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("site_id", sa.UUID()),
        _created(),
    )
    op.execute("CREATE SEQUENCE lot_number_seq")
    op.create_table(
        "lot",
        _id(),
        sa.Column("lot_number", sa.String(64), nullable=False),
        sa.Column("part_id", sa.UUID(), sa.ForeignKey("part.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("supplier", sa.String(200)),
        sa.Column("supplier_lot", sa.String(64)),
        sa.Column("heat_number", sa.String(64)),
        sa.Column("certificates", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column("expiry_date", sa.Date()),
        sa.Column("work_order_id", sa.UUID()),
        sa.Column("version", sa.Integer(), nullable=False),
        _created(), _created("updated_at"),
        sa.UniqueConstraint("part_id", "lot_number", name="uq_lot_part_number"),
        sa.CheckConstraint("status IN ('received','quarantine','released','consumed','expired','rejected')",
                           name="ck_lot_status"),
    )
    op.create_index("ix_lot_number", "lot", ["lot_number", "id"])
    op.create_index("ix_lot_work_order", "lot", ["work_order_id"], postgresql_where=sa.text("work_order_id IS NOT NULL"))
    op.create_table(
        "lot_balance",
        sa.Column("lot_id", sa.UUID(), sa.ForeignKey("lot.id"), primary_key=True),
        sa.Column("location_id", sa.UUID(), sa.ForeignKey("location.id"), primary_key=True),
        sa.Column("part_id", sa.UUID(), nullable=False),
        sa.Column("quantity", QTY, nullable=False),
        sa.Column("reserved", QTY, server_default="0", nullable=False),
        sa.CheckConstraint("quantity >= 0", name="ck_lot_balance_not_negative"),
        sa.CheckConstraint("reserved >= 0 AND reserved <= quantity", name="ck_lot_balance_reserved"),
    )
    op.create_index("ix_lot_balance_part", "lot_balance", ["part_id"])
    op.create_index("ix_lot_balance_location", "lot_balance", ["location_id"])

    op.create_table(
        "inventory_transaction",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("part_id", sa.UUID(), nullable=False),
        sa.Column("lot_id", sa.UUID()),
        sa.Column("serial_id", sa.UUID()),
        sa.Column("location_id", sa.UUID()),
        sa.Column("quantity", QTY, nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reference", sa.String(200)),
        sa.Column("work_order_id", sa.UUID()),
        sa.Column("operation_id", sa.UUID()),
        _created(),
        sa.CheckConstraint("type IN ('receive','issue','consume','produce','move','adjust','scrap','split','merge')",
                           name="ck_inventory_transaction_type"),
        sa.CheckConstraint("quantity <> 0", name="ck_inventory_transaction_quantity"),
    )
    op.create_index("ix_inventory_transaction_lot", "inventory_transaction", ["lot_id", "id"])
    op.create_index("ix_inventory_transaction_part", "inventory_transaction", ["part_id", "id"])
    op.create_index("ix_inventory_transaction_work_order", "inventory_transaction", ["work_order_id", "type"],
                    postgresql_where=sa.text("work_order_id IS NOT NULL"))
    create_append_only_triggers(op, "inventory_transaction", "the inventory ledger",
                                "book a correcting transaction (adjust) instead")

    op.create_table(
        "serial",
        _id(),
        sa.Column("serial_number", sa.String(100), nullable=False),
        sa.Column("part_id", sa.UUID(), sa.ForeignKey("part.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("lot_id", sa.UUID()),
        sa.Column("location_id", sa.UUID()),
        sa.Column("work_order_id", sa.UUID()),
        sa.Column("parent_serial_id", sa.UUID()),
        _created(),
        sa.UniqueConstraint("part_id", "serial_number", name="uq_serial_part_number"),
        sa.CheckConstraint("status IN ('available','consumed','assembled','scrapped')", name="ck_serial_status"),
    )
    op.create_index("ix_serial_number", "serial", ["serial_number", "id"])
    op.create_index("ix_serial_work_order", "serial", ["work_order_id"],
                    postgresql_where=sa.text("work_order_id IS NOT NULL"))

    op.create_table(
        "hold",
        _id(),
        sa.Column("target_type", sa.String(10), nullable=False),
        sa.Column("target_id", sa.UUID(), nullable=False),
        sa.Column("root_hold_id", sa.UUID(), sa.ForeignKey("hold.id")),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        _created("placed_at"),
        sa.Column("released_by", sa.String(200)),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.Column("release_reason", sa.Text()),
        sa.CheckConstraint("target_type IN ('lot','serial')", name="ck_hold_target_type"),
        sa.CheckConstraint("status IN ('active','released')", name="ck_hold_status"),
    )
    op.create_index("ix_hold_active_target", "hold", ["target_type", "target_id"],
                    postgresql_where=sa.text("status = 'active'"))
    op.create_index("ix_hold_root", "hold", ["root_hold_id"], postgresql_where=sa.text("root_hold_id IS NOT NULL"))
    op.create_index("ix_hold_placed", "hold", ["placed_at", "id"])

    op.create_table(
        "genealogy_link",
        _id(),
        sa.Column("source_type", sa.String(10), nullable=False),
        sa.Column("source_id", sa.UUID(), nullable=False),
        sa.Column("target_type", sa.String(10), nullable=False),
        sa.Column("target_id", sa.UUID(), nullable=False),
        sa.Column("relation", sa.String(16), nullable=False),
        sa.Column("quantity", QTY),
        sa.Column("work_order_id", sa.UUID()),
        sa.Column("operation_id", sa.UUID()),
        _created(),
        sa.CheckConstraint("source_type IN ('lot','serial') AND target_type IN ('lot','serial')",
                           name="ck_genealogy_link_types"),
        sa.CheckConstraint("relation IN ('split','merge','assembly','produced_from')",
                           name="ck_genealogy_link_relation"),
    )
    op.create_index("ix_genealogy_link_source", "genealogy_link", ["source_type", "source_id"])
    op.create_index("ix_genealogy_link_target", "genealogy_link", ["target_type", "target_id"])

    op.create_table(
        "reservation",
        _id(),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("work_order_id", sa.UUID()),
        sa.Column("part_id", sa.UUID()),
        sa.Column("quantity", QTY, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reference", sa.String(200)),
        sa.Column("release_reason", sa.Text()),
        _created(),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('active','released','consumed')", name="ck_reservation_status"),
    )
    op.create_index("ix_reservation_work_order", "reservation", ["work_order_id", "status"])
    op.create_index("ix_reservation_created", "reservation", ["created_at", "id"])
    op.create_table(
        "reservation_allocation",
        _id(),
        sa.Column("reservation_id", sa.UUID(), sa.ForeignKey("reservation.id"), nullable=False),
        sa.Column("lot_id", sa.UUID(), nullable=False),
        sa.Column("location_id", sa.UUID(), nullable=False),
        sa.Column("quantity", QTY, nullable=False),
        sa.Column("consumed", QTY, server_default="0", nullable=False),
        sa.CheckConstraint("quantity >= 0 AND consumed >= 0", name="ck_reservation_allocation_quantities"),
    )
    op.create_index("ix_reservation_allocation_reservation", "reservation_allocation", ["reservation_id"])
    op.create_index("ix_reservation_allocation_lot", "reservation_allocation", ["lot_id", "location_id"])

    op.create_table(
        "idempotent_request",
        sa.Column("scope", sa.String(50), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("result", postgresql.JSONB(none_as_null=True)),
        _created(),
    )


def downgrade():
    for table in ("idempotent_request", "reservation_allocation", "reservation", "genealogy_link", "hold",
                  "serial", "inventory_transaction", "lot_balance", "lot", "location", "bom_component", "bom",
                  "part_revision", "part"):
        op.drop_table(table)  # indexes and triggers go with their table
    drop_append_only_function(op, "inventory_transaction")
    op.execute("DROP SEQUENCE lot_number_seq")
    drop_audit_table(op)
    drop_platform_tables(op)
