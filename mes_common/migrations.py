"""One Alembic environment per service database, built here once.

A service's `migrations/env.py` is two lines (`run_env(Base.metadata)`); its
first revision calls `create_platform_tables(op)` for the outbox and inbox.
"""
import importlib

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.dialects import postgresql

from mes_common.db import make_engine


def alembic_config(service_name, url):
    module = importlib.import_module(service_name)
    cfg = Config()
    cfg.set_main_option("script_location", f"{module.__name__}:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["service_name"] = service_name
    return cfg


def upgrade(service_name, url, revision="head", admin_url=None):
    """Migrate the database of `url`. With `admin_url` (a superuser of that
    server) the migrations run as the database's owner role and the service
    role (the user of `url`) is then granted what it needs and no more (see
    grant_service_role); without, they run as the user of `url`."""
    _run_command(command.upgrade, service_name, url, revision, admin_url)


def downgrade(service_name, url, revision, admin_url=None):
    _run_command(command.downgrade, service_name, url, revision, admin_url)


def _run_command(run, service_name, url, revision, admin_url):
    cfg = alembic_config(service_name, url)
    if admin_url is None:
        run(cfg, revision)
        return
    from mes_common import infra
    service = make_url(url)
    admin = make_url(admin_url).set(host=service.host, port=service.port, database=service.database)
    engine = make_engine(admin.render_as_string(hide_password=False), pool_size=1)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'SET ROLE "{infra.owner_role(service.username)}"')
            conn.commit()
            cfg.attributes["connection"] = conn
            run(cfg, revision)
            grant_service_role(conn, service.username)
            conn.commit()
    finally:
        engine.dispose()


def grant_service_role(conn, role):
    """What a service's role may do in its database (run as the owner, after
    every migration): read and write its tables, except that append-only ones
    (audit trails, ledgers: tables with `*_no_update_delete` triggers) take
    INSERT and SELECT only and the audit checkpoint SELECT only. It owns
    nothing, so it cannot alter a table or drop a trigger."""
    role = f'"{role}"'
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {role}")
    conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    # a read model's generations (schemas of its own beside public): a rebuild empties one
    for schema in conn.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspowner = current_user::regrole "
                                       "AND nspname <> 'public'")).scalars():
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        conn.exec_driver_sql(f'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA "{schema}" '
                             f'TO {role}')
    conn.exec_driver_sql(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    append_only = conn.execute(sa.text("SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE :p"),
                               {"p": r"%\_no\_update\_delete"}).scalars().all()
    read_only = [name for name in ("audit_checkpoint", "alembic_version")
                 if conn.execute(sa.text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None]
    for table in append_only:
        conn.exec_driver_sql(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}")
    for table in read_only:
        conn.exec_driver_sql(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {role}")


def service_role_problems(url):
    """What would let the service's role (the user of `url`) get round its audit
    trail: being a superuser, or owning tables (it could drop their triggers)."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            role, superuser = conn.execute(sa.text(
                "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")).one()
            owned = conn.execute(sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                                         "AND tableowner = current_user")).scalar()
    finally:
        engine.dispose()
    problems = []
    if superuser:
        problems.append(f"the service role {role} is a superuser: it could drop the audit trail's triggers "
                        "(a container volume made before owner roles? see README, Containers)")
    if owned:
        problems.append(f"the service role {role} owns {owned} table(s): it could drop their triggers "
                        "(`mes db create` with an admin login hands them to the owner role)")
    return problems


def head(service_name):
    """The newest revision of a service's migrations (what `mes migrate` goes to)."""
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(alembic_config(service_name, "postgresql+psycopg2://")).get_current_head()


def current(service_name, url):
    from alembic.runtime.migration import MigrationContext
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def run_env(target_metadata):
    """Body of every service's migrations/env.py (online mode only: the
    databases are always reachable when we migrate)."""
    url = context.config.get_main_option("sqlalchemy.url")
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        _run(connectable, target_metadata)
        return
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            _run(connection, target_metadata)
    finally:
        engine.dispose()


def _run(connection, target_metadata):
    context.configure(connection=connection, target_metadata=target_metadata,
                      compare_type=True, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


def create_platform_tables(op):
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200)),
        sa.Column("envelope", postgresql.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ix_outbox_pending", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def drop_platform_tables(op):
    op.drop_table("inbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")


def create_audit_table(op, table="audit_log"):
    """The hash-chained audit trail (mes_common.audit) and the triggers that
    make it append-only: UPDATE and DELETE (per row) and TRUNCATE are refused.
    Only a superuser can get round them (session_replication_role = replica)."""
    op.create_table(
        table,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(100), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("old_values", postgresql.JSONB(none_as_null=True)),
        sa.Column("new_values", postgresql.JSONB(none_as_null=True)),
        sa.Column("reason", sa.Text),
        sa.Column("correlation_id", sa.String(200)),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    op.create_index(f"ix_{table}_entity", table, ["entity_type", "entity_id", "id"])
    create_append_only_triggers(op, table, "the audit trail", "audit entries can only be inserted (21 CFR 11.10(e))")


def harden_audit_trail(op, table="audit_log"):
    """The second step of every audit trail (ARCHITECTURE.md §5, 21 CFR 11.10(e)):
    - `via`: an API token's id next to its owner; hashed only when set, so
      existing chains stay valid;
    - `audit_checkpoint`: the chain's head (last id and hash), kept by a
      trigger running as the table owner (SECURITY DEFINER): the service role
      reads it but cannot rewrite it, so `mes audit verify` names entries
      removed from the tail."""
    op.add_column(table, sa.Column("via", sa.String(200)))
    op.execute("""
        CREATE TABLE IF NOT EXISTS audit_checkpoint (
            audit_table text PRIMARY KEY,
            last_id bigint NOT NULL,
            last_hash text NOT NULL,
            at timestamptz NOT NULL DEFAULT clock_timestamp())""")
    op.execute(f"""
        CREATE FUNCTION {table}_checkpoint() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
            INSERT INTO audit_checkpoint AS c (audit_table, last_id, last_hash)
                VALUES (TG_TABLE_NAME, NEW.id, NEW.hash)
            ON CONFLICT (audit_table) DO UPDATE
                SET last_id = EXCLUDED.last_id, last_hash = EXCLUDED.last_hash, at = clock_timestamp()
                WHERE c.last_id < EXCLUDED.last_id;
            RETURN NULL;
        END
        $$""")
    op.execute(f"REVOKE ALL ON FUNCTION {table}_checkpoint() FROM PUBLIC")
    op.execute(f"CREATE TRIGGER {table}_checkpoint AFTER INSERT ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {table}_checkpoint()")
    # the head of a trail written before the checkpoint existed
    op.execute(f"""
        INSERT INTO audit_checkpoint (audit_table, last_id, last_hash)
        SELECT '{table}', id, hash FROM {table} ORDER BY id DESC LIMIT 1
        ON CONFLICT (audit_table) DO NOTHING""")


def create_signature_table(op):
    """The `signature` table of mes_common.signatures: append-only (as the audit
    trail), one nonce once."""
    op.create_table(
        "signature",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("record_type", sa.String(100), nullable=False),
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("meaning", sa.String(40), nullable=False),
        sa.Column("signer_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("printed_name", sa.String(200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("components", postgresql.ARRAY(sa.String(20)), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("nonce", postgresql.UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("correlation_id", sa.Text),
    )
    op.create_index("ix_signature_record", "signature", ["record_type", "record_id"])
    create_append_only_triggers(op, "signature", "the signature record",
                                "electronic signatures are never changed or removed (21 CFR 11.70)")


def drop_signature_table(op):
    op.drop_index("ix_signature_record", table_name="signature")
    op.drop_table("signature")
    drop_append_only_function(op, "signature")


def protect_signed_records(op, table, record_type, key_sql="OLD.id::text"):
    """Refuse DELETE of a row of `table` that has signatures of `record_type`
    (`key_sql`: the row's record id as signed): a signed record stays (21 CFR 11.70)."""
    op.execute(f"""
        CREATE FUNCTION {table}_keep_signed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM signature WHERE record_type = '{record_type}'
                       AND record_id = {key_sql}) THEN
                RAISE EXCEPTION '% % is signed: DELETE refused', '{record_type}', OLD.id
                    USING ERRCODE = 'insufficient_privilege',
                          HINT = 'a signed record is kept with its signatures (21 CFR 11.70)';
            END IF;
            RETURN OLD;
        END
        $$""")
    op.execute(f"CREATE TRIGGER {table}_keep_signed BEFORE DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {table}_keep_signed()")


def unprotect_signed_records(op, table):
    op.execute(f"DROP TRIGGER IF EXISTS {table}_keep_signed ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_keep_signed()")


def soften_audit_trail(op, table="audit_log"):
    """Undo harden_audit_trail."""
    op.execute(f"DROP TRIGGER IF EXISTS {table}_checkpoint ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_checkpoint()")
    op.execute(f"DELETE FROM audit_checkpoint WHERE audit_table = '{table}'")
    op.execute("DROP TABLE IF EXISTS audit_checkpoint")   # fails while another trail still uses it: fine
    op.drop_column(table, "via")


def drop_audit_table(op, table="audit_log"):
    op.execute("DROP TABLE IF EXISTS audit_checkpoint")
    op.drop_index(f"ix_{table}_entity", table_name=table)
    op.drop_table(table)
    op.execute(f"DROP FUNCTION IF EXISTS {table}_checkpoint()")
    drop_append_only_function(op, table)


def create_append_only_triggers(op, table, what, hint):
    """Refuse UPDATE and DELETE (per row) and TRUNCATE on `table` (an immutable
    record such as an audit trail or a ledger); `what` names it in the error."""
    op.execute(f"""
        CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{what} "%" is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = '{hint}';
        END
        $$""")
    op.execute(f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
    op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")


def drop_append_only_function(op, table):
    # DROP TABLE fires no trigger; the triggers go with the table, the function stays
    op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
