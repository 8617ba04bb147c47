"""Traceability rules. Pure: no I/O, plain values in and out, unit-tested alone."""
from collections import deque

from mes_common import errors
from traceability_service.contract import MATERIAL_TYPES, MAX_DEPTH, MAX_NODES


# ------------------------------------------------------------------ merging facts

def lww(attrs, stamps, new_attrs, new_stamps):
    """Last writer wins per key: each key keeps the value of the newer stamp.
    The same rule as the SQL functions trace_lww_attrs/trace_lww_stamps, so a
    merge in a batch and a merge in the database agree. Commutative,
    associative and idempotent: events in any order, or twice, give one result."""
    attrs, stamps = dict(attrs), dict(stamps)
    for key, value in new_attrs.items():
        stamp = new_stamps[key]
        if key not in stamps or stamps[key] < stamp:
            attrs[key], stamps[key] = value, stamp
    return attrs, stamps


def merge_node_facts(facts):
    """[(id, type, attrs, known, version)] → {id: [type, attrs, stamps, known]}:
    what a batch says of each node, one row per node (a statement may upsert
    a row once)."""
    merged = {}
    for node_id, node_type, attrs, known, version in facts:
        stamps = {key: version for key in attrs}
        if node_id not in merged:
            merged[node_id] = [node_type, attrs, stamps, known]
            continue
        row = merged[node_id]
        row[1], row[2] = lww(row[1], row[2], attrs, stamps)
        if known and not row[3]:
            row[0] = node_type
        row[3] = row[3] or known
    return merged


# ------------------------------------------------------------------ walking the graph

def check_depth(depth):
    if depth < 1 or depth > MAX_DEPTH:
        raise errors.ValidationFailed(f"depth must be between 1 and {MAX_DEPTH}", {"depth": [f"1..{MAX_DEPTH}"]})


def walk(root, neighbours, depth, max_nodes=MAX_NODES):
    """Breadth-first from `root` to `depth` levels: {node: its least depth} and
    the edges met between reached nodes. `neighbours(frontier)` gives
    [(node, next node, edge)] for a whole level at once (one query). Each node
    is expanded once, so a cycle in corrupt data ends like any other path."""
    reached, edges, frontier = {root: 0}, [], [root]
    for level in range(1, depth + 1):
        if not frontier:
            break
        found = []
        for node, other, edge in neighbours(frontier):
            edges.append(edge)
            if other not in reached:
                reached[other] = level
                found.append(other)
        if len(reached) > max_nodes:
            raise errors.ValidationFailed(f"the trace reaches more than {max_nodes} nodes: ask for fewer levels",
                                          {"depth": [f"more than {max_nodes} nodes"]})
        frontier = found
    return reached, [e for e in edges if e[0] in reached and e[1] in reached]


def nest(root, reached, edges, direction, shown, limit):
    """The trace as a tree from the root: each node under the first node it was
    reached from (a node reached again is a reference), hidden types skipped
    (their children hang on the nearest shown node). Returns (tree, count,
    truncated)."""
    children = {}
    for from_id, to_id, kind, quantity in sorted(edges, key=lambda e: (e[2], str(e[0]), str(e[1]))):
        parent, child = (to_id, from_id) if direction == "backward" else (from_id, to_id)
        if reached[child] == reached[parent] + 1:
            children.setdefault(parent, []).append((child, kind, quantity))
    placed, count, truncated = set(), 0, False

    def grow(node):
        nonlocal count, truncated
        out = []
        queue = deque(children.get(node, ()))
        while queue:
            child, kind, quantity = queue.popleft()
            if not shown(child):
                if child not in placed:
                    placed.add(child)
                    queue.extend(children.get(child, ()))
                continue
            if child in placed:
                out.append({"id": child, "via": kind, "quantity": quantity, "ref": True, "children": []})
                continue
            if count >= limit:
                truncated = True
                continue
            placed.add(child)
            count += 1
            out.append({"id": child, "via": kind, "quantity": quantity, "ref": False, "children": grow(child)})
        return out

    placed.add(root)
    return {"id": root, "via": None, "quantity": None, "ref": False, "children": grow(root)}, count, truncated


def order_key(node):
    """Flat traces list by depth, then type, number and id (the page cursor's key)."""
    return node["depth"], node["type"], node.get("number") or "", str(node["id"])


# ------------------------------------------------------------------ recall

IN_STOCK, IN_WORK, CONSUMED, SCRAPPED, SHIPPED = "in_stock", "in_work", "consumed", "scrapped", "shipped"
CATEGORIES = (IN_STOCK, IN_WORK, CONSUMED, SHIPPED, SCRAPPED)
_OPEN_WORK = ("released", "in_progress", "held")
_GONE_LOT = ("consumed",)


def recall_category(node):
    """Where an affected lot, serial or work order is: in stock (can be
    quarantined now), in work (on an open order), consumed (in what it went
    into: those are listed too), shipped, or scrapped. None: not listed."""
    t, attrs = node["type"], node["attrs"]
    status = attrs.get("status")
    if t == "lot":
        if status in _GONE_LOT or (attrs.get("quantity") == 0 and status != "received"):
            return CONSUMED
        return IN_STOCK
    if t == "serial":
        return {"consumed": CONSUMED, "assembled": CONSUMED, "scrapped": SCRAPPED,
                "shipped": SHIPPED}.get(status, IN_STOCK)
    if t == "work_order":
        return IN_WORK if status in _OPEN_WORK else (None if status in ("created", "cancelled") else CONSUMED)
    return None


def recall_quantity(node):
    """A serial is one; a lot, what it has on hand; a work order, its quantity."""
    return 1.0 if node["type"] == "serial" else node["attrs"].get("quantity")


def is_material(node_type):
    return node_type in MATERIAL_TYPES
