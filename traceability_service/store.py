"""The read model's tables: which generation answers, and applying facts.

Statements name the schema "trace" (models.MODEL_SCHEMA); a Generation runs
them against `trace_a` or `trace_b`. Event handlers apply to the active one
under a shared advisory lock; a rebuild's swap takes it exclusively, so no
handler writes into a generation that has just stopped answering.
"""
from sqlalchemy import case, func, select, text
from sqlalchemy.dialects.postgresql import insert

from traceability_service import domain
from traceability_service.models import GENERATIONS, MODEL_SCHEMA, Edge, ModelState, Node, TimelineEntry
from traceability_service.projections import version

MODEL_LOCK = 0x7472616365   # pg advisory lock key: "trace"
CHUNK = 1000                # rows per INSERT statement


class Generation:
    def __init__(self, schema):
        assert schema in GENERATIONS, schema
        self.schema = schema
        self.options = {"schema_translate_map": {MODEL_SCHEMA: schema}}

    def execute(self, session, stmt, params=None):
        return session.execute(stmt, params, execution_options=self.options)

    def other(self):
        return Generation(next(g for g in GENERATIONS if g != self.schema))


def state(session, lock=None):
    """The model_state row; `lock`: "shared" (writing events) or "exclusive" (swapping)."""
    if lock == "shared":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": MODEL_LOCK})
    elif lock == "exclusive":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MODEL_LOCK})
    row = session.execute(select(ModelState).where(ModelState.id == 1)).scalar_one_or_none()
    # the migration writes the row; a database emptied since (tests) starts as it did
    return row if row is not None else ModelState(id=1, active=GENERATIONS[0])


def active(session, lock=None):
    return Generation(state(session, lock).active)


def apply(session, generation, facts_list):
    """Write the facts of a batch of events (projections.Facts) into a generation."""
    node_facts = [(node_id, node_type, attrs, known, version(facts.event))
                  for facts in facts_list for node_id, node_type, attrs, known in facts.nodes]
    nodes = domain.merge_node_facts(node_facts)
    rows = [{"id": node_id, "type": t, "attrs": attrs, "stamps": stamps, "known": known}
            for node_id, (t, attrs, stamps, known) in sorted(nodes.items(), key=lambda kv: kv[0])]
    for start in range(0, len(rows), CHUNK):
        stmt = insert(Node).values(rows[start:start + CHUNK])
        new = stmt.excluded
        generation.execute(session, stmt.on_conflict_do_update(index_elements=[Node.id], set_={
            "attrs": func.trace_lww_attrs(Node.attrs, Node.stamps, new.attrs, new.stamps),
            "stamps": func.trace_lww_stamps(Node.stamps, new.stamps),
            "type": _type_of(Node, new),
            "known": Node.known | new.known}))
    _insert_edges(session, generation, [e for f in facts_list for e in f.edges])
    _insert_new(session, generation, TimelineEntry, [t for f in facts_list for t in f.entries],
                ("node_id", "event_id"))


def _type_of(Node, new):
    """A node first named by another event takes the type its own event gives."""
    return case((new.known & ~Node.known, new.type), else_=Node.type)


def _insert_edges(session, generation, rows):
    """An edge several events describe (an operation's tie to its order) keeps
    the earliest time and the greatest of each value: the same whatever the order."""
    merged = {}
    for row in rows:
        seen = merged.get(row["id"])
        merged[row["id"]] = row if seen is None else {
            **seen, "at": min(seen["at"], row["at"]),
            **{k: _greatest(seen[k], row[k]) for k in ("quantity", "work_order_id", "operation_id")}}
    ordered = [merged[k] for k in sorted(merged)]
    for start in range(0, len(ordered), CHUNK):
        stmt = insert(Edge).values(ordered[start:start + CHUNK])
        new = stmt.excluded
        generation.execute(session, stmt.on_conflict_do_update(index_elements=[Edge.id], set_={
            "at": func.least(Edge.at, new.at), "quantity": func.greatest(Edge.quantity, new.quantity),
            "work_order_id": func.greatest(Edge.work_order_id, new.work_order_id),
            "operation_id": func.greatest(Edge.operation_id, new.operation_id)}))


def _greatest(a, b):
    return b if a is None else a if b is None else max(a, b)


def _insert_new(session, generation, model, rows, keys):
    unique = {tuple(row[k] for k in keys): row for row in rows}
    ordered = [unique[k] for k in sorted(unique, key=lambda k: tuple(str(v) for v in k))]
    for start in range(0, len(ordered), CHUNK):
        generation.execute(session, insert(model).values(ordered[start:start + CHUNK]).on_conflict_do_nothing())


def clear(session, generation):
    schema = generation.schema   # a text statement is not translated
    session.execute(text(f"TRUNCATE {schema}.node, {schema}.edge, {schema}.timeline"))


def begin_rebuild(session, started_at):
    row = state(session)
    target = Generation(row.active).other()
    _set_state(session, active=row.active, rebuilding=target.schema, rebuild_started_at=started_at)
    return target


def _set_state(session, **values):
    stmt = insert(ModelState).values(id=1, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=[ModelState.id], set_=values))


def swap(session, target, events, at):
    """Make `target` answer (call with the exclusive lock held)."""
    _set_state(session, active=target.schema, rebuilding=None, rebuilt_at=at, rebuild_events=events)


def counts(session, generation):
    return {name: generation.execute(session, select(func.count()).select_from(model)).scalar()
            for name, model in (("nodes", Node), ("edges", Edge), ("timeline", TimelineEntry))}
