"""The read model's tables: which generation answers (mes_common.readmodel),
and applying facts.

Queries name the schema "trace" (models.MODEL_SCHEMA) and a Generation runs
them against `trace_a` or `trace_b`; the writes of `apply` name the schema
themselves (execute_values pages of SQL).
"""
import json

from psycopg2.extras import execute_values
from mes_common.events.projections import version
from mes_common.readmodel import ReadModel
from traceability_service import domain
from traceability_service.models import GENERATIONS, MODEL_SCHEMA, ModelState

MODEL = ReadModel(ModelState, MODEL_SCHEMA, GENERATIONS, lock_key=0x7472616365,   # pg advisory lock: "trace"
                  tables={"nodes": "node", "edges": "edge", "timeline": "timeline"})
state, active, clear, counts = MODEL.state, MODEL.active, MODEL.clear, MODEL.counts


def apply(session, generation, facts_list):
    """Write the facts of a batch of events (projections.Facts) into a generation."""
    node_facts = [(node_id, node_type, attrs, known, version(facts.event))
                  for facts in facts_list for node_id, node_type, attrs, known in facts.nodes]
    nodes = domain.merge_node_facts(node_facts)
    schema = generation.schema
    _values(session, f"""
        INSERT INTO {schema}.node AS n (id, type, attrs, stamps, known) VALUES %s
        ON CONFLICT (id) DO UPDATE SET
          attrs = trace_lww_attrs(n.attrs, n.stamps, excluded.attrs, excluded.stamps),
          stamps = trace_lww_stamps(n.stamps, excluded.stamps),
          type = CASE WHEN excluded.known AND NOT n.known THEN excluded.type ELSE n.type END,  -- a named node
          known = n.known OR excluded.known""",            # takes the type its own event gives
            "(%s::uuid, %s, %s::jsonb, %s::jsonb, %s)",
            [(str(i), t, json.dumps(a), json.dumps(st), k) for i, (t, a, st, k) in sorted(nodes.items())])
    _insert_edges(session, schema, [e for f in facts_list for e in f.edges])
    timeline = {(t["node_id"], t["event_id"]): t for f in facts_list for t in f.entries}
    _values(session, f"INSERT INTO {schema}.timeline (node_id, event_id, at, type, actor, summary, data) "
                     "VALUES %s ON CONFLICT DO NOTHING",
            "(%s::uuid, %s::uuid, %s::timestamptz, %s, %s, %s, %s::jsonb)",
            [(str(t["node_id"]), str(t["event_id"]), t["at"], t["type"], t["actor"], t["summary"],
              json.dumps(t["data"])) for _, t in sorted(timeline.items(), key=lambda kv: (str(kv[0][0]),
                                                                                         str(kv[0][1])))])


def _values(session, sql, template, rows):
    """One statement per page of 1,000 rows (psycopg2's execute_values), in the
    session's transaction: a read model takes thousands of rows a second."""
    if rows:
        with session.connection().connection.cursor() as cursor:
            execute_values(cursor, sql, rows, template=template, page_size=1000)


def _insert_edges(session, schema, rows):
    """An edge several events describe (an operation's tie to its order) keeps
    the earliest time and the greatest of each value: the same whatever the order."""
    merged = {}
    for row in rows:
        seen = merged.get(row["id"])
        merged[row["id"]] = row if seen is None else {
            **seen, "at": min(seen["at"], row["at"]),
            **{k: _greatest(seen[k], row[k]) for k in ("quantity", "work_order_id", "operation_id")}}
    _values(session, f"""
        INSERT INTO {schema}.edge AS e (id, from_id, to_id, kind, quantity, work_order_id, operation_id, at)
        VALUES %s ON CONFLICT (id) DO UPDATE SET
          at = LEAST(e.at, excluded.at), quantity = GREATEST(e.quantity, excluded.quantity),
          work_order_id = GREATEST(e.work_order_id, excluded.work_order_id),
          operation_id = GREATEST(e.operation_id, excluded.operation_id)""",
            "(%s::uuid, %s::uuid, %s::uuid, %s, %s, %s::uuid, %s::uuid, %s::timestamptz)",
            [(str(r["id"]), str(r["from_id"]), str(r["to_id"]), r["kind"], r["quantity"],
              _text(r["work_order_id"]), _text(r["operation_id"]), r["at"]) for _, r in sorted(merged.items())])


def _text(value):
    return None if value is None else str(value)


def _greatest(a, b):
    return b if a is None else a if b is None else max(a, b)
