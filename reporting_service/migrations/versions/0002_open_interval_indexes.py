"""indexes that find the intervals overlapping a recent window: by their end
(open ones last), so a batch of today's events does not scan a year of history

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENERATIONS = ("report_a", "report_b")
INDEXES = (("ix_operation_interval_wc_end", "operation_interval", "\"end\""),
           ("ix_downtime_wc_end", "downtime", "ended_at"))


def upgrade():
    for schema in GENERATIONS:
        for name, table, end in INDEXES:
            op.create_index(name, table, ["work_center_id", sa.text(f"coalesce({end}, 'infinity'::timestamptz)")],
                            schema=schema)


def downgrade():
    for schema in GENERATIONS:
        for name, table, _ in INDEXES:
            op.drop_index(name, table_name=table, schema=schema)
