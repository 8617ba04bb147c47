"""skills and qualifications; routing operations name required skills

The free text of `routing_operation.required_skill` becomes, where it is a
valid skill code, a skill of the catalogue (one level, "qualified", no
re-certification: an administrator refines it) and a requirement at level 1;
anything else is kept as the operation's `skill_note`. Both lists are printed.
The text itself stays: releases signed it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""
import json
import re
import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SKILL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")   # the contract's CODE


def upgrade():
    op.create_table(
        "skill",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("levels", postgresql.JSONB, nullable=False),
        sa.Column("recertification_days", sa.Integer),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("recertification_days IS NULL OR recertification_days > 0",
                           name="ck_skill_recertification_days"),
        sa.CheckConstraint("jsonb_array_length(levels) BETWEEN 1 AND 10", name="ck_skill_levels"),
    )
    op.create_table(
        "qualification",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("skill_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("skill.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("certified_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date),
        sa.Column("certificate_ref", sa.String(100)),
        sa.Column("assessor", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("ended_by", sa.String(200)),
        sa.Column("end_reason", sa.Text),
        sa.CheckConstraint("status IN ('active','superseded','revoked','expired')", name="ck_qualification_status"),
        sa.CheckConstraint("level > 0", name="ck_qualification_level"),
        sa.CheckConstraint("expires_on IS NULL OR expires_on > certified_on", name="ck_qualification_expiry"),
    )
    op.create_index("uq_qualification_active", "qualification", ["user_id", "skill_id"], unique=True,
                    postgresql_where=sa.text("status = 'active'"))
    op.create_index("ix_qualification_expiry", "qualification", ["expires_on"],
                    postgresql_where=sa.text("status = 'active'"))
    op.create_index("ix_qualification_skill_status", "qualification", ["skill_id", "status"])
    op.create_index("ix_qualification_user", "qualification", ["user_id", "granted_at"])
    op.add_column("routing_operation", sa.Column("required_skills", postgresql.JSONB, nullable=False,
                                                 server_default="[]"))
    op.add_column("routing_operation", sa.Column("skill_note", sa.Text))
    _migrate_free_text(op.get_bind())


def _migrate_free_text(conn):
    texts = [row[0] for row in conn.execute(sa.text(
        "SELECT DISTINCT required_skill FROM routing_operation WHERE required_skill IS NOT NULL "
        "ORDER BY required_skill"))]
    codes = [t for t in texts if SKILL_CODE.match(t) and len(t) <= 64]
    notes = [t for t in texts if t not in codes]
    for code in codes:
        conn.execute(sa.text(
            "INSERT INTO skill (id, code, name, description, levels, version) VALUES "
            "(:id, :code, :code, 'made by migration 0005 from the routings'' free text', :levels, 1)"),
            {"id": uuid.uuid4(), "code": code, "levels": json.dumps(["qualified"])})
        conn.execute(sa.text(
            "UPDATE routing_operation SET required_skills = CAST(:req AS jsonb) WHERE required_skill = :code"),
            {"req": json.dumps([{"skill": code, "min_level": 1}]), "code": code})
    for note in notes:
        conn.execute(sa.text("UPDATE routing_operation SET skill_note = required_skill WHERE required_skill = :t"),
                     {"t": note})
    if codes:
        print(f"resource 0005: skills made from routing text (now required at level 1): {', '.join(codes)}")
    if notes:
        print("resource 0005: routing text kept as skill_note (no skill code; review and name skills): "
              + "; ".join(repr(n) for n in notes))


def downgrade():
    op.drop_column("routing_operation", "skill_note")
    op.drop_column("routing_operation", "required_skills")
    op.drop_table("qualification")
    op.drop_table("skill")
