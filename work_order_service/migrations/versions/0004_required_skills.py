"""operations carry the routing's required skills (checked at start and resume)

An order released before keeps its operations' free-text skill as
`skill_note`: nothing to check against (its routing's text named no skill of
a catalogue then); orders released from now on carry `required_skills`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("work_order_operation", sa.Column("required_skills", postgresql.JSONB, nullable=False,
                                                    server_default="[]"))
    op.add_column("work_order_operation", sa.Column("skill_note", sa.Text))
    op.execute("UPDATE work_order_operation SET skill_note = required_skill WHERE required_skill IS NOT NULL")
    op.drop_column("work_order_operation", "required_skill")


def downgrade():
    op.add_column("work_order_operation", sa.Column("required_skill", sa.String(200)))
    op.execute("UPDATE work_order_operation SET required_skill = left(skill_note, 200)")
    op.drop_column("work_order_operation", "skill_note")
    op.drop_column("work_order_operation", "required_skills")
