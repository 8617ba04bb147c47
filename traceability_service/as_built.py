"""The as-built record (digital thread) of a serial, from the model: what it
is made of down the tree, how and by whom each part was made, what was
measured, what went wrong and what the MRB decided, with the signature
manifestations. As JSON, and as a printable HTML page for a customer or an
auditor (`page` is a pure function of the record)."""
import datetime as dt
from html import escape

from sqlalchemy import Text, any_, cast, select

from mes_common import errors
from traceability_service import domain, store
from traceability_service.contract import MAX_DEPTH
from traceability_service.contract.schemas import AsBuiltOut
from traceability_service.models import Edge, Node, TimelineEntry
from traceability_service.queries import _IDS, neighbours, nodes_by_id

as_built_out = AsBuiltOut()
COMPONENT_EDGES = ("consumed_into", "assembled_into", "split_from", "merged_into")
MATERIAL_FIELDS = ("part_number", "status", "heat_number", "supplier", "supplier_lot", "certificates",
                   "expiry_date")
OPERATION_FIELDS = ("sequence", "name", "status", "work_center_code", "work_center_name", "operator_name",
                    "actual_start", "actual_end", "quantity_good", "quantity_scrap", "quantity_rework",
                    "work_instruction", "special_process", "kind", "decision", "ncr_number")


def record(session, serial_id):
    generation = store.active(session)
    serial = generation.execute(session, select(Node.type).where(Node.id == serial_id)).scalar_one_or_none()
    if serial != "serial":
        raise errors.NotFound(f"serial {serial_id} is not in the genealogy", {"serial_id": str(serial_id)})
    root = str(serial_id)
    reached, edges = domain.walk(root, neighbours(session, generation, "backward", COMPONENT_EDGES), MAX_DEPTH)
    found = nodes_by_id(session, generation, reached)
    material = {i: n for i, n in found.items() if domain.is_material(n.type)}
    wo_ids = {n.attrs["work_order_id"] for n in material.values() if n.attrs.get("work_order_id")}
    work_orders = nodes_by_id(session, generation, wo_ids)
    operations = _operations(session, generation, list(work_orders))
    evidence = _evidence(session, generation, list(material) + [op.id for op in operations])
    history = _timeline(session, generation, [op.id for op in operations] + [n.id for n in evidence])
    names = nodes_by_id(session, generation, _named_ids(work_orders.values(), operations, history)
                        | {n.attrs["lot_id"] for n in material.values() if n.attrs.get("lot_id")})
    found = {**names, **found}
    answer = {
        "serial": _material(found[root], found), "generated_at": dt.datetime.now(dt.timezone.utc),
        "components": _components(root, edges, found),
        "work_orders": [_work_order(wo, [op for op in operations if op.attrs.get("work_order_id") == wo.id],
                                    history, names) for wo in sorted(work_orders.values(), key=_by_number)],
        "inspections": [_inspection(n, history) for n in sorted(evidence, key=_by_number) if n.type == "inspection"],
        "ncrs": [_ncr(n, history) for n in sorted(evidence, key=_by_number) if n.type == "ncr"],
    }
    return as_built_out.dump(answer)


def _by_number(node):
    return (node.number or "", str(node.id))


def _material(node, found=None):
    out = {"id": str(node.id), "type": node.type, "number": node.number,
           **{k: node.attrs.get(k) for k in MATERIAL_FIELDS if node.attrs.get(k) is not None}}
    out["on_hold"] = any(k.startswith("hold.") and v.get("status") == "active" for k, v in node.attrs.items())
    lot = found.get(node.attrs["lot_id"]) if found and node.attrs.get("lot_id") else None
    if lot is not None:
        out["lot_number"] = lot.number
    return out


def _components(root, edges, found):
    """The component tree: each component under what it went into (first place met)."""
    children = {}
    for from_id, to_id, kind, quantity in sorted(edges, key=lambda e: (str(e[1]), str(e[0]))):
        children.setdefault(to_id, []).append((from_id, kind, quantity))
    placed = {root}

    def grow(node_id):
        out = []
        for child, kind, quantity in children.get(node_id, ()):
            if child in placed or child not in found:
                continue
            placed.add(child)
            out.append({**_material(found[child]), "via": kind, "quantity": quantity, "components": grow(child)})
        return sorted(out, key=lambda c: (c["type"], c.get("number") or ""))
    return grow(root)


def _operations(session, generation, wo_ids):
    if not wo_ids:
        return []
    op_ids = generation.execute(session, select(cast(Edge.from_id, Text)).where(Edge.to_id == any_(_IDS),
                                                                    Edge.kind == "operation_of"),
                                {"ids": wo_ids}).scalars().all()
    ops = nodes_by_id(session, generation, op_ids).values()
    return sorted(ops, key=lambda op: (op.attrs.get("work_order_id") or "", op.attrs.get("sequence") or 0,
                                       op.number or ""))


def _evidence(session, generation, target_ids):
    """The inspections and NCRs about any of `target_ids`."""
    if not target_ids:
        return []
    ids = generation.execute(session, select(cast(Edge.from_id, Text)).where(
        Edge.to_id == any_(_IDS), Edge.kind.in_(("inspected_by", "nonconformance_on"))),
        {"ids": target_ids}).scalars().all()
    return list(nodes_by_id(session, generation, set(ids)).values())


def _timeline(session, generation, node_ids):
    """{node id: [timeline entries]} of what the record shows from the history."""
    if not node_ids:
        return {}
    T = TimelineEntry
    rows = generation.execute(session, select(T).where(T.node_id == any_(_IDS)).order_by(T.at, T.event_id),
                              {"ids": node_ids}).scalars()
    history = {}
    for row in rows:
        history.setdefault(str(row.node_id), []).append(row)
    return history


def _named_ids(work_orders, operations, history):
    ids = {op.attrs.get("equipment_id") for op in operations} | {op.attrs.get("work_center_id") for op in operations}
    ids |= {(wo.attrs.get("routing") or {}).get("id") for wo in work_orders}
    ids |= {e.data.get("asset_id") for entries in history.values() for e in entries
            if e.type == "mes.resource.asset.used"}
    return {str(i) for i in ids if i}


def _name(names, node_id):
    node = names.get(str(node_id)) if node_id else None
    if node is None:
        return None
    return " ".join(p for p in (node.number, node.attrs.get("name")) if p)


def _work_order(wo, operations, history, names):
    routing = wo.attrs.get("routing") or {}
    return {"id": str(wo.id), "number": wo.number, "part_number": wo.attrs.get("part_number"),
            "part_revision": wo.attrs.get("part_revision"), "quantity": wo.attrs.get("quantity"),
            "status": wo.attrs.get("status"),
            "routing": {"id": routing.get("id"), "version": routing.get("version"),
                        "name": _name(names, routing.get("id"))} if routing else None,
            "operations": [_operation(op, history.get(op.id, ()), names) for op in operations]}


def _operation(op, history, names):
    attrs = op.attrs
    out = {"id": str(op.id), "number": op.number, **{k: attrs.get(k) for k in OPERATION_FIELDS if k in attrs},
           "equipment": _name(names, attrs.get("equipment_id")),
           "buy_offs": attrs.get("buy_offs") or [
               {"step": e.data.get("step"), "values": e.data.get("values"), "by_name": e.data.get("by_name"),
                "at": e.at.isoformat()} for e in history if e.type.endswith("step.bought_off")],
           "gauges_used": [{"asset_id": e.data.get("asset_id"), "asset": _name(names, e.data.get("asset_id")),
                            "used_by": e.data.get("used_by"), "at": e.at.isoformat()}
                           for e in history if e.type == "mes.resource.asset.used"]}
    return out


def _signatures(history):
    return [e.data["signature"] for e in history if e.type == "mes.quality.signature.recorded"]


def _inspection(node, history):
    entries = history.get(node.id, ())
    results = [r for e in entries if e.type.endswith("results_recorded") for r in e.data.get("results") or ()]
    attrs = node.attrs
    return {"id": str(node.id), "number": node.number,
            **{k: attrs.get(k) for k in ("kind", "status", "plan_number", "plan_revision", "part_number",
                                         "opened_by", "opened_at", "completed_at", "ncr_number")},
            "characteristics": attrs.get("items") or [], "results": results, "signatures": _signatures(entries)}


def _ncr(node, history):
    attrs = node.attrs
    return {"id": str(node.id), "number": node.number,
            **{k: attrs.get(k) for k in ("status", "severity", "title", "source", "part_number", "quantity",
                                         "defect_codes", "inspection_number", "work_order_number")},
            "items": attrs.get("items") or [], "dispositions": attrs.get("dispositions") or [],
            "signatures": attrs.get("signatures") or _signatures(history.get(node.id, ()))}


# ------------------------------------------------------------------ the printable page

STYLE = """
body { font: 10pt "DejaVu Sans", Arial, sans-serif; margin: 1.5cm; color: #111; }
h1 { font-size: 16pt; margin: 0 0 .2em; } h2 { font-size: 12pt; margin: 1.4em 0 .4em; border-bottom: 1px solid #444; }
h3 { font-size: 10.5pt; margin: 1em 0 .3em; }
table { border-collapse: collapse; width: 100%; margin: .3em 0 .8em; page-break-inside: auto; }
th, td { border: 1px solid #999; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #eee; } tr { page-break-inside: avoid; }
.meta td { border: none; padding: 1px 8px 1px 0; } .fail { color: #a00; font-weight: bold; }
ul.tree { margin: 0; padding-left: 1.2em; } .sig { font-size: 9pt; }
@media print { body { margin: 0; } }
"""


def _e(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return escape(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return escape(", ".join(f"{k}: {v}" for k, v in value.items()))
    return escape(str(value))


def _table(headers, rows):
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>" if rows else "<p>None.</p>"


def _sigs(signatures):
    return "<br>".join(f'<span class="sig">{_e(s.get("printed_name"))} ({_e(s.get("username"))}), '
                       f'{_e(s.get("meaning"))}, {_e(s.get("signed_at"))} UTC</span>' for s in signatures or ())


def _tree(components):
    if not components:
        return ""
    items = "".join(
        f"<li>{_e(c['type'])} <b>{_e(c.get('number'))}</b> {_e(c.get('part_number'))} "
        f"({_e(c.get('via', '').replace('_', ' '))} {_e(c.get('quantity'))})"
        + (f", heat {_e(c['heat_number'])}" if c.get("heat_number") else "")
        + (f", supplier {_e(c['supplier'])}" if c.get("supplier") else "")
        + (f" lot {_e(c['supplier_lot'])}" if c.get("supplier_lot") else "")
        + (f", certificates {_e(c['certificates'])}" if c.get("certificates") else "")
        + _tree(c.get("components")) + "</li>" for c in components)
    return f'<ul class="tree">{items}</ul>'


def page(record):
    s = record["serial"]
    parts = [f"<h1>As-built record: serial {_e(s['number'])}</h1>",
             '<table class="meta">'
             f"<tr><td>Part</td><td><b>{_e(s.get('part_number'))}</b></td></tr>"
             f"<tr><td>Status</td><td>{_e(s.get('status'))}{' (on hold)' if s.get('on_hold') else ''}</td></tr>"
             f"<tr><td>Lot</td><td>{_e(s.get('lot_number'))}</td></tr>"
             f"<tr><td>Generated</td><td>{_e(record['generated_at'])} UTC, from the MES traceability model</td></tr>"
             "</table>",
             "<h2>Components</h2>", _tree(record["components"]) or "<p>None recorded.</p>", "<h2>Manufacturing</h2>"]
    for wo in record["work_orders"]:
        routing = wo.get("routing") or {}
        parts.append(f"<h3>Work order {_e(wo['number'])}: {_e(wo.get('part_number'))} "
                     f"rev {_e(wo.get('part_revision'))},"
                     f" quantity {_e(wo.get('quantity'))}, routing {_e(routing.get('name') or routing.get('version'))}"
                     "</h3>")
        parts.append(_table(
            ("Op", "Name", "Work center", "Equipment", "Operator", "Start", "End", "Good / scrap", "Work instruction",
             "Special process", "Buy-offs", "Gauges"),
            [(_e(op.get("sequence") or op.get("number")), _e(op.get("name") or op.get("decision")),
              _e(" ".join(p for p in (op.get("work_center_code"), op.get("work_center_name")) if p)),
              _e(op.get("equipment")),
              _e(op.get("operator_name")), _e(op.get("actual_start")), _e(op.get("actual_end")),
              f"{_e(op.get('quantity_good'))} / {_e(op.get('quantity_scrap'))}",
              _e(f"{op['work_instruction'].get('code')} v{op['work_instruction'].get('version')}"
                 if op.get("work_instruction") else None),
              _e(op.get("special_process")),
              "<br>".join(f"step {_e(b.get('step'))}: {_e(b.get('values'))} ({_e(b.get('by_name'))})"
                          + (" " + _sigs(b.get("signatures")) if b.get("signatures") else "")
                          for b in op.get("buy_offs") or ()),
              "<br>".join(_e(g.get("asset") or g.get("asset_id")) for g in op.get("gauges_used") or ()))
             for op in wo["operations"]]))
    parts.append("<h2>Inspections</h2>")
    for insp in record["inspections"]:
        parts.append(f"<h3>{_e(insp['number'])} ({_e(insp.get('kind'))}, plan {_e(insp.get('plan_number'))} rev "
                     f"{_e(insp.get('plan_revision'))}): {_e(insp.get('status'))}</h3>")
        parts.append(_table(("Char.", "Sample", "Value", "Pass", "Gauge", "Inspector", "Recorded"), [
            (_e(r.get("characteristic")), _e(r.get("sample")), _e(r.get("value") if r.get("value") is not None
                                                                  else r.get("passed"))
             + (f" ({_e(r.get('defects'))} defects)" if r.get("defects") else ""),
             "yes" if r.get("conforming") else '<span class="fail">NO</span>', _e(r.get("gauge_number")),
             _e(r.get("inspector")), _e(r.get("recorded_at"))) for r in insp["results"]]))
        if insp["signatures"]:
            parts.append(f"<p>{_sigs(insp['signatures'])}</p>")
    if not record["inspections"]:
        parts.append("<p>None recorded.</p>")
    parts.append("<h2>Nonconformances</h2>")
    for ncr in record["ncrs"]:
        parts.append(f"<h3>{_e(ncr['number'])}: {_e(ncr.get('title'))} ({_e(ncr.get('severity'))}, "
                     f"{_e(ncr.get('status'))})</h3>")
        parts.append(_table(("Item", "Decision", "Quantity", "Justification", "Status"), [
            (_e(d.get("target_number")), _e(d.get("decision")), _e(d.get("quantity")), _e(d.get("justification")),
             _e(d.get("effect_status"))) for d in ncr["dispositions"]]))
        if ncr["signatures"]:
            parts.append(f"<p>{_sigs(ncr['signatures'])}</p>")
    if not record["ncrs"]:
        parts.append("<p>None recorded.</p>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>As-built {_e(s["number"])}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")
