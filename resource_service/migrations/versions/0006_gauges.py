"""gauges and tools: assets with calibration records and uses

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)


def _times():
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())]


def upgrade():
    op.create_table(
        "asset",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("asset_number", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("location_id", UUID, sa.ForeignKey("equipment_node.id", ondelete="RESTRICT")),
        sa.Column("calibration_interval_days", sa.Integer),
        sa.Column("calibration_interval_uses", sa.Integer),
        sa.Column("due_warning_days", sa.Integer, nullable=False, server_default="14"),
        sa.Column("next_due_on", sa.Date),
        sa.Column("uses_since_calibration", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_calibrated_on", sa.Date),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("status_reason", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        *_times(),
        sa.CheckConstraint("kind IN ('gauge','tool')", name="ck_asset_kind"),
        sa.CheckConstraint("status IN ('in_service','due','overdue','out_for_calibration','quarantined','retired')",
                           name="ck_asset_status"),
        sa.CheckConstraint("calibration_interval_days IS NULL OR calibration_interval_days > 0",
                           name="ck_asset_interval_days"),
        sa.CheckConstraint("calibration_interval_uses IS NULL OR calibration_interval_uses > 0",
                           name="ck_asset_interval_uses"),
        sa.CheckConstraint("uses_since_calibration >= 0", name="ck_asset_uses"),
    )
    op.create_index("ix_asset_due", "asset", ["next_due_on"],
                    postgresql_where=sa.text("status IN ('in_service','due')"))
    op.create_index("ix_asset_location", "asset", ["location_id"])
    op.create_table(
        "calibration",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("asset_id", UUID, sa.ForeignKey("asset.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("calibrated_on", sa.Date, nullable=False),
        sa.Column("as_found", sa.String(10), nullable=False),
        sa.Column("as_left", sa.String(10), nullable=False),
        sa.Column("certificate_number", sa.String(100)),
        sa.Column("lab", sa.String(200)),
        sa.Column("next_due_on", sa.Date),
        sa.Column("notes", sa.Text),
        sa.Column("suspect_since", sa.DateTime(timezone=True)),
        sa.Column("suspect_uses", sa.Integer, nullable=False, server_default="0"),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("as_found IN ('pass','fail')", name="ck_calibration_as_found"),
        sa.CheckConstraint("as_left IN ('pass','fail')", name="ck_calibration_as_left"),
    )
    op.create_index("ix_calibration_asset", "calibration", ["asset_id", "calibrated_on"])
    op.create_table(
        "asset_use",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("asset_id", UUID, sa.ForeignKey("asset.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("work_order_id", UUID),
        sa.Column("work_order_number", sa.String(32)),
        sa.Column("operation_id", UUID),
        sa.Column("operation_sequence", sa.Integer),
        sa.Column("inspection_id", UUID),
        sa.Column("user_id", UUID),
        sa.Column("used_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_asset_use_asset_time", "asset_use", ["asset_id", "used_at"])
    op.create_index("ix_asset_use_operation", "asset_use", ["operation_id"])


def downgrade():
    op.drop_table("asset_use")
    op.drop_table("calibration")
    op.drop_table("asset")
