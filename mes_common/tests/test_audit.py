"""The hash-chained audit trail: hashing, chaining, append-only triggers,
tamper detection (also through `mes audit verify`) and concurrent writers."""
import datetime as dt
import hashlib
import json

import eventlet
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from mes_common import audit, registry
from mes_common.cli import main
from mes_common.db import make_engine
from mes_common.testing.fixtures import isolated_config
from sqlalchemy.orm import DeclarativeBase

SERVICE = "resource_service"


class _Base(DeclarativeBase):
    pass


# the platform's audit table, as every service database has it (made by its migrations)
AuditEntry = audit.audit_model(_Base)


# --- canonical hashing (no database) ---------------------------------------

def fields(**overrides):
    base = {"id": 1, "at": dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc),
            "actor": "alice", "action": "create", "entity_type": "equipment_node", "entity_id": "n1",
            "old_values": None, "new_values": {"b": 1, "a": [1, "x"]}, "reason": None,
            "correlation_id": "c1", "prev_hash": audit.GENESIS}
    return {**base, **overrides}


def test_canonical_json_is_sorted_compact_and_utc_with_microseconds():
    cet = dt.timezone(dt.timedelta(hours=1))
    out = audit.canonical_json(fields(at=dt.datetime(2026, 1, 2, 4, 4, 5, 6, tzinfo=cet), hash="ignored"))
    assert out == ('{"action":"create","actor":"alice","at":"2026-01-02T03:04:05.000006+00:00",'
                   '"correlation_id":"c1","entity_id":"n1","entity_type":"equipment_node","id":1,'
                   '"new_values":{"a":[1,"x"],"b":1},"old_values":null,'
                   '"prev_hash":"' + "0" * 64 + '","reason":null}')
    with pytest.raises(ValueError):
        audit.canonical_json(fields(at=dt.datetime(2026, 1, 2)))


def test_entry_hash_is_sha256_of_prev_hash_and_canonical_entry():
    f = fields()
    expected = hashlib.sha256((audit.GENESIS + audit.canonical_json(f)).encode()).hexdigest()
    assert audit.entry_hash(audit.GENESIS, f) == expected
    assert len(expected) == 64
    # any field, and the previous hash, change it
    assert audit.entry_hash(audit.GENESIS, fields(actor="mallory")) != expected
    assert audit.entry_hash(audit.GENESIS, fields(new_values={"b": 2, "a": [1, "x"]})) != expected
    assert audit.entry_hash("f" * 64, fields(prev_hash="f" * 64)) != expected
    # key order of the values does not
    assert audit.entry_hash(audit.GENESIS, fields(new_values={"a": [1, "x"], "b": 1})) == expected


def test_values_are_stored_as_json_gives_them_back():
    import uuid
    u = uuid.uuid4()
    assert audit.jsonable({"id": u, "n": 1.5, "t": dt.datetime(2026, 1, 1)}) == {
        "id": str(u), "n": 1.5, "t": "2026-01-01 00:00:00"}


# --- against a database built by the resource service's migrations -------

@pytest.fixture
def engine(db_engines):
    return db_engines[SERVICE]


def write(engine, n, start=0, **kwargs):
    for i in range(start, start + n):
        with Session(engine) as session, session.begin():
            audit.append(session, AuditEntry, actor=kwargs.get("actor", "alice"), action="update",
                         entity_type="equipment_node", entity_id=f"n{i}", old={"name": f"old {i}"},
                         new={"name": f"new {i}"}, reason=kwargs.get("reason"), correlation_id=f"c{i}")


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM audit_log ORDER BY id")).mappings().all()


def verify(engine):
    with engine.connect() as conn:
        return audit.verify(conn, AuditEntry)


def tamper(engine, sql):
    """What a superuser can do: bypass the triggers for one transaction."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(sql))


def test_entries_chain_and_verify(engine, monkeypatch):
    assert verify(engine) == {"ok": True, "entries": 0, "first_broken": None}
    write(engine, 5, reason="typo")
    entries = rows(engine)
    assert [e["id"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev_hash"] == audit.GENESIS
    for prev, entry in zip(entries, entries[1:]):
        assert entry["prev_hash"] == prev["hash"]
        assert entry["at"] >= prev["at"]
    for entry in entries:
        assert entry["hash"] == audit.entry_hash(entry["prev_hash"], dict(entry))
    first = entries[0]
    assert (first["actor"], first["entity_id"], first["old_values"], first["new_values"], first["reason"],
            first["correlation_id"]) == ("alice", "n0", {"name": "old 0"}, {"name": "new 0"}, "typo", "c0")
    assert first["at"].utcoffset() is not None
    monkeypatch.setattr(audit, "BATCH", 2)  # streamed in batches
    assert verify(engine) == {"ok": True, "entries": 5, "first_broken": None}


def test_a_batch_chains_like_single_entries_and_verifies(engine):
    write(engine, 2)
    with Session(engine) as session, session.begin():
        audit.append_many(session, AuditEntry, [
            {"actor": "bob", "action": "create", "entity_type": "work_order", "entity_id": f"w{i}", "old": None,
             "new": {"number": f"WO-{i}"}, "correlation_id": "batch"} for i in range(4)])
    write(engine, 1, start=9)
    entries = rows(engine)
    assert [e["entity_id"] for e in entries] == ["n0", "n1", "w0", "w1", "w2", "w3", "n9"]
    for prev, entry in zip(entries, entries[1:]):
        assert entry["prev_hash"] == prev["hash"] and entry["id"] > prev["id"]
        assert entry["hash"] == audit.entry_hash(entry["prev_hash"], dict(entry))
    assert verify(engine) == {"ok": True, "entries": 7, "first_broken": None}
    tamper(engine, "UPDATE audit_log SET new_values = '{\"number\": \"WO-X\"}' WHERE entity_id = 'w2'")
    assert verify(engine)["first_broken"]["id"] == entries[4]["id"]


def test_none_is_sql_null(engine):
    with Session(engine) as session, session.begin():
        audit.append(session, AuditEntry, actor="a", action="create", entity_type="t", entity_id="1",
                     old=None, new={"x": 1})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT old_values IS NULL FROM audit_log")).scalar() is True
    assert verify(engine)["ok"]


@pytest.mark.parametrize("sql", ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log",
                                 "TRUNCATE audit_log"])
def test_update_delete_truncate_are_refused(engine, sql):
    write(engine, 2)
    with pytest.raises(DBAPIError) as exc:
        with engine.begin() as conn:
            conn.execute(text(sql))
    assert "append-only" in str(exc.value.orig)
    assert exc.value.orig.pgcode == "42501"
    assert len(rows(engine)) == 2 and verify(engine)["ok"]


def test_edited_entry_is_the_first_broken_link(engine, monkeypatch):
    write(engine, 5)
    tamper(engine, """UPDATE audit_log SET new_values = '{"name": "forged"}' WHERE id = 3""")
    assert verify(engine) == {"ok": False, "entries": 5, "first_broken": {"id": 3, "reason": audit.HASH_MISMATCH}}
    # re-hashing the edited entry moves the break to the next one's link
    entry = dict(rows(engine)[2])
    tamper(engine, f"UPDATE audit_log SET hash = '{audit.entry_hash(entry['prev_hash'], entry)}' WHERE id = 3")
    monkeypatch.setattr(audit, "BATCH", 2)
    assert verify(engine)["first_broken"] == {"id": 4, "reason": audit.LINK_BROKEN}


def test_deleted_entry_is_detected(engine):
    write(engine, 5)
    tamper(engine, "DELETE FROM audit_log WHERE id = 2")
    assert verify(engine) == {"ok": False, "entries": 4, "first_broken": {
        "id": 3, "reason": audit.LINK_BROKEN, "hint": audit.ID_GAP}}


def test_deleted_first_entry_is_detected(engine):
    write(engine, 3)
    tamper(engine, "DELETE FROM audit_log WHERE id = 1")
    broken = verify(engine)["first_broken"]
    assert broken["id"] == 2 and broken["reason"] == audit.LINK_BROKEN


def test_entry_inserted_out_of_chain_is_detected(engine):
    write(engine, 3)
    entry = dict(rows(engine)[1])  # a copy of entry 2, appended as if it followed entry 2 again
    entry.update(id=4, actor="mallory")
    entry["hash"] = audit.entry_hash(entry["prev_hash"], entry)
    with engine.begin() as conn:  # INSERT is allowed: only the chain can tell
        conn.execute(AuditEntry.__table__.insert().values(**entry))
    assert verify(engine)["first_broken"] == {"id": 4, "reason": audit.LINK_BROKEN}


def run_cli(tmp_path, config, *args):
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(main, ["--config", str(path), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_mes_audit_verify(engine, tmp_path, base_config, service_databases):
    config = isolated_config(base_config, base_config["AMQP_URI"], service_databases, "unused")
    write(engine, 4)
    code, out = run_cli(tmp_path, config, "audit", "verify")
    assert code == 0
    assert out.splitlines() == [f"{spec.name}: ok, {4 if spec.name == 'resource_service' else 0} entries"
                                for spec in registry.SERVICES]
    code, out = run_cli(tmp_path, config, "audit", "verify", SERVICE, "--json")
    assert code == 0 and json.loads(out)[SERVICE] == {"ok": True, "entries": 4, "first_broken": None}

    tamper(engine, "UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    code, out = run_cli(tmp_path, config, "audit", "verify", SERVICE)
    assert (code, out) == (1, "resource_service: BROKEN at entry 2: hash mismatch\n")

    tamper(engine, "DELETE FROM audit_log WHERE id = 2")
    code, out = run_cli(tmp_path, config, "audit", "verify")
    assert code == 1 and out.splitlines()[:2] == [
        "auth_service: ok, 0 entries",
        "resource_service: BROKEN at entry 3: prev_hash does not match the previous entry (gap in ids (entry deleted?))"]


@pytest.mark.parametrize("sql", [
    "DROP TRIGGER audit_log_no_update_delete ON audit_log", "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "SET session_replication_role = replica", "UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log",
    "TRUNCATE audit_log", "DROP TABLE audit_log", "UPDATE audit_checkpoint SET last_id = 1",
    "DELETE FROM audit_checkpoint", "INSERT INTO audit_checkpoint VALUES ('audit_log', 1, 'x')"])
def test_the_service_role_cannot_erase_its_tracks(engine, service_databases, sql):
    """Attack 9: what the service's own database role (a compromised service) can do to
    its audit trail: append and read, nothing else."""
    write(engine, 2)
    service = make_engine(service_databases[SERVICE], pool_size=1)
    try:
        with pytest.raises(DBAPIError) as exc:
            with service.begin() as conn:
                conn.execute(text(sql))
        assert exc.value.orig.pgcode == "42501", exc.value.orig   # insufficient privilege
        write(service, 1)
        assert verify(service) == {"ok": True, "entries": 3, "first_broken": None}
    finally:
        service.dispose()


def test_a_truncated_tail_is_named_by_mes_audit_verify(engine, tmp_path, base_config, service_databases):
    """Removing the newest entries leaves a valid, shorter chain: the checkpoint, kept
    where the service role cannot write, names what is missing."""
    write(engine, 5)
    tamper(engine, "DELETE FROM audit_log WHERE id > 3")
    broken = verify(engine)["first_broken"]
    assert (broken["id"], broken["reason"]) == (5, audit.TAIL_MISSING) and "ends at 3" in broken["hint"]
    config = isolated_config(base_config, base_config["AMQP_URI"], service_databases, "unused")
    code, out = run_cli(tmp_path, config, "audit", "verify", SERVICE)
    assert code == 1 and out.startswith(f"{SERVICE}: BROKEN at entry 5: {audit.TAIL_MISSING}"), out


def test_concurrent_appends_keep_one_linear_chain(service_databases, engine):
    writers = make_engine(service_databases[SERVICE], pool_size=10)

    def append(i):
        with Session(writers) as session, session.begin():
            session.execute(text("SELECT pg_sleep(0.005)"))  # transactions overlap
            audit.append(session, AuditEntry, actor=f"worker {i}", action="create",
                         entity_type="t", entity_id=str(i), old=None, new={"i": i})
            session.execute(text("SELECT pg_sleep(0.005)"))  # and hold the lock a while
        return i

    try:
        pool = eventlet.GreenPool(10)
        assert sorted(pool.imap(append, range(10))) == list(range(10))
    finally:
        writers.dispose()
    entries = rows(engine)
    assert len(entries) == 10
    assert len({e["prev_hash"] for e in entries}) == 10  # no fork: every hash followed once
    assert {e["entity_id"] for e in entries} == {str(i) for i in range(10)}
    assert verify(engine) == {"ok": True, "entries": 10, "first_broken": None}
