"""Helpers other packages' tests (and the benchmarks) may use: a canonical
dump of a generation of the model, and a plant's story as the owners'
events (the envelopes their outboxes would hold)."""
import datetime as dt
import uuid

from sqlalchemy import text

from mes_common.events.envelope import CloudEvent


def canonical_dump(engine, schema=None):
    """Everything the model holds, in a fixed order (stamps left out: they say
    when, not what), to compare two models."""
    with engine.connect() as conn:
        schema = schema or conn.execute(text("SELECT coalesce((SELECT active FROM model_state), 'trace_a')")).scalar()
        nodes = conn.execute(text(f"SELECT id::text, type, attrs, known FROM {schema}.node ORDER BY id")).all()
        edges = conn.execute(text(f"SELECT id::text, from_id::text, to_id::text, kind, quantity, "
                                  f"work_order_id::text, operation_id::text, at FROM {schema}.edge ORDER BY id")).all()
        timeline = conn.execute(text(f"SELECT node_id::text, event_id::text, at, type, actor, summary, data "
                                     f"FROM {schema}.timeline ORDER BY node_id, event_id")).all()
    return {"nodes": [tuple(r) for r in nodes], "edges": [tuple(r) for r in edges],
            "timeline": [tuple(r) for r in timeline]}


class Story:
    """Envelopes of a small plant's day, in the order the owners recorded them."""

    def __init__(self, tag, start=None):
        self.tag, self.events = tag, []
        self.clock = start or dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.timezone.utc)

    def emit(self, source, type_, subject, data, actor="alice"):
        self.clock += dt.timedelta(seconds=1)
        event = CloudEvent.new(type_, source, subject, data, actor=actor)
        envelope = {**event.to_dict(), "time": self.clock.isoformat(timespec="microseconds")}
        self.events.append(envelope)
        return envelope

    @staticmethod
    def lot(lot_id, number, part_id, part_number, quantity, status="released", **extra):
        return {"id": lot_id, "lot_number": number, "part_id": part_id, "part_number": part_number,
                "status": status, "quantity": quantity, "reserved": 0, "available": quantity, "certificates": [],
                "balances": [{"location_id": extra.pop("location_id", None), "location_code": "RM-01",
                              "quantity": quantity, "reserved": 0}], "holds": [], "version": 1,
                "created_at": "2026-12-01T07:00:00+00:00", "updated_at": "2026-12-01T07:00:00+00:00", **extra}


def shop_floor_story(tag, serials=3):
    """A bar lot (heat H-<tag>) and a bolt lot, a work order milling and
    assembling `serials` brackets, an inspection, an NCR and its signature:
    returns (Story, ids)."""
    s = Story(tag)
    ids = {k: str(uuid.uuid4()) for k in ("bar_part", "bolt_part", "bracket_part", "bar_lot", "bolt_lot", "wo",
                                          "mill", "assy", "wc10", "wc20", "operator", "inspection", "ncr",
                                          "routing", "gauge")}
    bar = s.lot(ids["bar_lot"], f"BAR-{tag}", ids["bar_part"], "BAR-7075", 40.0, heat_number=f"H-{tag}",
                supplier="Alcoa", supplier_lot=f"AL-{tag}", certificates=["CoC-2231"])
    bolt = s.lot(ids["bolt_lot"], f"BOLT-{tag}", ids["bolt_part"], "BOLT-M6", 100.0, supplier="Bossard")
    s.emit("auth_service", "mes.auth.user.created", ids["operator"],
           {"id": ids["operator"], "username": f"olga{tag}", "display_name": "Olga Operator", "active": True})
    for wc, code, name in (("wc10", "WC-10", "5-axis mill"), ("wc20", "WC-20", "Assembly bench")):
        s.emit("resource_service", "mes.resource.work_center.created", ids[wc],
               {"id": ids[wc], "level": "work_center", "code": code, "name": name, "active": True})
    s.emit("resource_service", "mes.resource.routing.released", ids["routing"],
           {"id": ids["routing"], "part_id": ids["bracket_part"], "part_revision": "A", "version": 1,
            "status": "released", "operations": []})
    for lot in (bar, bolt):
        s.emit("material_service", "mes.material.lot.received", lot["id"],
               {**lot, "status": "received", "quantity_received": lot["quantity"], "origin": "receipt"})
        s.emit("material_service", "mes.material.lot.status_changed", lot["id"],
               {**lot, "from": "received", "to": "released", "reason": "incoming inspection passed"})
    wo_number = f"WO-{tag}"
    ops = [{"id": ids["mill"], "sequence": 10, "name": "Mill", "work_center_id": ids["wc10"],
            "work_center_code": "WC-10", "work_center_name": "5-axis mill", "status": "ready"},
           {"id": ids["assy"], "sequence": 20, "name": "Assemble", "work_center_id": ids["wc20"],
            "work_center_code": "WC-20", "work_center_name": "Assembly bench", "status": "pending",
            "work_instruction": {"code": "WI-ASSY", "version": 1, "title": "Assemble", "steps": []}}]
    wo = {"id": ids["wo"], "number": wo_number, "part_id": ids["bracket_part"], "part_number": "BRK-100",
          "part_name": "Wing bracket", "part_revision": "A", "uom": "ea", "quantity": serials, "status": "released",
          "operations": ops}
    s.emit("work_order_service", "mes.work_order.work_order.released", ids["wo"],
           {**wo, "routing": {"id": ids["routing"], "version": 1}})
    context = {"work_order_id": ids["wo"], "work_order_number": wo_number, "part_id": ids["bracket_part"]}
    for op, lot, quantity in ((ops[0], bar, 2.5 * serials), (ops[1], bolt, 4.0 * serials)):
        started = {**op, **context, "status": "in_progress", "operator_id": ids["operator"],
                   "operator_name": "Olga Operator", "equipment_id": op["work_center_id"],
                   "actual_start": s.clock.isoformat()}
        s.emit("work_order_service", "mes.work_order.operation.started", op["id"], started)
        s.emit("resource_service", "mes.resource.asset.used", ids["gauge"],
               {"id": str(uuid.uuid4()), "asset_id": ids["gauge"], "used_at": s.clock.isoformat(),
                "work_order_id": ids["wo"], "operation_id": op["id"], "used_by": "Olga Operator"})
        s.emit("material_service", "mes.material.lot.consumed", lot["id"],
               {**lot, "quantity": lot["quantity"] - quantity, "quantity_consumed": quantity,
                "work_order_id": ids["wo"], "operation_id": op["id"], "transaction_id": str(uuid.uuid4())})
        s.emit("work_order_service", "mes.work_order.operation.completed", op["id"],
               {**started, "status": "completed", "quantity_good": serials, "actual_end": s.clock.isoformat(),
                "report": {"id": str(uuid.uuid4()), "good": serials, "scrap": 0, "rework": 0}})
    s.emit("work_order_service", "mes.work_order.step.bought_off", ids["assy"],
           {**context, "operation_id": ids["assy"], "step": 0, "values": {"torque": 10.2}, "note": None,
            "by_id": ids["operator"], "by_name": "Olga Operator", "at": s.clock.isoformat()})
    output = [{"id": str(uuid.uuid4()), "serial_number": f"SN-{tag}-{i + 1}"} for i in range(serials)]
    s.emit("material_service", "mes.material.serial.created", ids["bracket_part"],
           {"part_id": ids["bracket_part"], "lot_id": None, "location_id": None, "work_order_id": ids["wo"],
            "serials": output})
    links = []
    for serial in output:
        for lot, share, op in ((bar, 2.5, ids["mill"]), (bolt, 4.0, ids["assy"])):
            links.append({"id": str(uuid.uuid4()), "source_type": "lot", "source_id": lot["id"],
                          "target_type": "serial", "target_id": serial["id"], "relation": "produced_from",
                          "quantity": share, "work_order_id": ids["wo"], "operation_id": op,
                          "created_at": s.clock.isoformat(),
                          "source": {"type": "lot", "id": lot["id"], "number": lot["lot_number"],
                                     "part_id": lot["part_id"]},
                          "target": {"type": "serial", "id": serial["id"], "number": serial["serial_number"],
                                     "part_id": ids["bracket_part"]}})
    s.emit("material_service", "mes.material.genealogy.linked", ids["wo"], {"links": links})
    first = output[0]
    inspection = {"id": ids["inspection"], "number": f"INS-{tag}", "kind": "final", "status": "failed",
                  "plan_id": str(uuid.uuid4()), "plan_number": "QP-BRK", "plan_revision": 1,
                  "part_id": ids["bracket_part"], "part_number": "BRK-100", "lot_id": None, "lot_number": None,
                  "serial_id": first["id"], "serial_number": first["serial_number"], "work_order_id": ids["wo"],
                  "work_order_number": wo_number, "operation_id": None, "operation_sequence": None, "quantity": 1,
                  "opened_by": "Quentin", "items": [{"characteristic": 1, "name": "Bore", "kind": "variable",
                                                     "criticality": "major", "sample_size": 1}]}
    s.emit("quality_service", "mes.quality.inspection.opened", ids["inspection"], {**inspection, "status": "open"})
    s.emit("quality_service", "mes.quality.inspection.results_recorded", ids["inspection"],
           {"inspection": {k: v for k, v in inspection.items() if k != "items"} | {"status": "in_progress"},
            "characteristics": inspection["items"], "results": [
               {"id": str(uuid.uuid4()), "characteristic": 1, "sample": 1, "value": 10.31, "passed": None,
                "conforming": False, "gauge_number": "G-1", "inspector": "Quentin",
                "recorded_at": s.clock.isoformat()}]})
    s.emit("quality_service", "mes.quality.inspection.failed", ids["inspection"], inspection)
    ncr = {"id": ids["ncr"], "number": f"NCR-{tag}", "status": "contained", "source": "inspection",
           "severity": "major", "title": "Bore oversize", "part_id": ids["bracket_part"], "part_number": "BRK-100",
           "quantity": 1, "items": [{"target_type": "serial", "target_id": first["id"],
                                     "target_number": first["serial_number"], "quantity": 1, "hold_status": "held"}],
           "dispositions": [], "signatures": [], "defect_codes": ["DIM"]}
    s.emit("quality_service", "mes.quality.ncr.raised", ids["ncr"], ncr)
    hold_id = str(uuid.uuid4())
    s.emit("material_service", "mes.material.serial.held", first["id"],
           {"id": hold_id, "target_type": "serial", "target_id": first["id"], "reason": "NCR",
            "reference": ncr["number"],
            "status": "active", "placed_by": "system", "placed_at": s.clock.isoformat()})
    signature = {"id": str(uuid.uuid4()), "meaning": "approval", "signer_id": ids["operator"], "username": "quentin",
                 "printed_name": "Quentin Quality", "signed_at": s.clock.isoformat(), "components": ["password"],
                 "valid": True}
    disposed = {**ncr, "status": "dispositioned", "signatures": [signature], "dispositions": [
        {"id": str(uuid.uuid4()), "target_id": first["id"], "target_number": first["serial_number"],
         "decision": "use_as_is", "quantity": 1, "justification": "within the fit's margin",
         "effect_status": "applied"}]}
    s.emit("quality_service", "mes.quality.ncr.dispositioned", ids["ncr"], disposed)
    s.emit("quality_service", "mes.quality.signature.recorded", ids["ncr"],
           {"record_type": "ncr", "record_id": ids["ncr"], "record_number": ncr["number"], "signature": signature})
    s.emit("material_service", "mes.material.serial.released", first["id"],
           {"id": hold_id, "target_type": "serial", "target_id": first["id"], "reason": "NCR",
            "reference": ncr["number"],
            "status": "released", "release_reason": "use as is", "placed_by": "system",
            "placed_at": s.clock.isoformat()})
    ids["serials"] = [o["id"] for o in output]
    return s, ids
