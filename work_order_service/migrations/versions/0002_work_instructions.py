"""work instructions: versions by code, released versions immutable

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "work_instruction",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("steps", postgresql.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_by_id", postgresql.UUID(as_uuid=True)),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.Column("released_by", sa.String(200)),
        sa.Column("released_by_id", postgresql.UUID(as_uuid=True)),
        sa.Column("obsoleted_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("code", "version", name="uq_work_instruction_code_version"),
        sa.CheckConstraint("status IN ('draft','released','obsolete')", name="ck_work_instruction_status"),
        sa.CheckConstraint("version > 0", name="ck_work_instruction_version"),
    )
    # What an operator was told to do is a record: once released, a version's
    # content never changes and the version is never deleted; its status only
    # moves forward (draft → released → obsolete, or draft → obsolete).
    op.execute("""
        CREATE FUNCTION work_instruction_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.status <> 'draft' THEN
                    RAISE EXCEPTION 'work instruction % version % is %: it cannot be deleted',
                        OLD.code, OLD.version, OLD.status USING ERRCODE = 'check_violation';
                END IF;
                RETURN OLD;
            END IF;
            IF OLD.status <> 'draft' AND (NEW.id, NEW.code, NEW.version, NEW.title, NEW.steps, NEW.created_at,
                    NEW.created_by, NEW.created_by_id, NEW.released_at, NEW.released_by, NEW.released_by_id)
                    IS DISTINCT FROM (OLD.id, OLD.code, OLD.version, OLD.title, OLD.steps, OLD.created_at,
                    OLD.created_by, OLD.created_by_id, OLD.released_at, OLD.released_by, OLD.released_by_id) THEN
                RAISE EXCEPTION 'work instruction % version % is %: its content cannot change',
                    OLD.code, OLD.version, OLD.status USING ERRCODE = 'check_violation',
                    HINT = 'revise it: a new version is a draft';
            END IF;
            IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
                    (OLD.status = 'draft' AND NEW.status IN ('released', 'obsolete'))
                    OR (OLD.status = 'released' AND NEW.status = 'obsolete')) THEN
                RAISE EXCEPTION 'work instruction % version % cannot go from % to %',
                    OLD.code, OLD.version, OLD.status, NEW.status USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END
        $$""")
    op.execute("CREATE TRIGGER work_instruction_immutable BEFORE UPDATE OR DELETE ON work_instruction "
               "FOR EACH ROW EXECUTE FUNCTION work_instruction_immutable()")


def downgrade():
    op.drop_table("work_instruction")  # its trigger goes with it
    op.execute("DROP FUNCTION IF EXISTS work_instruction_immutable()")
