"""shift calendars with exceptions; equipment states

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)


def _node():
    return sa.Column("node_id", UUID, sa.ForeignKey("equipment_node.id", ondelete="RESTRICT"), nullable=False)


def upgrade():
    op.create_table(
        "equipment_state",
        sa.Column("id", UUID, primary_key=True),
        _node(),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("reported_by", sa.String(200), nullable=False),
        sa.CheckConstraint("state IN ('running','idle','setup','down','planned_maintenance')",
                           name="ck_equipment_state_state"),
        sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ck_equipment_state_times"),
    )
    op.create_index("uq_equipment_state_open", "equipment_state", ["node_id"], unique=True,
                    postgresql_where=sa.text("ended_at IS NULL"))
    op.create_index("ix_equipment_state_node_time", "equipment_state", ["node_id", "started_at"])
    op.create_table(
        "calendar",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("node_id", UUID, sa.ForeignKey("equipment_node.id", ondelete="RESTRICT"), nullable=False,
                  unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "calendar_shift",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("calendar_id", UUID, sa.ForeignKey("calendar.id", ondelete="CASCADE"), nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("starts", sa.Time, nullable=False),
        sa.Column("ends", sa.Time, nullable=False),
        sa.Column("breaks", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_calendar_shift_weekday"),
    )
    op.create_table(
        "calendar_exception",
        sa.Column("id", UUID, primary_key=True),
        _node(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.CheckConstraint("kind IN ('holiday','shutdown')", name="ck_calendar_exception_kind"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_calendar_exception_times"),
    )
    op.create_index("ix_calendar_exception_node_time", "calendar_exception", ["node_id", "starts_at"])


def downgrade():
    op.drop_table("calendar_exception")
    op.drop_table("calendar_shift")
    op.drop_table("calendar")
    op.drop_table("equipment_state")
