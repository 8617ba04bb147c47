"""Per-service database access: engine, unit of work, platform tables.

A unit of work commits the domain rows, their audit rows and their outbox
rows in one PostgreSQL transaction (ARCHITECTURE.md §4–§5); the outbox relay
is woken right after the commit.
"""
import datetime as dt
import hashlib
import logging
import uuid

import psycopg2.extensions
from nameko.extensions import DependencyProvider
from sqlalchemy import (BigInteger, DateTime, Index, Integer, String, Text, create_engine,
                        func, insert, select, text)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from mes_common import audit as audit_trail, errors, logs, metrics, signatures
from mes_common.config import database_url
from mes_common.consumers import BROKER_ORIGIN
from mes_common.events.envelope import CloudEvent
from mes_common.events.outbox import OutboxRelay

log = logging.getLogger(__name__)

EVENT_CHUNK = 1000  # items per batch event (Transaction.emit_chunked)


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


def make_cooperative():
    """psycopg2 blocks the eventlet hub unless a wait callback is installed.
    `nameko run` (eventlet.monkey_patch) installs eventlet's; elsewhere we do."""
    if psycopg2.extensions.get_wait_callback() is None:
        from psycogreen.eventlet import patch_psycopg
        patch_psycopg()


def make_engine(url, pool_size=10, **kwargs):
    if not url.startswith("postgresql+psycopg2://"):
        raise ValueError("database URLs must name the psycopg2 driver: postgresql+psycopg2://...")
    make_cooperative()
    # no pre-ping: it costs a round trip per checkout; a connection found dead
    # fails one call (Unavailable, retried by callers and event backoff) and is replaced
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False,
                         pool_recycle=1800, **kwargs)


def platform_models(Base):
    """Define the outbox and inbox tables on a service's own Base.

    Every service database has them; their DDL lives in
    mes_common.migrations so each service's first migration creates them.
    """

    class OutboxEvent(Base):
        __tablename__ = "outbox"
        __table_args__ = (
            Index("ix_outbox_pending", "id", postgresql_where=text("published_at IS NULL")),
        )
        id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
        event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, nullable=False)
        type: Mapped[str] = mapped_column(String(200), nullable=False)
        source: Mapped[str] = mapped_column(String(100), nullable=False)
        subject: Mapped[str | None] = mapped_column(String(200))
        envelope: Mapped[dict] = mapped_column(JSONB, nullable=False)
        created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                        server_default=func.now())
        published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
        attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
        last_error: Mapped[str | None] = mapped_column(Text)
        next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                             server_default=func.now())

    class InboxEvent(Base):
        __tablename__ = "inbox"
        consumer: Mapped[str] = mapped_column(String(200), primary_key=True)
        event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
        event_type: Mapped[str] = mapped_column(String(200), nullable=False)
        received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                         server_default=func.now())

    return OutboxEvent, InboxEvent


def advisory_key(name):
    """A constant signed bigint naming a PostgreSQL advisory lock."""
    return int.from_bytes(hashlib.sha256(f"mes:{name}".encode()).digest()[:8], "big", signed=True)


def take_turn(session, name):
    """Whether this transaction may do the work `name` now: False while another
    (another instance's timer) holds it. The lock ends with the transaction.
    For periodic work that must not run twice at once and that the next tick
    of whichever instance catches up on."""
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                {"key": advisory_key(name)}).scalar())


def one_at_a_time(session, name):
    """Wait until no other transaction (another instance starting) does the work
    `name`; the lock ends with this transaction. For start-up work that reads
    what is there and adds what is missing: the second instance sees the first's rows."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(name)})


def fetch(session, column, value, what, lock=False):
    """The row whose `column` equals `value`, locked FOR UPDATE if asked, or
    NotFound saying "<what> <value> does not exist" with the column named."""
    stmt = select(column.class_).where(column == value)
    if lock:   # what another transaction committed while we waited, not the session's copy
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise errors.NotFound(f"{what} {value} does not exist", {column.key: str(value)})
    return row


class Transaction:
    """One unit of work of one worker. Re-entrant: nested `with` blocks join
    the outer transaction, which alone commits."""

    def __init__(self, provider, worker_ctx):
        self._provider = provider
        self._worker_ctx = worker_ctx
        self._session = None
        self._depth = 0
        self._emitted = []  # envelopes of this transaction, for the relay's fast path
        self._after_commit = []
        self.current_event = None   # the CloudEvent being handled, for causation

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._provider.sessionmaker()
        return self._session

    def __call__(self):
        return self

    def __enter__(self):
        self._depth += 1
        return self

    def __exit__(self, exc_type, exc, tb):
        self._depth -= 1
        if self._depth:
            return False
        if exc_type is not None:
            self.session.rollback()
            self._emitted, self._after_commit = [], []
            return _translate(exc)
        try:
            self.session.commit()
        except Exception as commit_exc:
            self.session.rollback()
            self._emitted, self._after_commit = [], []
            if _translate(commit_exc) is False:
                raise
        if self._emitted:
            emitted, self._emitted = self._emitted, []
            self._provider.relay.notify(emitted)
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # the commit stands; the callback's owner must heal (e.g. a sweep)
                log.exception("after-commit callback %r failed", callback)
        return False

    @property
    def actor(self):
        """Who this unit of work acts for (the caller's actor, else "system")."""
        ctx = self._worker_ctx.data if self._worker_ctx is not None else {}
        return ctx.get("actor") or "system"

    def after_commit(self, callback):
        """Run `callback()` once this transaction has committed (never on
        rollback). For side effects outside the database that can be redone;
        anything that must not be lost goes through `emit`."""
        self._after_commit.append(callback)

    def flush(self):
        """Flush now so constraint violations surface as typed errors here."""
        try:
            self.session.flush()
        except Exception as exc:
            _translate(exc)
            raise

    def emit(self, type_, subject, data, actor=None):
        """Record an event in the outbox, in this transaction."""
        ctx = self._worker_ctx.data if self._worker_ctx is not None else {}
        event = CloudEvent.new(
            type_=type_, source=self._provider.service_name, subject=str(subject), data=data,
            correlationid=logs.correlation_var.get() or ctx.get("correlation_id"),
            causationid=self.current_event.id if self.current_event else None,
            actor=actor or self.actor,
        )
        envelope = event.to_dict()
        self.session.execute(insert(self._provider.Outbox).values(
            event_id=uuid.UUID(event.id), type=event.type, source=event.source,
            subject=event.subject, envelope=envelope,
            # leased to this process's relay, which publishes it right after the
            # commit; the sweep takes it only if that has not happened by then
            next_attempt_at=func.now() + self._provider.relay.lease))
        self._emitted.append(envelope)
        return event

    def emit_many(self, type_, items):
        """Record one event per (subject, data) of `items` in the outbox, in one statement."""
        ctx = self._worker_ctx.data if self._worker_ctx is not None else {}
        correlation = logs.correlation_var.get() or ctx.get("correlation_id")
        causation = self.current_event.id if self.current_event else None
        events = [CloudEvent.new(type_=type_, source=self._provider.service_name, subject=str(subject), data=data,
                                 correlationid=correlation, causationid=causation, actor=self.actor)
                  for subject, data in items]
        if not events:
            return []
        envelopes = [event.to_dict() for event in events]
        lease = func.now() + self._provider.relay.lease
        # one multi-row VALUES: an executemany is a round trip a row with psycopg2
        self.session.execute(insert(self._provider.Outbox).values([
            {"event_id": uuid.UUID(e.id), "type": e.type, "source": e.source, "subject": e.subject,
             "envelope": envelope, "next_attempt_at": lease} for e, envelope in zip(events, envelopes)]))
        self._emitted.extend(envelopes)
        return events

    def apply_changes(self, row, changes, entity_type, event_type, dump):
        """Set on `row` the `changes` that differ from it; then, in this
        transaction, emit `event_type` with `{**dump(row), "changed": [names]}`
        and audit the old and new values. Returns that dump, or None when
        nothing differed (nothing written, nothing emitted)."""
        changed = {key: value for key, value in changes.items() if getattr(row, key) != value}
        if not changed:
            return None
        old = {key: getattr(row, key) for key in changed}
        for key, value in changed.items():
            setattr(row, key, value)
        self.flush()
        out = dump(row)
        self.emit(event_type, row.id, {**out, "changed": sorted(changed)})
        self.audit("update", entity_type, row.id, old=old, new=changed)
        return out

    def emit_chunked(self, type_, subject, key, items, chunk=None, **extra):
        """Record one event per `chunk` items, `{**extra, key: items[i:i + chunk]}`:
        a batch of 10,000 serials is 10 events of a size a broker and a
        consumer handle well, not one of megabytes."""
        chunk = chunk or EVENT_CHUNK
        for start in range(0, len(items), chunk):
            self.emit(type_, subject, {**extra, key: items[start:start + chunk]})

    def audit(self, action, entity_type, entity_id, old=None, new=None, reason=None, actor=None):
        """Append an audit entry (mes_common.audit) in this transaction, by the
        worker's actor (or `actor`, e.g. the name typed at a login). Holds the
        audit lock until commit: call it last."""
        if self._provider.Audit is None:
            raise RuntimeError(f"{self._provider.service_name} has no audit trail: "
                               "pass its AuditEntry model to UnitOfWork")
        ctx = self._worker_ctx.data if self._worker_ctx is not None else {}
        return audit_trail.append(
            self.session, self._provider.Audit, actor=actor or self.actor,
            action=action, entity_type=entity_type, entity_id=entity_id, old=old, new=new,
            reason=reason, correlation_id=logs.correlation_var.get() or ctx.get("correlation_id"),
            via=_via(ctx))

    def audit_many(self, action, entity_type, entries, actor=None):
        """Append one entry per (entity_id, old, new) of `entries`, chained in their order, in one statement
        (`audit` one by one costs three round trips each). Holds the audit lock until commit: call it last."""
        if self._provider.Audit is None:
            raise RuntimeError(f"{self._provider.service_name} has no audit trail: "
                               "pass its AuditEntry model to UnitOfWork")
        ctx = self._worker_ctx.data if self._worker_ctx is not None else {}
        common = {"actor": actor or self.actor, "action": action, "entity_type": entity_type, "via": _via(ctx),
                  "correlation_id": logs.correlation_var.get() or ctx.get("correlation_id")}
        return audit_trail.append_many(self.session, self._provider.Audit, [
            {**common, "entity_id": entity_id, "old": old, "new": new} for entity_id, old, new in entries])

    def sign(self, manifest, record_type, record_id, meaning, content):
        """Store the signature the auth service answered (mes_common.signatures.check)
        on this record, in this transaction; `content` is what it signs. Returns the
        signature as read back (SignatureOut), None when `manifest` is None."""
        if manifest is None:   # the platform's own call: nothing signed (ServiceBase._signature)
            return None
        if self._provider.Signature is None:
            raise RuntimeError(f"{self._provider.service_name} keeps no signatures: "
                               "pass its signature_model(Base) to UnitOfWork")
        ctx = self._worker_ctx.data if self._worker_ctx is not None else {}
        return signatures.record(self.session, self._provider.Signature, self._provider.service_name, manifest,
                                 record_type, record_id, meaning, content,
                                 correlation_id=logs.correlation_var.get() or ctx.get("correlation_id"))

    def claim(self, event, consumer):
        """Record (consumer, event id) in the inbox; False if already applied."""
        self.current_event = event
        result = self.session.execute(
            pg_insert(self._provider.Inbox)
            .values(consumer=consumer, event_id=uuid.UUID(event.id), event_type=event.type)
            .on_conflict_do_nothing())
        return result.rowcount == 1

    def claim_many(self, events, consumer):
        """Record a batch of events in the inbox in one statement; the ones not
        applied before, in their order (a repeat within the batch counts once)."""
        if not events:
            return []
        types = {}
        for event in events:
            types.setdefault(str(uuid.UUID(event.id)), event.type)
        # arrays, not a VALUES list: one statement text whatever the batch's size (compiled once, cached)
        fresh = set(self.session.execute(text(
            f"INSERT INTO {self._provider.Inbox.__table__.name} (consumer, event_id, event_type) "
            "SELECT :consumer, e.id, e.type FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[])) AS e(id, type) "
            "ON CONFLICT DO NOTHING RETURNING CAST(event_id AS text)"),
            {"consumer": consumer, "ids": list(types), "types": list(types.values())}).scalars())
        claimed = []
        for event in events:
            key = str(uuid.UUID(event.id))
            if key in fresh:
                fresh.discard(key)
                claimed.append(event)
        return claimed

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None


def _translate(exc):
    """Raise the typed error a database failure means; False if it is not one."""
    if isinstance(exc, IntegrityError):
        pgcode = getattr(exc.orig, "pgcode", None)
        diag = getattr(exc.orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        if pgcode == "23505":
            raise errors.Conflict("a record with the same unique values already exists",
                                  {"constraint": constraint}) from exc
        if pgcode == "23503":
            raise errors.Conflict("a referenced record does not exist or is still referenced",
                                  {"constraint": constraint}) from exc
        raise errors.Conflict("the change violates a database constraint",
                              {"constraint": constraint}) from exc
    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        raise errors.Unavailable("the database is unavailable", {"reason": str(exc.orig)[:200]}) from exc
    return False


class UnitOfWork(DependencyProvider):
    """Injects a per-worker Transaction; owns the engine and the outbox relay.

        with self.uow() as tx:
            tx.session.add(row)
            tx.audit("create", "site", row.id, new=payload)
            tx.emit("mes.resource.site.created", row.id, payload)
    """

    relay = OutboxRelay()

    def __init__(self, Base, Outbox, Inbox, Audit=None, Signature=None):
        self.Base, self.Outbox, self.Inbox = Base, Outbox, Inbox
        self.Audit = Audit  # the service's audit_model(Base), if it keeps an audit trail
        self.Signature = Signature  # its signature_model(Base), if it signs records
        self.engine = None
        self.sessionmaker = None
        # not in worker_ctx.data: that dict travels as message headers
        self._transactions = {}

    @property
    def service_name(self):
        return self.container.service_name

    def setup(self):
        config = self.container.config
        url = database_url(config, self.service_name)
        self.engine = make_engine(url, pool_size=int(config.get("DB_POOL_SIZE", 10)))
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.relay.attach(self.engine, self.Outbox, self.service_name)
        metrics.add_source("uow", self.service_name, self)

    def stop(self):
        metrics.remove_source("uow", self.service_name, self)
        if self.engine is not None:
            self.engine.dispose()

    kill = stop

    def get_dependency(self, worker_ctx):
        tx = self._transactions[worker_ctx] = Transaction(self, worker_ctx)
        return tx

    def worker_teardown(self, worker_ctx):
        tx = self._transactions.pop(worker_ctx, None)
        if tx is not None:
            tx.close()


class _NoRelay:
    """Outbox rows written outside a service are published by its relay's sweep."""
    lease = dt.timedelta(0)

    @staticmethod
    def notify(envelopes):
        pass


class StandaloneUnitOfWork:
    """A unit of work outside a nameko container (CLI commands, scripts): the
    same domain, audit and outbox rows in one transaction, by `actor`.

        with StandaloneUnitOfWork(url, "auth_service", Base, Outbox, Inbox, Audit).transaction("cli") as tx:
            ...
    """

    relay = _NoRelay()

    def __init__(self, url, service_name, Base, Outbox, Inbox, Audit=None, Signature=None):
        self.Base, self.Outbox, self.Inbox, self.Audit, self.Signature = Base, Outbox, Inbox, Audit, Signature
        self.service_name = service_name
        self.engine = make_engine(url, pool_size=1)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def transaction(self, actor="system"):
        return Transaction(self, _StandaloneWorker({"actor": actor}))

    def dispose(self):
        self.engine.dispose()


class _StandaloneWorker:
    def __init__(self, data):
        self.data = data


def _via(ctx):
    """How a change reached the service, beside its actor: an API token, or for a
    change no person made, the broker login its chain of calls started at."""
    if ctx.get("token_id"):
        return f"api_token:{ctx['token_id']}"
    if not ctx.get("user_id") and ctx.get(BROKER_ORIGIN):
        return f"broker:{ctx[BROKER_ORIGIN]}"
    return None
