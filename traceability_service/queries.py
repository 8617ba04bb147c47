"""Reading the model: nodes, traces, recalls and timelines.

A trace walks the edge table breadth-first, one indexed query per level for
the whole frontier (`= ANY(array)` on the to/from index), so its cost follows
the size of the answer, not of the graph (docs/architecture.md, Traceability).
"""
import csv
import datetime as dt
import io

from sqlalchemy import Text, any_, bindparam, cast, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from mes_common import errors, paging
from mes_common.schemas import decode_cursor, encode_cursor
from traceability_service import domain, store
from traceability_service.contract import DIRECTORY_TYPES, EDGE_KINDS, MAX_DEPTH, NODE_TYPES
from traceability_service.contract.schemas import (GenealogyNodeOut, TimelineEntryOut, TraceNodeOut,
                                                   TraceOut)
from traceability_service.models import Edge, Node, TimelineEntry

node_out, trace_out = GenealogyNodeOut(), TraceOut()
trace_node_out, timeline_entry_out = TraceNodeOut(), TimelineEntryOut()
# Walks handle ids as text: a big trace reads hundreds of thousands of ids, and
# parsing each into a UUID object costs more than the index probes.
_IDS = bindparam("ids", type_=ARRAY(UUID(as_uuid=False)))
_NODE_COLUMNS = (cast(Node.id, Text).label("id"), Node.type, Node.number, Node.known, Node.attrs)


def _node(session, generation, node_id):
    return _genealogy_node(generation.execute(session, select(Node).where(Node.id == node_id)).scalar_one_or_none(),
                           node_id)


def _genealogy_node(node, node_id):
    """`node` (a row or None) if it is a node of the genealogy, else NotFound naming node_id."""
    if node is None or node.type in DIRECTORY_TYPES:
        raise errors.NotFound(f"node {node_id} is not in the genealogy", {"node_id": str(node_id)})
    return node


def get_node(session, node_id):
    return node_out.dump(_node(session, store.active(session), node_id))


def find_nodes(session, query):
    generation = store.active(session)
    stmt = select(Node).where(Node.number == query["number"], Node.type.in_(NODE_TYPES))
    if query.get("type"):
        stmt = stmt.where(Node.type == query["type"])
    return paging.page(_Translated(session, generation), stmt, [(Node.type, paging.text_key),
                                                                (Node.id, paging.uuid_key)],
                       query, lambda rows: node_out.dump(rows, many=True))


class _Translated:
    """A session whose statements run against one generation (for mes_common.paging)."""

    def __init__(self, session, generation):
        self.session, self.generation = session, generation

    def execute(self, stmt, params=None):
        return self.generation.execute(self.session, stmt, params)


def summary(node, depth):
    attrs = node.attrs
    return {"id": node.id, "type": node.type, "number": node.number, "depth": depth, "known": node.known,
            "part_id": attrs.get("part_id"), "part_number": attrs.get("part_number"), "status": attrs.get("status"),
            "quantity": attrs.get("quantity"), "heat_number": attrs.get("heat_number"),
            "supplier": attrs.get("supplier"), "supplier_lot": attrs.get("supplier_lot"),
            "work_order_id": attrs.get("work_order_id"), "on_hold": on_hold(attrs)}


def on_hold(attrs):
    return any(key.startswith("hold.") and value.get("status") == "active" for key, value in attrs.items())


def neighbours(session, generation, direction, via=None):
    """The level query of a walk: (node, next node, (from, to, kind, quantity)) for a frontier."""
    stmt = select(cast(Edge.from_id, Text), cast(Edge.to_id, Text), Edge.kind, Edge.quantity).where(
        (Edge.to_id if direction == "backward" else Edge.from_id) == any_(_IDS))
    if via and set(via) != set(EDGE_KINDS):
        stmt = stmt.where(Edge.kind.in_(via))
    backward = direction == "backward"

    def level(frontier):
        rows = generation.execute(session, stmt, {"ids": list(frontier)}).all()
        return [(r[1], r[0], tuple(r)) if backward else (r[0], r[1], tuple(r)) for r in rows]
    return level


def nodes_by_id(session, generation, ids):
    """{id (text): row (id, type, number, known, attrs)} of the nodes that exist."""
    found = {}
    ids = [str(i) for i in ids]
    for start in range(0, len(ids), 10_000):
        for row in generation.execute(session, select(*_NODE_COLUMNS).where(Node.id == any_(_IDS)),
                                      {"ids": ids[start:start + 10_000]}):
            found[row.id] = row
    return found


def trace(session, node_id, direction, query):
    domain.check_depth(query["depth"])
    generation = store.active(session)
    root_id = str(node_id)
    root = _genealogy_node(nodes_by_id(session, generation, [root_id]).get(root_id), node_id)
    reached, edges = domain.walk(root_id, neighbours(session, generation, direction, query.get("via")),
                                 query["depth"])
    found = nodes_by_id(session, generation, reached)
    types = set(query.get("types") or NODE_TYPES)

    def shown(node_id):
        node = found.get(node_id)
        return node is not None and node.type in types
    listed = sorted((summary(found[i], d) for i, d in reached.items() if i != root_id and shown(i)),
                    key=domain.order_key)
    answer = {"root": summary(root, 0), "direction": direction, "depth": query["depth"], "total": len(listed),
              "tree": None, "truncated": False, "next_cursor": None}
    if query["format"] == "nested":
        tree, _, truncated = domain.nest(root_id, reached, edges, direction, shown, query["limit"])
        in_tree = _ids_of(tree)
        answer.update(tree=tree, truncated=truncated, nodes=[n for n in listed if n["id"] in in_tree],
                      edges=_edge_rows(edges, in_tree | {root_id}))
        return trace_out.dump(answer)
    page, answer["next_cursor"] = _page(listed, query)
    on_page = {n["id"] for n in page} | {root_id}
    answer.update(nodes=page, edges=_edge_rows(edges, on_page))
    return trace_out.dump(answer)


def _ids_of(tree):
    ids, stack = set(), list(tree["children"])
    while stack:
        item = stack.pop()
        ids.add(item["id"])
        stack.extend(item["children"])
    return ids


def _edge_rows(edges, ids):
    seen, rows = set(), []
    for from_id, to_id, kind, quantity in edges:
        if from_id in ids and to_id in ids and (from_id, to_id, kind) not in seen:
            seen.add((from_id, to_id, kind))
            rows.append({"from_id": from_id, "to_id": to_id, "kind": kind, "quantity": quantity})
    return rows


def _page(listed, query):
    start = 0
    if query.get("cursor"):
        values = decode_cursor(query["cursor"])
        if len(values) != 4 or not isinstance(values[0], int) or not all(isinstance(v, str) for v in values[1:]):
            raise errors.ValidationFailed("invalid cursor", {"cursor": ["not a cursor of this list"]})
        after = tuple(values)
        start = next((i for i, n in enumerate(listed) if domain.order_key(n) > after), len(listed))
    page = listed[start:start + query["limit"]]
    more = start + query["limit"] < len(listed)
    return page, encode_cursor(list(domain.order_key(page[-1]))) if more and page else None


# ------------------------------------------------------------------ recall

def recall(session, query):
    """Every lot, serial and work order the suspect material reached. Built as
    plain JSON values (the RecallOut shape): marshmallow would take longer
    than the walk on a heat lot that reaches 10,000 serials."""
    generation = store.active(session)
    roots = {root.id: root for root in _recall_roots(session, generation, query)}
    reached = {}
    for root_id in roots:
        found, _ = domain.walk(root_id, neighbours(session, generation, "forward"), MAX_DEPTH)
        for node_id, depth in found.items():
            reached[node_id] = min(depth, reached.get(node_id, depth))
    found = nodes_by_id(session, generation, reached)
    items = []
    for node_id, depth in reached.items():
        node = found.get(node_id)
        if node is None:
            continue
        category = domain.recall_category({"type": node.type, "attrs": node.attrs})
        if category is None:
            continue
        attrs = node.attrs
        quantity = domain.recall_quantity({"type": node.type, "attrs": attrs})
        items.append({
            "category": category, "type": node.type, "id": node_id, "number": node.number,
            "part_number": attrs.get("part_number"), "status": attrs.get("status"),
            "quantity": None if quantity is None else float(quantity), "on_hold": on_hold(attrs),
            "locations": _locations(attrs), "heat_number": attrs.get("heat_number"),
            "supplier": attrs.get("supplier"), "supplier_lot": attrs.get("supplier_lot"),
            "work_order_id": attrs.get("work_order_id"), "depth": depth})
    items.sort(key=lambda i: (domain.CATEGORIES.index(i["category"]), i["type"], i["number"] or "", i["id"]))
    return {"roots": [trace_node_out.dump(summary(r, 0)) for r in sorted(roots.values(), key=lambda r: r.number or "")],
            "items": items, "totals": _totals(items),
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat()}


def _recall_roots(session, generation, query):
    if query.get("node_id"):
        node = nodes_by_id(session, generation, [query["node_id"]]).get(str(query["node_id"]))
        if node is None or not domain.is_material(node.type):
            raise errors.NotFound(f"no lot or serial {query['node_id']} in the genealogy",
                                  {"node_id": str(query["node_id"])})
        return [node]
    field = "heat_number" if query.get("heat_number") else "supplier_lot"
    column = Node.heat_number if field == "heat_number" else Node.supplier_lot
    roots = generation.execute(session, select(*_NODE_COLUMNS).where(column == query[field], Node.type == "lot")
                               .order_by(Node.number, Node.id)).all()
    if not roots:
        raise errors.NotFound(f"no lot has {field.replace('_', ' ')} {query[field]}", {field: query[field]})
    return roots


def _locations(attrs):
    if attrs.get("balances"):
        return [b for b in attrs["balances"] if b.get("quantity")]
    if attrs.get("location_id"):
        return [{"location_id": attrs["location_id"], "location_code": None, "quantity": 1.0}]
    return []


def _totals(items):
    totals = {}
    for item in items:
        t = totals.setdefault(item["category"], {"category": item["category"], "lots": 0, "serials": 0,
                                                 "work_orders": 0, "quantity": 0.0})
        t[item["type"] + "s"] += 1
        if item["type"] == "lot":   # serials are counted; a lot's quantity is in its unit
            t["quantity"] += item["quantity"] or 0.0
    return [totals[c] for c in domain.CATEGORIES if c in totals]


RECALL_COLUMNS = ("category", "type", "number", "part_number", "status", "quantity", "on_hold", "locations",
                  "heat_number", "supplier", "supplier_lot", "depth", "id")


def recall_csv(answer):
    """The recall as a spreadsheet an authority can sort: one row per lot, serial or work order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RECALL_COLUMNS)
    for item in answer["items"]:
        row = {**item, "locations": "; ".join(f"{loc.get('location_code') or loc.get('location_id')}: "
                                              f"{loc.get('quantity'):g}" for loc in item["locations"])}
        writer.writerow([_cell(row[c]) for c in RECALL_COLUMNS])
    return out.getvalue()


def _cell(value):
    """A cell a spreadsheet shows as text: no formula from a number or name someone typed."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text) else text


def _number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


# ------------------------------------------------------------------ timeline

def timeline(session, node_id, query):
    generation = store.active(session)
    _node(session, generation, node_id)
    T = TimelineEntry
    stmt = select(T).where(T.node_id == node_id)
    return paging.page(_Translated(session, generation), stmt, [(T.at, paging.time_key), (T.event_id, paging.uuid_key)],
                       query, lambda rows: timeline_entry_out.dump(rows, many=True))
