"""What each event says about the genealogy: pure functions from a CloudEvent
to facts (nodes with attributes, edges, timeline entries), no I/O.

A new event type is one function here (mes_common.events.projections):

    @projects(material.LOT_RECEIVED)
    def lot_received(f, data):
        f.node(data["id"], "lot", number=..., ...)
        f.edge("produced_by", data["work_order_id"], data["id"])
        f.timeline(data["id"], "received 100 kg")

Facts only add: a node's attributes merge last-writer-wins per key by the
event's version (its time, then its id), edges and timeline entries have ids
derived from the event, so applying the same events in any order, or twice,
gives the same model (traceability_service.store).
"""
import uuid
from dataclasses import dataclass, field

from material_service.contract import events as material
from mes_common.events.projections import Projections
from quality_service.contract import events as quality
from resource_service.contract import events as resource
from traceability_service.contract import AUTH_EVENTS, CONSUMES, EQUIPMENT_EVENTS, WORK_ORDER_CHANGES
from work_order_service.contract import events as work_order

# edge ids that no owner gives are derived from what makes the edge unique
_NS = uuid.UUID("6d1f6a52-6a3e-4d7c-9a58-3f0f1b3f2c11")


def derived_id(*parts):
    return uuid.uuid5(_NS, ":".join(str(p) for p in parts))


@dataclass
class Facts:
    event: object
    nodes: list = field(default_factory=list)      # (id, type, attrs, known)
    edges: list = field(default_factory=list)      # dicts of models.Edge columns
    entries: list = field(default_factory=list)    # timeline: dicts of models.TimelineEntry columns

    def node(self, node_id, node_type, known=True, **attrs):
        if node_id is None:
            return
        self.nodes.append((uuid.UUID(str(node_id)), node_type, {k: v for k, v in attrs.items() if v is not None},
                           known))

    def named(self, node_id, node_type, number=None, **attrs):
        """A node this event names but does not describe (it may come later)."""
        self.node(node_id, node_type, False, number=number, **attrs)

    def edge(self, kind, from_id, to_id, edge_id=None, quantity=None, work_order_id=None, operation_id=None,
             at=None):
        if from_id is None or to_id is None:
            return
        self.edges.append({
            "id": uuid.UUID(str(edge_id)) if edge_id else derived_id(kind, from_id, to_id),
            "from_id": uuid.UUID(str(from_id)), "to_id": uuid.UUID(str(to_id)), "kind": kind,
            "quantity": None if quantity is None else float(quantity),
            "work_order_id": _uuid(work_order_id), "operation_id": _uuid(operation_id),
            "at": at or self.event.time})

    def timeline(self, node_id, summary, **data):
        if node_id is None:
            return
        self.entries.append({
            "node_id": uuid.UUID(str(node_id)), "event_id": uuid.UUID(self.event.id), "at": self.event.time,
            "type": self.event.type, "actor": self.event.actor, "summary": summary,
            "data": {k: v for k, v in data.items() if v is not None}})


projects = Projections(CONSUMES, Facts)   # @projects(type) below: one function per event type
project = projects.project


def _uuid(value):
    return None if value is None else uuid.UUID(str(value))


def _qty(value):
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _holds(holds):
    return {f"hold.{h['id']}": {"status": h.get("status", "active"), "reason": h.get("reason"),
                                "reference": h.get("reference"), "placed_at": h.get("placed_at")}
            for h in holds or ()}


# ------------------------------------------------------------------ material

def _lot(f, lot):
    f.node(lot["id"], "lot", number=lot["lot_number"], part_id=lot.get("part_id"),
           part_number=lot.get("part_number"), status=lot.get("status"), quantity=lot.get("quantity"),
           heat_number=lot.get("heat_number"), supplier=lot.get("supplier"), supplier_lot=lot.get("supplier_lot"),
           certificates=lot.get("certificates"), expiry_date=lot.get("expiry_date"),
           work_order_id=lot.get("work_order_id"), created_at=lot.get("created_at"),
           balances=[{"location_id": b.get("location_id"), "location_code": b.get("location_code"),
                      "quantity": b.get("quantity")} for b in lot.get("balances") or ()],
           **_holds(lot.get("holds")))


def _serial(f, serial):
    f.node(serial["id"], "serial", number=serial["serial_number"], part_id=serial.get("part_id"),
           part_number=serial.get("part_number"), status=serial.get("status"), lot_id=serial.get("lot_id"),
           location_id=serial.get("location_id"), work_order_id=serial.get("work_order_id"),
           parent_serial_id=serial.get("parent_serial_id"), created_at=serial.get("created_at"),
           **_holds(serial.get("holds")))


def _operation_named(f, operation_id, work_order_id, work_order_number=None, sequence=None):
    """An operation the event names, tied to its work order."""
    number = f"{work_order_number}/{sequence}" if work_order_number and sequence is not None else None
    f.named(operation_id, "operation", number, work_order_id=work_order_id, sequence=sequence)
    f.named(work_order_id, "work_order", work_order_number)
    f.edge("operation_of", operation_id, work_order_id)


@projects(material.LOT_RECEIVED)
def lot_received(f, d):
    _lot(f, d)
    f.edge("produced_by", d.get("work_order_id") if d.get("origin") == "production" else None, d["id"],
           operation_id=d.get("operation_id"))
    if d.get("origin") == "production":
        f.named(d.get("work_order_id"), "work_order")
        f.timeline(d.get("work_order_id"), f"lot {d['lot_number']} produced ({_qty(d.get('quantity_received'))})",
                   lot_id=d["id"], quantity=d.get("quantity_received"))
    f.timeline(d["id"], f"received {_qty(d.get('quantity_received'))}"
               + (f" ({d['reference']})" if d.get("reference") else ""),
               quantity=d.get("quantity_received"), location_id=d.get("location_id"), origin=d.get("origin"),
               reference=d.get("reference"), reason=d.get("reason"))


@projects(material.LOT_STATUS_CHANGED)
def lot_status_changed(f, d):
    _lot(f, d)
    f.timeline(d["id"], f"status {d.get('from')} → {d.get('to')}" + (f": {d['reason']}" if d.get("reason") else ""),
               **{"from": d.get("from"), "to": d.get("to"), "reason": d.get("reason")})


@projects(material.LOT_SPLIT)
def lot_split(f, d):
    _lot(f, d["parent"])
    for child in d.get("children") or ():
        _lot(f, child)
        f.timeline(child["id"], f"split from {d['parent']['lot_number']}", parent_id=d["parent"]["id"])
    f.timeline(d["parent"]["id"], "split into " + ", ".join(c["lot_number"] for c in d.get("children") or ()),
               reason=d.get("reason"))


@projects(material.LOT_MERGED)
def lot_merged(f, d):
    _lot(f, d["lot"])
    for source in d.get("sources") or ():
        _lot(f, source)
        f.timeline(source["id"], f"merged into {d['lot']['lot_number']}", lot_id=d["lot"]["id"])
    f.timeline(d["lot"]["id"], "merged from " + ", ".join(s["lot_number"] for s in d.get("sources") or ()),
               reason=d.get("reason"))


def _consumed(f, d, node_id, number, quantity):
    op, wo = d.get("operation_id"), d.get("work_order_id")
    _operation_named(f, op, wo)
    f.edge("consumed_into", node_id, op or wo, edge_id=derived_id("consumed", d.get("transaction_id"), node_id),
           quantity=quantity, work_order_id=wo, operation_id=op)
    for target in (node_id, op, wo):
        f.timeline(target, f"{number}: {_qty(quantity)} consumed", material_id=node_id, quantity=quantity,
                   work_order_id=wo, operation_id=op)


@projects(material.LOT_CONSUMED)
def lot_consumed(f, d):
    _lot(f, d)
    _consumed(f, d, d["id"], d["lot_number"], d.get("quantity_consumed"))


@projects(material.SERIAL_CONSUMED)
def serial_consumed(f, d):
    _serial(f, d)
    _consumed(f, d, d["id"], d["serial_number"], 1)


@projects(material.SERIAL_CREATED)
def serials_created(f, d):
    wo = d.get("work_order_id")
    for s in d.get("serials") or ():
        f.node(s["id"], "serial", number=s["serial_number"], part_id=d.get("part_id"), lot_id=d.get("lot_id"),
               location_id=d.get("location_id"), work_order_id=wo)
        f.edge("produced_by", wo, s["id"])
        f.timeline(s["id"], "serial created", work_order_id=wo, location_id=d.get("location_id"))
    if wo:
        f.named(wo, "work_order")
        serials = d.get("serials") or ()
        f.timeline(wo, f"{len(serials)} serial(s) created: " + ", ".join(s["serial_number"] for s in serials[:5])
                   + (" …" if len(serials) > 5 else ""), count=len(serials))


def _end(f, end):
    if end:
        f.named(end["id"], end["type"], end.get("number"), part_id=end.get("part_id"))


@projects(material.SERIAL_ASSEMBLED)
def serial_assembled(f, d):
    parent, child = d.get("parent") or {}, d.get("child") or {}
    _end(f, parent)
    _end(f, child)
    f.timeline(parent.get("id"), f"{child.get('number')} assembled in ({_qty(d.get('quantity'))})",
               child_id=child.get("id"), quantity=d.get("quantity"), operation_id=d.get("operation_id"))
    f.timeline(child.get("id"), f"assembled into {parent.get('number')}", parent_id=parent.get("id"),
               operation_id=d.get("operation_id"))


@projects(material.SERIAL_SCRAPPED)
def serial_scrapped(f, d):
    _serial(f, d)
    f.timeline(d["id"], "scrapped" + (f" ({d['reference']})" if d.get("reference") else ""),
               reference=d.get("reference"), reason=d.get("reason"))


@projects(material.held("lot"), material.held("serial"))
def held(f, d):
    f.node(d["target_id"], d["target_type"], **_holds([{**d, "status": "active"}]))
    f.timeline(d["target_id"], f"held: {d.get('reason')}" + (f" ({d['reference']})" if d.get("reference") else ""),
               hold_id=d["id"], reference=d.get("reference"), cascade_of=d.get("root_hold_id"))


@projects(material.hold_released("lot"), material.hold_released("serial"))
def hold_released(f, d):
    f.node(d["target_id"], d["target_type"], **_holds([{**d, "status": "released"}]))
    f.timeline(d["target_id"], "hold released" + (f": {d['release_reason']}" if d.get("release_reason") else ""),
               hold_id=d["id"], reference=d.get("reference"))


_RELATIONS = {"produced_from": "consumed_into", "assembly": "assembled_into", "split": "split_from",
              "merge": "merged_into"}


@projects(material.GENEALOGY_LINKED)
def genealogy_linked(f, d):
    for link in d.get("links") or ():
        _end(f, link.get("source") or {"id": link["source_id"], "type": link["source_type"]})
        _end(f, link.get("target") or {"id": link["target_id"], "type": link["target_type"]})
        f.edge(_RELATIONS[link["relation"]], link["source_id"], link["target_id"], edge_id=link["id"],
               quantity=link.get("quantity"), work_order_id=link.get("work_order_id"),
               operation_id=link.get("operation_id"), at=link.get("created_at"))


@projects(material.INVENTORY_TRANSACTED)
def inventory_transacted(f, d):
    for t in d.get("transactions") or ():
        target = t.get("serial_id") or t.get("lot_id")
        f.timeline(target, f"{t['type']} {_qty(t.get('quantity'))}" + (f": {t['reason']}" if t.get("reason") else ""),
                   transaction_id=t.get("id"), location_id=t.get("location_id"), quantity=t.get("quantity"),
                   reference=t.get("reference"), work_order_id=t.get("work_order_id"))


# ------------------------------------------------------------------ work orders

def _work_order(f, wo):
    f.node(wo["id"], "work_order", number=wo["number"], part_id=wo.get("part_id"),
           part_number=wo.get("part_number"), part_name=wo.get("part_name"), part_revision=wo.get("part_revision"),
           quantity=wo.get("quantity"), uom=wo.get("uom"), status=wo.get("status"), due_date=wo.get("due_date"),
           site_name=wo.get("site_name"), work_center_name=wo.get("work_center_name"),
           released_at=wo.get("released_at"), completed_at=wo.get("completed_at"),
           quantity_completed=wo.get("quantity_completed"), quantity_scrapped=wo.get("quantity_scrapped"),
           routing=wo.get("routing"))


def _operation(f, op, wo_id, wo_number):
    f.node(op["id"], "operation", number=f"{wo_number}/{op['sequence']}" if wo_number else None,
           work_order_id=wo_id, sequence=op["sequence"], name=op.get("name"),
           work_center_id=op.get("work_center_id"), work_center_code=op.get("work_center_code"),
           work_center_name=op.get("work_center_name"), status=op.get("status"),
           quantity_good=op.get("quantity_good"), quantity_scrap=op.get("quantity_scrap"),
           quantity_rework=op.get("quantity_rework"), actual_start=op.get("actual_start"),
           actual_end=op.get("actual_end"), operator_id=op.get("operator_id"),
           operator_name=op.get("operator_name"), equipment_id=op.get("equipment_id"),
           work_instruction={k: op["work_instruction"].get(k) for k in ("code", "version", "title")}
           if op.get("work_instruction") else None,
           special_process=op.get("special_process"), buy_offs=op.get("buy_offs"))
    f.edge("operation_of", op["id"], wo_id)


@projects(*WORK_ORDER_CHANGES)
def work_order_changed(f, d):
    _work_order(f, d)
    for op in d.get("operations") or ():
        _operation(f, op, d["id"], d["number"])
    verb = f.event.type.rsplit(".", 1)[1]
    f.timeline(d["id"], f"work order {verb}" + (f" ({', '.join(d['changed'])})" if d.get("changed") else ""),
               status=d.get("status"), routing=d.get("routing"))


@projects(*(work_order.operation(v) for v in work_order.OPERATION_VERBS))
def operation_changed(f, d):
    f.named(d.get("work_order_id"), "work_order", d.get("work_order_number"))
    _operation(f, d, d.get("work_order_id"), d.get("work_order_number"))
    verb = f.event.type.rsplit(".", 1)[1]
    report = d.get("report") or {}
    what = f"operation {d['sequence']} {d.get('name')} {verb}"
    if d.get("operator_name") and verb in ("started", "resumed"):
        what += f" by {d['operator_name']}"
    if report:
        what += f": {_qty(report.get('good', 0))} good, {_qty(report.get('scrap', 0))} scrap"
    for target in (d["id"], d.get("work_order_id")):
        f.timeline(target, what, operation_id=d["id"], operator_id=d.get("operator_id"),
                   operator_name=d.get("operator_name"), equipment_id=d.get("equipment_id"),
                   work_center_id=d.get("work_center_id"), report=report or None)


@projects(work_order.OUTPUT_REPORTED)
def output_reported(f, d):
    what = f"output reported: {_qty(d.get('quantity'))}" + (f" as lot {d['lot_number']}" if d.get("lot_number")
                                                           else "")
    for target in (d.get("operation_id"), d.get("work_order_id")):
        f.timeline(target, what, report_id=d.get("report_id"), quantity=d.get("quantity"),
                   serial_numbers=d.get("serial_numbers"), lot_number=d.get("lot_number"))


@projects(work_order.STEP_BOUGHT_OFF)
def step_bought_off(f, d):
    _operation_named(f, d.get("operation_id"), d.get("work_order_id"), d.get("work_order_number"))
    f.timeline(d.get("operation_id"), f"step {d['step']} bought off by {d.get('by_name')}", step=d["step"],
               values=d.get("values"), note=d.get("note"), by_id=d.get("by_id"), by_name=d.get("by_name"))


@projects(*(work_order.rework(v) for v in work_order.REWORK_VERBS))
def rework_changed(f, d):
    f.node(d["id"], "operation", number=d["number"], kind="rework", decision=d.get("decision"),
           status=d.get("status"), work_order_id=d.get("work_order_id"), ncr_id=d.get("ncr_id"),
           ncr_number=d.get("ncr_number"), work_center_name=d.get("work_center_name"),
           operator_id=d.get("operator_id"), quantity=d.get("quantity"), instructions=d.get("instructions"),
           target_id=d.get("target_id"), target_number=d.get("target_number"))
    f.named(d.get("ncr_id"), "ncr", d.get("ncr_number"))
    f.edge("nonconformance_on", d.get("ncr_id"), d["id"])
    f.edge("operation_of", d["id"], d.get("work_order_id"))
    if d.get("target_type") in ("lot", "serial"):   # the reworked material goes through the rework
        f.edge("consumed_into", d.get("target_id"), d["id"], quantity=d.get("quantity"))
    verb = f.event.type.rsplit(".", 1)[1]
    for target in (d["id"], d.get("target_id"), d.get("work_order_id")):
        f.timeline(target, f"rework {d['number']} ({d.get('decision')}) {verb}", rework_id=d["id"],
                   ncr_number=d.get("ncr_number"))


# ------------------------------------------------------------------ quality

def _inspected(d):
    """(type, id) of what an inspection or NCR item is about: a serial, else a lot, else an operation."""
    for node_type, key in (("serial", "serial_id"), ("lot", "lot_id"), ("operation", "operation_id")):
        if d.get(key):
            return node_type, d[key]
    return None, None


@projects(*quality.INSPECTION.types)
def inspection_changed(f, d):
    if "inspection" in d:   # results_recorded: {inspection, characteristics, results} (chunked by results)
        d = {**d["inspection"], "items": d.get("characteristics"), "results": d.get("results")}
    f.node(d["id"], "inspection", number=d["number"], kind=d.get("kind"), status=d.get("status"),
           plan_id=d.get("plan_id"), plan_number=d.get("plan_number"), plan_revision=d.get("plan_revision"),
           part_id=d.get("part_id"), part_number=d.get("part_number"), quantity=d.get("quantity"),
           opened_by=d.get("opened_by"), opened_at=d.get("opened_at"), completed_at=d.get("completed_at"),
           status_reason=d.get("status_reason"), ncr_id=d.get("ncr_id"), ncr_number=d.get("ncr_number"),
           items=[{k: i.get(k) for k in ("characteristic", "name", "kind", "criticality", "sample_size")}
                  for i in d.get("items") or ()])
    target_type, target_id = _inspected(d)
    if d.get("operation_id"):
        _operation_named(f, d["operation_id"], d.get("work_order_id"), d.get("work_order_number"),
                         d.get("operation_sequence"))
    if target_type in ("lot", "serial"):
        f.named(target_id, target_type, d.get(f"{target_type}_number"), part_id=d.get("part_id"))
    f.edge("inspected_by", d["id"], target_id)
    verb = f.event.type.rsplit(".", 1)[1]
    results = d.get("results") if verb == "results_recorded" else None
    f.timeline(d["id"], f"inspection {d['number']} {verb.replace('_', ' ')}", results=results,
               status=d.get("status"))
    if verb != "results_recorded":
        f.timeline(target_id, f"inspection {d['number']} {verb}", inspection_id=d["id"], status=d.get("status"))


@projects(*quality.NCR.types)
def ncr_changed(f, d):
    f.node(d["id"], "ncr", number=d["number"], status=d.get("status"), source=d.get("source"),
           severity=d.get("severity"), critical=d.get("critical"), title=d.get("title"),
           part_id=d.get("part_id"), part_number=d.get("part_number"), quantity=d.get("quantity"),
           work_order_id=d.get("work_order_id"), work_order_number=d.get("work_order_number"),
           inspection_id=d.get("inspection_id"), inspection_number=d.get("inspection_number"),
           supplier=d.get("supplier"), defect_codes=d.get("defect_codes"), hold_status=d.get("hold_status"),
           items=[{k: i.get(k) for k in ("target_type", "target_id", "target_number", "quantity", "hold_status")}
                  for i in d.get("items") or ()],
           dispositions=d.get("dispositions"), signatures=d.get("signatures"))
    verb = f.event.type.rsplit(".", 1)[1]
    for item in d.get("items") or ():
        f.named(item["target_id"], item["target_type"], item.get("target_number"))
        f.edge("nonconformance_on", d["id"], item["target_id"], quantity=item.get("quantity"))
        if verb in ("raised", "dispositioned", "closed", "cancelled"):
            f.timeline(item["target_id"], f"NCR {d['number']} {verb}: {d.get('title')}", ncr_id=d["id"])
    f.timeline(d["id"], f"NCR {d['number']} {verb.replace('_', ' ')}", status=d.get("status"),
               changed=d.get("changed"))


@projects(quality.SIGNATURE_RECORDED)
def signature_recorded(f, d):
    s = d.get("signature") or {}
    f.timeline(d.get("record_id"), f"signed ({s.get('meaning')}) by {s.get('printed_name')}",
               record_type=d.get("record_type"), record_number=d.get("record_number"), signature=s)


@projects(quality.SPC_VIOLATION)
def spc_violation(f, d):
    f.timeline(d.get("inspection_id"), f"SPC violation: {d.get('rule')}", violation=d)


# ------------------------------------------------------------------ resource and auth: the names shown

@projects(*EQUIPMENT_EVENTS)
def equipment_changed(f, d):
    f.node(d["id"], "equipment", number=d.get("code"), name=d.get("name"), level=d.get("level"),
           active=d.get("active"))


@projects(*resource.ROUTING_EVENT_TYPES)
def routing_changed(f, d):
    f.node(d["id"], "routing", number=f"{d.get('part_revision')}/v{d.get('version')}", part_id=d.get("part_id"),
           part_revision=d.get("part_revision"), version=d.get("version"), status=d.get("status"),
           released_at=d.get("released_at"))


@projects(resource.asset_event_type("created"), resource.asset_event_type("updated"))
def asset_changed(f, d):
    f.node(d["id"], "equipment", number=d.get("asset_number"), name=d.get("description") or d.get("type"),
           level=d.get("kind"), status=d.get("status"), next_due_on=d.get("next_due_on"))


@projects(resource.asset_event_type("used"))
def asset_used(f, d):
    f.timeline(d.get("operation_id") or d.get("inspection_id"), "gauge or tool used", asset_id=d.get("asset_id"),
               used_by=d.get("used_by"), used_at=d.get("used_at"))


@projects(*AUTH_EVENTS)
def user_changed(f, d):
    f.node(d["id"], "person", number=d.get("username"), name=d.get("display_name"))
