"""Electronic signatures bound to records (mes_common.signatures): the hash,
the binding to one record and meaning, single use, read-back validity and
the database refusing to change or delete a signature or a signed record."""
import datetime as dt
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session

from mes_common import errors, signatures
from mes_common.db import make_engine

SERVICE = "work_order_service"   # a database with the signature table (made by its migrations)


class _Base(DeclarativeBase):
    pass


Signature = signatures.signature_model(_Base)


def manifest(record_id, meaning=signatures.APPROVAL, record_type="work_order", service=SERVICE, **extra):
    """What auth_service.verify_signature answers."""
    return {"signer_id": str(uuid.uuid4()), "username": "quinn", "printed_name": "Quinn Quality",
            "signed_at": dt.datetime.now(dt.timezone.utc).isoformat(), "meaning": meaning,
            "components": ["username", "password"], "nonce": str(uuid.uuid4()),
            "record": {"service": service, "type": record_type, "id": str(record_id)}, **extra}


CONTENT = {"number": "WO-000001", "quantity": 5, "operations": [{"sequence": 10, "good": 5}]}


def test_the_hash_covers_content_meaning_signer_and_time():
    at, signer = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.timezone.utc), uuid.uuid4()
    base = signatures.content_hash(CONTENT, "approval", signer, at)
    assert len(base) == 64 and base == signatures.content_hash(dict(reversed(CONTENT.items())), "approval", signer, at)
    for changed in (signatures.content_hash({**CONTENT, "quantity": 6}, "approval", signer, at),
                    signatures.content_hash(CONTENT, "review", signer, at),
                    signatures.content_hash(CONTENT, "approval", uuid.uuid4(), at),
                    signatures.content_hash(CONTENT, "approval", signer, at + dt.timedelta(microseconds=1))):
        assert changed != base


@pytest.fixture
def session(db_engines):
    with Session(db_engines[SERVICE]) as session:
        yield session


def test_a_signature_is_stored_bound_and_read_back_valid_until_the_record_changes(session):
    record_id = uuid.uuid4()
    with session.begin():
        stored = signatures.record(session, Signature, SERVICE, manifest(record_id), "work_order", record_id,
                                   signatures.APPROVAL, CONTENT)
    assert stored["valid"] and stored["printed_name"] == "Quinn Quality" and stored["meaning"] == "approval"
    [read] = signatures.for_record(session, Signature, "work_order", record_id, CONTENT)
    assert read == stored
    # a change after signing shows: the signature no longer applies to the record as it is
    [changed] = signatures.for_record(session, Signature, "work_order", record_id, {**CONTENT, "quantity": 4})
    assert changed["valid"] is False and changed["id"] == stored["id"]


@pytest.mark.parametrize("bound", [
    {"record_type": "routing"}, {"record_id": "another"}, {"meaning": signatures.REVIEW}, {"service": "resource_service"}])
def test_an_answer_is_refused_on_another_record_meaning_or_service(session, bound):
    """Attack: replaying the auth service's answer for one record onto another."""
    record_id = str(uuid.uuid4())
    answer = manifest(bound.get("record_id", record_id), bound.get("meaning", signatures.APPROVAL),
                      bound.get("record_type", "work_order"), bound.get("service", SERVICE))
    with pytest.raises(errors.RuleViolated) as exc, session.begin():
        signatures.record(session, Signature, SERVICE, answer, "work_order", record_id, signatures.APPROVAL, CONTENT)
    assert exc.value.details == {"signature": ["bound to another record or meaning"]}


def test_an_answer_is_used_once(session):
    record_id = uuid.uuid4()
    answer = manifest(record_id)
    with session.begin():
        signatures.record(session, Signature, SERVICE, answer, "work_order", record_id, signatures.APPROVAL, CONTENT)
    with pytest.raises(errors.RuleViolated) as exc, session.begin():
        signatures.record(session, Signature, SERVICE, answer, "work_order", record_id, signatures.APPROVAL, CONTENT)
    assert exc.value.details == {"signature": ["used already"]}
    assert len(signatures.for_record(session, Signature, "work_order", record_id, CONTENT)) == 1


@pytest.mark.parametrize("sql", ["DELETE FROM signature", "UPDATE signature SET printed_name = 'Mallory'",
                                 "TRUNCATE signature"])
def test_the_database_refuses_to_change_or_delete_a_signature(db_engines, service_databases, session, sql):
    record_id = uuid.uuid4()
    with session.begin():
        signatures.record(session, Signature, SERVICE, manifest(record_id), "work_order", record_id,
                          signatures.APPROVAL, CONTENT)
    service_role = make_engine(service_databases[SERVICE], pool_size=1)
    try:
        for engine in (db_engines[SERVICE], service_role):   # the owner's triggers, and the service's role
            with pytest.raises(DBAPIError) as exc, engine.begin() as conn:
                conn.execute(text(sql))
            assert exc.value.orig.pgcode == "42501", exc.value.orig
    finally:
        service_role.dispose()
    assert len(signatures.for_record(session, Signature, "work_order", record_id, CONTENT)) == 1
