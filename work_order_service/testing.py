"""A plant, parts, a BOM, stock and a released routing, built through the
real services' RPCs (`rpc` has `.resource`, `.material`, `.wo`).

The services are shared by the whole package: every world's codes and part
numbers end in a tag of its own, so tests look up only their own rows."""
import secrets
import uuid
from types import SimpleNamespace

from kombu import Connection, Exchange

from mes_common.testing.records import records

DUE = "2026-12-31"
USER_ID = str(uuid.uuid4())  # the caller of the tests' RPCs


def new_tag():
    return secrets.token_hex(3).upper()


def plant(resource, tag):
    ent = resource.create_node({"level": "enterprise", "code": f"ACME-{tag}", "name": "Acme Aero"})
    site = resource.create_node({"level": "site", "code": "TLS", "name": "Toulouse", "parent_id": ent["id"]})
    area = resource.create_node({"level": "area", "code": "MACH", "name": "Machining", "parent_id": site["id"]})
    wcs = [resource.create_node({"level": "work_center", "code": f"WC-{10 * (i + 1)}", "name": f"Cell {i + 1}",
                                 "parent_id": area["id"]}) for i in range(2)]
    return site, wcs


def build(rpc, components=2, per=2, stock=100, serial=True, operations=3, part_number="A-100", instruction=None,
          first_requires=(), last_special=None):
    """A serial-controlled assembly whose BOM has `components` purchased parts
    (`per` each, `stock` released on hand each) and a released routing of
    `operations` operations alternating between two work centers (the first
    with work instruction code `instruction`, if given, and the skill
    requirements `first_requires`; the last a special process `last_special`).
    Part numbers and location codes end in the world's `tag` (C-001-<tag>,
    A-100-<tag>, …)."""
    m, tag = rpc.material, new_tag()
    site, wcs = plant(rpc.resource, tag)
    stores = m.create_location({"code": f"STORES-{tag}", "name": "Stores"})
    comps, lots = [], []
    for i in range(components):
        comp = m.create_part({"part_number": f"C-{i + 1:03d}-{tag}", "name": f"Component {i + 1}",
                              "type": "purchased", "lot_controlled": True})
        comps.append(comp)
        if stock:
            lot = m.receive_lot({"part_id": comp["id"], "quantity": stock, "location_id": stores["id"]})
            m.set_lot_status(lot["id"], {"status": "released", "reason": "receiving inspection passed"})
            lots.append(lot)
    top = m.create_part({"part_number": f"{part_number}-{tag}", "name": "Bracket assembly", "type": "assembly",
                         "serial_controlled": serial})
    m.set_bom(top["id"], {"components": [{"part_id": c["id"], "quantity": per} for c in comps]})
    routing = rpc.resource.create_routing({
        "part_id": top["id"], "part_revision": "A", "operations": [
            {"sequence": 10 * (i + 1), "name": f"Operation {10 * (i + 1)}", "work_center_id": wcs[i % 2]["id"],
             "setup_time": 30, "run_time": 2, "work_instruction_code": instruction if i == 0 else None,
             "required_skills": list(first_requires) if i == 0 else [],
             "special_process": last_special if i == operations - 1 else None}
            for i in range(operations)]})
    rpc.resource.release_routing(routing["id"])
    return SimpleNamespace(tag=tag, site=site, wcs=wcs, stores=stores, components=comps, lots=lots, part=top,
                           routing=routing)


def new_order(rpc, world, quantity=5, **extra):
    return rpc.wo.create_work_order({"part_id": world.part["id"], "quantity": quantity, "due_date": DUE,
                                     "site_id": world.site["id"], "work_center_id": world.wcs[0]["id"], **extra})


def inspect_first_operation(rpc, world, plan_number, name, criticality="minor"):
    """A released plan of one visual characteristic (`name`, first piece) for
    the world's part at operation 10, and a gating in-process control point there."""
    plan = rpc.quality.create_plan({
        "plan_number": plan_number, "title": f"{name} at op 10", "part_id": world.part["id"], "part_revision": "A",
        "operation_sequence": 10, "characteristics": [
            {"number": 1, "name": name, "kind": "visual", "criticality": criticality,
             "sampling": {"method": "first_piece"}}]})
    rpc.quality.release_plan(plan["id"], {})
    rpc.quality.create_control_point({"part_id": world.part["id"], "part_revision": "A", "kind": "in_process",
                                      "operation_sequence": 10, "plan_number": plan_number})
    return plan


def active_reservations(rpc, wo_id):
    return rpc.material.list_reservations({"work_order_id": wo_id, "status": "active", "limit": 500})["items"]


def sagas(engine, wo_id):
    return records(engine, "SELECT id, state, data, error, version FROM saga WHERE work_order_id = :id "
                "ORDER BY created_at", id=wo_id)


def publish(config, source, envelope):
    """An event as `source` publishes it (a redelivery, or one whose publisher is not in the stack)."""
    exchange = Exchange(f"{source}.events", type="topic", durable=True)
    with Connection(config["AMQP_URI"]) as conn:
        conn.Producer().publish(envelope, exchange=exchange, routing_key=envelope["type"], serializer="json",
                                declare=[exchange])
