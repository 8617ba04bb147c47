"""Electronic signatures bound to records (21 CFR 11.50, 11.70, 11.200(a)),
built once for every service, as the audit trail is.

A service signs one of its records in two steps:

    manifest = self._signature(record_type, record_id, meaning, credentials)   # before the unit of work
    with self.uow() as tx:
        ... change the record ...
        tx.sign(manifest, record_type, record_id, meaning, content)             # same transaction

`check` (ServiceBase._signature) asks `auth_service.verify_signature` itself, for the calling user's
session, with the credentials the user typed (passed through the gateway's
body, never logged); the answer is bound to the record type and id, the
meaning and this service, and carries a nonce the `signature` table accepts
once: an answer cannot be replayed onto another record or twice onto this one.

Each `signature` row (append-only: the database refuses UPDATE, DELETE and
TRUNCATE; a signed record cannot be deleted either) holds the record, the
meaning, the signer's id and printed name, the UTC time from the database
clock, the components checked and

    content_hash = sha256(canonical_json({"content", "meaning", "signer_id", "signed_at"}))

over the record's signed content. Reading a signed record (`for_record`)
recomputes it from the record as it is now: a change after signing shows as
`valid: false`.
"""
import datetime as dt
import hashlib
import json
import uuid

from sqlalchemy import DateTime, Index, String, Text, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from mes_common import errors
from mes_common.audit import iso_utc

TABLE = "signature"
AUTH_SERVICE = "auth_service"
# what a signature means (11.50(a)(3)); the service names it per action
AUTHORSHIP, REVIEW, APPROVAL, RESPONSIBILITY, VERIFICATION = (
    "authorship", "review", "approval", "responsibility", "verification")
MEANINGS = (AUTHORSHIP, REVIEW, APPROVAL, RESPONSIBILITY, VERIFICATION)


def signature_model(Base):
    """Define the signature model on a service's own Base (the table comes from
    mes_common.migrations.create_signature_table)."""

    class Signature(Base):
        __tablename__ = TABLE
        __table_args__ = (Index("ix_signature_record", "record_type", "record_id"),)

        id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
        record_type: Mapped[str] = mapped_column(String(100), nullable=False)
        record_id: Mapped[str] = mapped_column(String(200), nullable=False)
        meaning: Mapped[str] = mapped_column(String(40), nullable=False)
        signer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
        username: Mapped[str] = mapped_column(String(64), nullable=False)
        printed_name: Mapped[str] = mapped_column(String(200), nullable=False)
        signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
        components: Mapped[list[str]] = mapped_column(ARRAY(String(20)), nullable=False)
        content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
        # the auth service's answer, usable once
        nonce: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, unique=True)
        correlation_id: Mapped[str | None] = mapped_column(Text)

    return Signature


def content_hash(content, meaning, signer_id, signed_at):
    """SHA-256 of the canonical JSON of what was signed: the record's content, the
    meaning, the signer and the time (sorted keys, no spaces, UTC with µs)."""
    canonical = json.dumps({"content": content, "meaning": meaning, "signer_id": str(signer_id),
                            "signed_at": iso_utc(signed_at)}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def jsonable(content):
    """The content as a reader gets it back from the database: UUIDs, times and
    decimals as str, and a whole number as an int (JSONB gives 1e16 back as
    10000000000000000, 10.0 as 10.0 or 10 depending on the path)."""
    return json.loads(json.dumps(content, default=str), parse_float=_number)


def _number(text):
    value = float(text)
    return int(value) if value.is_integer() else value


def check(auth, service, context, record_type, record_id, meaning, credentials):
    """The auth service's manifest for the calling user (the worker's `context`)
    signing this record of `service` with the `credentials` they typed ({username,
    password, totp}: a loaded mes_common.schemas.SignatureCredentials). `auth` is
    the service's RpcClient("auth_service")."""
    user_id, session_id = context.get("user_id"), context.get("session_id")
    if not user_id or not session_id:
        raise errors.Forbidden("a signature needs a person signed in (a session), not a machine or the CLI",
                               {"signature": ["no signed-in person"]})
    return auth.verify_signature({
        **{key: value for key, value in credentials.items() if value is not None},
        "user_id": user_id, "session_id": session_id, "meaning": meaning,
        "record": {"service": service, "type": record_type, "id": str(record_id)}})


def record(session, Signature, service, manifest, record_type, record_id, meaning, content, correlation_id=None):
    """Store the signature of `manifest` on this record, in the caller's
    transaction; the time is the database's. Refuses a manifest bound to another
    record, meaning or service, or used already."""
    bound = manifest.get("record") or {}
    if (bound.get("service"), bound.get("type"), bound.get("id"), manifest.get("meaning")) != \
            (service, record_type, str(record_id), meaning):
        raise errors.RuleViolated("the signature was given for another record or meaning",
                                  {"signature": ["bound to another record or meaning"]})
    signed_at = session.execute(select(func.clock_timestamp())).scalar_one()
    values = {"id": uuid.uuid4(), "record_type": record_type, "record_id": str(record_id), "meaning": meaning,
              "signer_id": uuid.UUID(manifest["signer_id"]), "username": manifest["username"],
              "printed_name": manifest["printed_name"], "signed_at": signed_at,
              "components": list(manifest["components"]), "nonce": uuid.UUID(manifest["nonce"]),
              "content_hash": content_hash(jsonable(content), meaning, manifest["signer_id"], signed_at),
              "correlation_id": correlation_id}
    try:
        with session.begin_nested():
            session.execute(insert(Signature.__table__).values(**values))
    except IntegrityError:
        raise errors.RuleViolated("this signature was used already", {"signature": ["used already"]}) from None
    return dump(values, valid=True)


def dump(row, valid):
    return {"id": str(row["id"]), "meaning": row["meaning"], "signer_id": str(row["signer_id"]),
            "username": row["username"], "printed_name": row["printed_name"],
            "signed_at": iso_utc(row["signed_at"]), "components": list(row["components"]), "valid": valid}


def for_record(session, Signature, record_type, record_id, content):
    """The signatures of a record, oldest first, each `valid` when the record's
    `content` now hashes as it did when it was signed."""
    return for_records(session, Signature, record_type, {record_id: content})[str(record_id)]


def for_records(session, Signature, record_type, contents):
    """{record id: [signatures]} of many records of one type ({id: content as it is now})."""
    table = Signature.__table__
    ids = [str(record_id) for record_id in contents]
    found = {record_id: [] for record_id in ids}
    if not ids:
        return found
    current = {str(record_id): jsonable(content) for record_id, content in contents.items()}
    rows = session.execute(select(table).where(table.c.record_type == record_type, table.c.record_id.in_(ids))
                           .order_by(table.c.signed_at, table.c.id)).mappings()
    for row in rows:
        valid = content_hash(current[row["record_id"]], row["meaning"], row["signer_id"],
                             row["signed_at"]) == row["content_hash"]
        found[row["record_id"]].append(dump(row, valid))
    return found
