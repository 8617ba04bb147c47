"""A read model kept in two generations, and its rebuild from the owners' event logs.

A read model (traceability, reporting) owns no business data: it is built only
from events, so it can be built again. Its tables exist twice, in two schemas
(`<name>_a`, `<name>_b`); one row of `model_state` says which answers. Models
name the placeholder schema and each statement runs with `schema_translate_map`
to the generation it means. Event handlers write into the active generation
under a shared advisory lock; a rebuild fills the other one and swaps them
under the exclusive lock, so no handler writes into a generation that has just
stopped answering and no query sees a half-built model.

Rebuild:
1. The generation that does not answer is emptied and marked as rebuilding.
2. Every event of every source is replayed into it, page by page in the
   owner's outbox order (`replay_events`, an RPC every service offers), one
   transaction a page, with progress reported.
3. Under the exclusive lock (event handlers wait), the events recorded since
   the rebuild began (less a margin for transactions still open then) are
   replayed again, the model finishes (`finish`: derived tables) and the new
   generation answers from the same commit. Projections are idempotent, so
   the overlap is harmless. The old generation is then emptied.
"""
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, mapped_column

from mes_common.events.envelope import CloudEvent

log = logging.getLogger(__name__)
PAGE = 2000
OPEN_TRANSACTION_MARGIN = dt.timedelta(minutes=5)


def model_state_model(base):
    """The one-row table saying which generation answers and what a rebuild did."""
    class ModelState(base):
        __tablename__ = "model_state"

        id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
        active: Mapped[str] = mapped_column(sa.String(20), nullable=False)
        rebuilding: Mapped[str | None] = mapped_column(sa.String(20))
        rebuild_started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
        rebuilt_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
        rebuild_events: Mapped[int | None] = mapped_column(sa.Integer)
    return ModelState


def create_model_state(op, generations):
    """The migration of `model_state`, the first generation answering."""
    op.create_table(
        "model_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("active", sa.String(20), nullable=False),
        sa.Column("rebuilding", sa.String(20)),
        sa.Column("rebuild_started_at", sa.DateTime(timezone=True)),
        sa.Column("rebuilt_at", sa.DateTime(timezone=True)),
        sa.Column("rebuild_events", sa.Integer),
        sa.CheckConstraint("id = 1", name="ck_model_state_one_row"),
        sa.CheckConstraint("active IN (%s)" % ", ".join(f"'{g}'" for g in generations),
                           name="ck_model_state_active"),
    )
    op.execute(f"INSERT INTO model_state (id, active) VALUES (1, '{generations[0]}')")


class Generation:
    def __init__(self, model, schema):
        assert schema in model.generations, schema
        self.model, self.schema = model, schema
        self.options = {"schema_translate_map": {model.placeholder: schema}}

    def execute(self, session, stmt, params=None):
        return session.execute(stmt, params, execution_options=self.options)

    def other(self):
        return Generation(self.model, next(g for g in self.model.generations if g != self.schema))


@dataclass(frozen=True)
class ReadModel:
    state_model: type
    placeholder: str       # the schema the models name ("trace")
    generations: tuple     # ("trace_a", "trace_b")
    lock_key: int          # pg advisory lock of the model
    tables: dict           # {label: table name} of a generation: emptied by clear, counted by counts

    def generation(self, schema):
        return Generation(self, schema)

    def state(self, session, lock=None):
        """The model_state row; `lock`: "shared" (writing events) or "exclusive" (swapping)."""
        if lock == "shared":
            session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": self.lock_key})
        elif lock == "exclusive":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": self.lock_key})
        row = session.execute(select(self.state_model).where(self.state_model.id == 1)).scalar_one_or_none()
        # the migration writes the row; a database emptied since (tests) starts as it did
        return row if row is not None else self.state_model(id=1, active=self.generations[0])

    def active(self, session, lock=None):
        return Generation(self, self.state(session, lock).active)

    def clear(self, session, generation):
        session.execute(text("TRUNCATE " + ", ".join(f"{generation.schema}.{t}" for t in self.tables.values())))

    def counts(self, session, generation):
        return {label: session.execute(text(f"SELECT count(*) FROM {generation.schema}.{table}")).scalar()
                for label, table in self.tables.items()}

    def _set_state(self, session, **values):
        stmt = insert(self.state_model).values(id=1, **values)
        session.execute(stmt.on_conflict_do_update(index_elements=[self.state_model.id], set_=values))

    def begin_rebuild(self, session, started_at):
        row = self.state(session)
        target = Generation(self, row.active).other()
        self._set_state(session, active=row.active, rebuilding=target.schema, rebuild_started_at=started_at)
        return target

    def swap(self, session, target, events, at):
        """Make `target` answer (call with the exclusive lock held)."""
        self._set_state(session, active=target.schema, rebuilding=None, rebuilt_at=at, rebuild_events=events)

    def status(self, session):
        row = self.state(session)
        return {**{c: getattr(row, c) for c in ("active", "rebuilding", "rebuild_started_at", "rebuilt_at",
                                                "rebuild_events")},
                **self.counts(session, Generation(self, row.active))}


@dataclass(frozen=True)
class Projector:
    """What a rebuild does with events: `project(CloudEvent)` → facts,
    `apply(session, generation, [facts])`, and `finish(session, generation)`
    (derived tables, under the exclusive lock before the swap), if any."""
    project: Callable
    apply: Callable
    finish: Callable | None = None


def facts_of(projector, envelopes, skipped):
    """The facts of a page; an event that cannot be projected (the one a live
    handler dead-lettered) is skipped and counted, not the end of the rebuild."""
    facts = []
    for envelope in envelopes:
        try:
            facts.append(projector.project(CloudEvent.from_dict(envelope)))
        except Exception as exc:   # noqa: BLE001 - any malformed event
            skipped.append((envelope.get("id"), envelope.get("type"), f"{type(exc).__name__}: {exc}"))
            log.warning("rebuild skips event %s (%s): %s", *skipped[-1])
    return facts


def replay(projector, sessionmaker, generation, pages, progress=None, skipped=None):
    """Apply pages of envelopes ({events, ...}) to `generation`, one transaction each; the count."""
    count, skipped = 0, [] if skipped is None else skipped
    for page in pages:
        facts = facts_of(projector, page["events"], skipped)
        with sessionmaker() as session, session.begin():
            projector.apply(session, generation, facts)
        count += len(page["events"])
        if progress:
            progress(page, count)
    return count


def log_pages(owner, since=None, page_size=PAGE):
    """The pages of one owner's event log (its replay_events RPC)."""
    after = 0
    while True:
        page = owner.replay_events({"after": after, "limit": page_size,
                                    "since": since.isoformat() if since else None})
        yield page
        if not page["more"]:
            return
        after = page["last"]


def rebuild(model, projector, sessionmaker, owners, sources, progress=None):
    """`owners`: {service name: RPC proxy}. Returns what it did."""
    started = dt.datetime.now(dt.timezone.utc)
    with sessionmaker() as session, session.begin():
        target = model.begin_rebuild(session, started)
    with sessionmaker() as session, session.begin():
        model.clear(session, target)
    total, skipped = 0, []
    for source in sources:
        total += replay(projector, sessionmaker, target, log_pages(owners[source]),
                        progress and (lambda page, n, s=source: progress(s, n, page["last"])), skipped)
    since = started - OPEN_TRANSACTION_MARGIN
    with sessionmaker() as session, session.begin():
        model.state(session, lock="exclusive")
        for source in sources:
            for page in log_pages(owners[source], since=since):
                projector.apply(session, target, facts_of(projector, page["events"], []))
        if projector.finish:
            projector.finish(session, target)
        model.swap(session, target, total, dt.datetime.now(dt.timezone.utc))
        counts = model.counts(session, target)
    with sessionmaker() as session, session.begin():
        model.clear(session, target.other())
    return {"generation": target.schema, "events": total, "skipped": skipped, **counts,
            "seconds": round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 1)}

