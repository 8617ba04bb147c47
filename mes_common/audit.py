"""Hash-chained, append-only audit trail (21 CFR 11.10(e), ARCHITECTURE.md §5).

Every service that keeps one defines `AuditEntry = audit_model(Base)` and
creates the table with `mes_common.migrations.create_audit_table(op)`, which
also installs the triggers refusing UPDATE, DELETE and TRUNCATE.

Each entry carries

    hash = sha256(prev_hash || canonical_json(entry without hash))

where canonical JSON is `json.dumps(..., sort_keys=True, separators=(",", ":"),
default=str)` of the columns (the time as ISO-8601 UTC with microseconds), and
the first entry's prev_hash is 64 zeros. Editing a row breaks its own hash;
deleting one breaks the next row's prev_hash link; `verify` names the first
broken entry. Removing the newest entries would leave a valid, shorter chain:
the chain's head is also kept in `audit_checkpoint` by a trigger running as
the table owner (mes_common.migrations.harden_audit_trail), which the
service's role can read but not write, and `verify` compares the two.

Writers serialise on a transaction-scoped advisory lock per table, taken
before the last hash is read, so concurrent workers and instances build one
linear chain; the lock goes with the commit. The id and the time are taken
under that lock from the database (one sequence, one clock), so ids and times
grow along the chain. This relies on READ COMMITTED (PostgreSQL's default):
the read after the lock must see the previous writer's commit.
"""
import datetime as dt
import hashlib
import json

from sqlalchemy import BigInteger, DateTime, Index, String, Text, func, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mes_common import paging
from mes_common.schemas import AuditEntryOut

GENESIS = "0" * 64
TABLE = "audit_log"
CHECKPOINT_TABLE = "audit_checkpoint"
FIELDS = ("id", "at", "actor", "action", "entity_type", "entity_id", "old_values", "new_values",
          "reason", "correlation_id", "prev_hash")
# hashed only when set, so entries written before it existed keep their hashes
OPTIONAL_FIELDS = ("via",)
BATCH = 1000

HASH_MISMATCH = "hash mismatch"
TAIL_MISSING = "entries missing from the end: the checkpoint records a later head"
LINK_BROKEN = "prev_hash does not match the previous entry"
ID_GAP = "gap in ids (entry deleted?)"


def audit_model(Base, table=TABLE):
    """Define the audit entry model on a service's own Base."""

    class AuditEntry(Base):
        __tablename__ = table
        __table_args__ = (
            Index(f"ix_{table}_entity", "entity_type", "entity_id", "id"),
        )
        id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
        at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
        actor: Mapped[str] = mapped_column(String(200), nullable=False)
        action: Mapped[str] = mapped_column(String(100), nullable=False)
        entity_type: Mapped[str] = mapped_column(String(100), nullable=False)
        entity_id: Mapped[str] = mapped_column(String(200), nullable=False)
        old_values: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
        new_values: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
        reason: Mapped[str | None] = mapped_column(Text)
        correlation_id: Mapped[str | None] = mapped_column(String(200))
        # how the actor acted when not in a session of their own: "api_token:<id>" (11.10(e))
        via: Mapped[str | None] = mapped_column(String(200))
        prev_hash: Mapped[str] = mapped_column(Text, nullable=False)
        hash: Mapped[str] = mapped_column(Text, nullable=False)

    AuditEntry.Checkpoint = _checkpoint_model(Base)
    return AuditEntry


def _checkpoint_model(Base):
    existing = Base.metadata.tables.get(CHECKPOINT_TABLE)
    if existing is not None:   # a second audit table of the same service shares it
        return next(m.class_ for m in Base.registry.mappers if m.local_table is existing)

    class AuditCheckpoint(Base):
        """The head of each audit chain, written by a trigger only (see harden_audit_trail)."""
        __tablename__ = CHECKPOINT_TABLE
        audit_table: Mapped[str] = mapped_column(Text, primary_key=True)
        last_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
        last_hash: Mapped[str] = mapped_column(Text, nullable=False)
        at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                server_default=func.clock_timestamp())

    return AuditCheckpoint


def lock_key(table):
    """The advisory lock id of one audit table: a constant signed bigint."""
    return int.from_bytes(hashlib.sha256(f"mes_audit:{table}".encode()).digest()[:8], "big", signed=True)


def iso_utc(value):
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def canonical_json(fields):
    """The entry as hashed: sorted keys, no spaces, time as ISO-8601 UTC (µs)."""
    fields = {**{key: fields.get(key) for key in FIELDS},
              **{key: fields[key] for key in OPTIONAL_FIELDS if fields.get(key) is not None}}
    fields["at"] = iso_utc(fields["at"])
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(prev_hash, fields):
    return hashlib.sha256((prev_hash + canonical_json({**fields, "prev_hash": prev_hash}))
                          .encode("utf-8")).hexdigest()


def jsonable(value):
    """What JSONB will give back: hash exactly what is stored (UUIDs, times, ... as str)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))


def append(session, AuditEntry, *, actor, action, entity_type, entity_id, old, new,
           reason=None, correlation_id=None, via=None):
    """Append one entry in the caller's transaction; returns its column values.

    Holds the table's advisory lock until the caller commits or rolls back:
    call it as late as possible in the unit of work."""
    table = AuditEntry.__table__
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(table.name)})
    # a new statement, so a new snapshot: sees the entry of the writer we waited for
    row = session.execute(select(
        func.nextval(func.pg_get_serial_sequence(table.name, "id")),
        func.clock_timestamp(),
        select(table.c.hash).order_by(table.c.id.desc()).limit(1).scalar_subquery(),
    )).one()
    entry_id, at, last_hash = row
    values = {
        "id": entry_id, "at": at, "actor": str(actor), "action": str(action),
        "entity_type": str(entity_type), "entity_id": str(entity_id),
        "old_values": jsonable(old), "new_values": jsonable(new),
        "reason": reason, "correlation_id": str(correlation_id) if correlation_id is not None else None,
        "via": via,
    }
    prev_hash = last_hash or GENESIS
    values["prev_hash"] = prev_hash
    values["hash"] = entry_hash(prev_hash, values)
    session.execute(insert(table).values(**values))
    return values


def append_many(session, AuditEntry, entries):
    """Append entries (dicts of `append`'s keyword arguments) in the caller's transaction, chained in their
    order: one lock, one read of the chain's head, one insert (an import of 1,000 orders is 1,000 entries,
    which one at a time cost 3,000 round trips). Returns their column values."""
    if not entries:
        return []
    table = AuditEntry.__table__
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(table.name)})
    head = session.execute(select(func.clock_timestamp(), select(table.c.hash).order_by(table.c.id.desc())
                                  .limit(1).scalar_subquery())).one()
    at, prev_hash = head[0], head[1] or GENESIS
    ids = sorted(session.execute(select(func.nextval(func.pg_get_serial_sequence(table.name, "id")))
                                 .select_from(func.generate_series(1, len(entries)))).scalars())
    rows = []
    for entry_id, entry in zip(ids, entries):
        correlation_id = entry.get("correlation_id")
        values = {
            "id": entry_id, "at": at, "actor": str(entry["actor"]), "action": str(entry["action"]),
            "entity_type": str(entry["entity_type"]), "entity_id": str(entry["entity_id"]),
            "old_values": jsonable(entry.get("old")), "new_values": jsonable(entry.get("new")),
            "reason": entry.get("reason"),
            "correlation_id": str(correlation_id) if correlation_id is not None else None,
            "via": entry.get("via"), "prev_hash": prev_hash,
        }
        values["hash"] = prev_hash = entry_hash(values["prev_hash"], values)
        rows.append(values)
    session.execute(insert(table).values(rows))   # one statement: an executemany is a round trip a row
    return rows


def query(session, AuditEntry, filters):
    """One page of entries, newest first: {"items", "next_cursor"}. `filters`
    is a loaded mes_common.schemas.AuditQuery."""
    table = AuditEntry.__table__
    stmt = select(table)
    for name in ("entity_type", "entity_id", "actor", "action"):
        if filters.get(name) is not None:
            stmt = stmt.where(table.c[name] == filters[name])
    if filters.get("since") is not None:
        stmt = stmt.where(table.c.at >= filters["since"])
    if filters.get("until") is not None:
        stmt = stmt.where(table.c.at < filters["until"])
    return paging.page(session, stmt, [(table.c.id, paging.int_key)], filters, AuditEntryOut(many=True).dump,
                       descending=True, scalars=False)


def _rows(conn, table):
    """Entries in id order, BATCH at a time (keyset), never the whole table."""
    last_id = None
    columns = [table.c[name] for name in (*FIELDS, *OPTIONAL_FIELDS, "hash")]
    while True:
        stmt = select(*columns).order_by(table.c.id).limit(BATCH)
        if last_id is not None:
            stmt = stmt.where(table.c.id > last_id)
        batch = conn.execute(stmt).mappings().all()
        if not batch:
            return
        yield from batch
        last_id = batch[-1]["id"]


def verify(session_or_conn, AuditEntry):
    """Walk the chain in id order and report the first broken link, then hold
    its head against the checkpoint.

    {"ok": bool, "entries": n, "first_broken": None | {"id", "reason"[, "hint"]}}"""
    table = AuditEntry.__table__
    count, first_broken = 0, None
    prev_hash, prev_id = GENESIS, None
    heads = {}   # id -> hash, of entries at or past the checkpoint's id
    checkpoint = _checkpoint(session_or_conn, AuditEntry)
    for row in _rows(session_or_conn, table):
        count += 1
        if checkpoint is not None and row["id"] == checkpoint["last_id"]:
            heads[row["id"]] = row["hash"]
        if first_broken is not None:
            continue  # keep counting
        if row["prev_hash"] != prev_hash:
            first_broken = {"id": row["id"], "reason": LINK_BROKEN}
            if prev_id is not None and row["id"] != prev_id + 1:
                first_broken["hint"] = ID_GAP
            elif prev_id is None and row["prev_hash"] != GENESIS:
                first_broken["hint"] = "the first entry does not start the chain (entries deleted?)"
        elif entry_hash(row["prev_hash"], dict(row)) != row["hash"]:
            first_broken = {"id": row["id"], "reason": HASH_MISMATCH}
        prev_hash, prev_id = row["hash"], row["id"]
    if first_broken is None and checkpoint is not None and \
            heads.get(checkpoint["last_id"]) != checkpoint["last_hash"]:
        first_broken = {"id": checkpoint["last_id"], "reason": TAIL_MISSING,
                        "hint": f"the chain ends at {prev_id}; the checkpoint of {checkpoint['at']} "
                                f"records entry {checkpoint['last_id']} ({checkpoint['last_hash'][:12]}…)"}
    return {"ok": first_broken is None, "entries": count, "first_broken": first_broken}


def _checkpoint(session_or_conn, AuditEntry):
    model = getattr(AuditEntry, "Checkpoint", None)
    if model is None:
        return None
    table = model.__table__
    return session_or_conn.execute(select(table).where(table.c.audit_table == AuditEntry.__table__.name)) \
        .mappings().first()
