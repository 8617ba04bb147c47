"""The integration service in a real container: its database (built by its
migrations) and its RPC queue."""
from sqlalchemy import text


def test_the_service_answers_over_rpc_with_its_platform_tables(rpc, db):
    assert rpc.ping()["service"] == "integration_service"
    with db.connect() as conn:
        tables = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert {"outbox", "inbox", "audit_log", "signature"} <= tables
