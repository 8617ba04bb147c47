"""Serials, output, assembly and the output.reported event: against the real servers."""
import time

import pytest
from kombu import Connection, Exchange

from material_service.tests.conftest import work_order
from mes_common.testing.records import audit_entries, envelopes, rows
from mes_common import errors
from mes_common.events.envelope import CloudEvent
from mes_common.testing.fixtures import wait_until

OUTPUT_REPORTED = "mes.work_order.output.reported"


def test_bulk_serials_from_a_pattern_and_duplicates_refused(rpc, plant, db):
    part = plant.part("A-100", "assembly", serial_controlled=True)
    started = time.perf_counter()
    created = rpc.create_serials({"part_id": part["id"], "pattern": "SN-{00001..10000}",
                                  "location_id": plant.stores["id"]})
    elapsed = time.perf_counter() - started
    assert (created["count"], created["first"], created["last"]) == (10_000, "SN-00001", "SN-10000")
    assert len({s["id"] for s in created["serials"]}) == 10_000
    print(f"10,000 serials through RPC in {elapsed:.2f} s")  # the figure is bench/material_serials.py's
    chunks = envelopes(db, "mes.material.serial.created", part["id"])
    assert [len(e["data"]["serials"]) for e in chunks] == [1000] * 10
    assert chunks[0]["data"]["serials"][0] == created["serials"][0]
    [entry] = audit_entries(db, part["id"])[1:]  # after the part's creation: one entry for the batch
    assert entry.action == "create_batch" and entry.new_values["count"] == 10_000 and entry.new_values["pattern"]

    with pytest.raises(errors.Conflict) as exc:
        rpc.create_serials({"part_id": part["id"], "pattern": "SN-{09999..10001}"})
    assert exc.value.details == {"pattern": ["SN-09999", "SN-10000"]}
    assert rpc.list_serials({"part_id": part["id"], "serial_number": "SN-1000", "limit": 5})["items"][0][
        "serial_number"] == "SN-10000"
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.create_serials({"part_id": part["id"], "serial_numbers": ["X1", "X2", "X1"]})
    assert "serial_numbers" in exc.value.details
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.create_serials({"part_id": part["id"], "pattern": "SN-{1..2}", "serial_numbers": ["X"]})
    assert "pattern" in exc.value.details
    single = rpc.create_serials({"part_id": part["id"], "serial_numbers": ["ESN-1"]})
    serial = rpc.get_serial(single["serials"][0]["id"])
    assert (serial["serial_number"], serial["status"], serial["part_number"]) == ("ESN-1", "available",
                                                                                  part["part_number"])
    raw = plant.part("R-100")
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.create_serials({"part_id": raw["id"], "serial_numbers": ["R1"]})
    assert "part_id" in exc.value.details


def _consume_and_produce(rpc, plant, wo, op, output_part, material, **output):
    part = plant.part(material)
    lot = plant.lot(part, 10)
    rpc.consume({"work_order_id": wo, "operation_id": op, "idempotency_key": f"c-{wo}",
                 "items": [{"lot_id": lot["id"], "quantity": 4}]})
    return lot, rpc.produce_output({"work_order_id": wo, "work_order_number": f"WO-{plant.tag}", "operation_id": op,
                                    "part_id": output_part["id"], "idempotency_key": f"o-{wo}", **output})


def test_output_links_everything_consumed_and_applies_once(rpc, plant, db):
    engine = plant.part("E-1", "assembly", serial_controlled=True)
    wo, op = work_order(), work_order()
    lot, out = _consume_and_produce(rpc, plant, wo, op, engine, "M-1", quantity=2, work_order_quantity=4)
    assert [s["serial_number"] for s in out["serials"]] == [f"WO-{plant.tag}-0001", f"WO-{plant.tag}-0002"]
    # 4 consumed for an order of 4: each unit of output holds 1 of the lot, consumed at operation `op`
    assert [(l["source_id"], l["relation"], l["quantity"], l["operation_id"]) for l in out["links"]] == [
        (lot["id"], "produced_from", 1, op)] * 2
    assert [t["type"] for t in out["transactions"]] == ["produce", "produce"]
    production = rpc.get_location(out["transactions"][0]["location_id"])
    assert production["code"] == "PRODUCTION"
    again = rpc.produce_output({"work_order_id": wo, "work_order_number": f"WO-{plant.tag}", "operation_id": op,
                                "part_id": engine["id"], "quantity": 2, "work_order_quantity": 4,
                                "idempotency_key": f"o-{wo}"})
    assert again == out and len(rpc.list_serials({"work_order_id": wo})["items"]) == 2

    up = rpc.get_genealogy({"target_type": "serial", "target_id": out["serials"][0]["id"], "direction": "up"})
    assert [n["number"] for n in up["nodes"]] == [lot["lot_number"], f"WO-{plant.tag}-0001"]
    down = rpc.get_genealogy({"target_type": "lot", "target_id": lot["id"]})
    assert {n["number"] for n in down["nodes"] if n["type"] == "serial"} == {s["serial_number"] for s in out["serials"]}

    # a hold placed later on the consumed lot reaches what was made from it, and later output too
    hold = rpc.place_hold({"target_type": "lot", "target_id": lot["id"], "reason": "supplier recall"})
    assert {c["target_id"] for c in hold["cascade"]} == {s["id"] for s in out["serials"]}
    more = rpc.produce_output({"work_order_id": wo, "work_order_number": f"WO-{plant.tag}", "operation_id": op,
                               "part_id": engine["id"], "quantity": 1, "idempotency_key": f"o2-{wo}"})
    assert more["serials"][0]["serial_number"] == f"WO-{plant.tag}-0003"
    assert rpc.get_serial(more["serials"][0]["id"])["holds"][0]["root_hold_id"] == hold["id"]
    with pytest.raises(errors.Conflict) as exc:
        rpc.consume({"work_order_id": work_order(), "operation_id": op, "idempotency_key": f"x-{wo}",
                     "items": [{"serial_id": more["serials"][0]["id"]}]})
    assert exc.value.details["hold_id"] == hold["id"]

    bracket = plant.part("B-1")
    wo2 = work_order()
    lot2, lot_out = _consume_and_produce(rpc, plant, wo2, op, bracket, "M-2", quantity=25.5,
                                         lot_number=f"OUT-{plant.tag}", work_order_quantity=51)
    assert lot_out["links"][0]["quantity"] == 2   # half the order's output: half of the 4 consumed
    assert (lot_out["lot"]["lot_number"], lot_out["lot"]["status"], lot_out["lot"]["quantity"]) == (
        f"OUT-{plant.tag}", "received", 25.5)
    assert lot_out["lot"]["work_order_id"] == wo2 and lot_out["links"][0]["source_id"] == lot2["id"]
    received = envelopes(db, "mes.material.lot.received", lot_out["lot"]["id"])[0]["data"]
    assert (received["origin"], received["work_order_id"]) == ("production", wo2)
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.produce_output({"work_order_id": wo2, "work_order_number": "W", "part_id": engine["id"], "quantity": 1.5,
                            "idempotency_key": f"frac-{wo}"})
    assert "quantity" in exc.value.details


def test_output_reported_event_applies_once(rpc, plant, stack):
    engine = plant.part("E-2", "assembly", serial_controlled=True)
    wo = work_order()
    exchange = Exchange("work_order_service.events", type="topic", durable=True)

    def report(report_id, serials):
        return CloudEvent.new(OUTPUT_REPORTED, "work_order_service", wo, {
            "report_id": report_id, "work_order_id": wo, "work_order_number": f"WO-{plant.tag}",
            "operation_id": work_order(), "part_id": engine["id"], "quantity": len(serials),
            "serial_numbers": serials, "lot_number": None, "location_id": None}).to_dict()

    def publish(*bodies):
        with Connection(stack.config["AMQP_URI"]) as conn:
            producer = conn.Producer()
            for body in bodies:
                producer.publish(body, exchange=exchange, routing_key=OUTPUT_REPORTED, serializer="json",
                                 declare=[exchange])

    first = report(f"rep-1-{plant.tag}", [f"ESN-{plant.tag}-1", f"ESN-{plant.tag}-2"])
    publish(first)
    wait_until(lambda: len(rpc.list_serials({"work_order_id": wo})["items"]) == 2, message="output serials")
    # the same envelope again, then another report that proves the duplicate went by
    publish(first, report(f"rep-2-{plant.tag}", [f"ESN-{plant.tag}-3"]))
    wait_until(lambda: len(rpc.list_serials({"work_order_id": wo})["items"]) == 3, message="second report")
    time.sleep(0.3)
    assert sorted(s["serial_number"] for s in rpc.list_serials({"work_order_id": wo})["items"]) == [
        f"ESN-{plant.tag}-1", f"ESN-{plant.tag}-2", f"ESN-{plant.tag}-3"]
    assert rows(stack.db, "SELECT count(*) FROM inventory_transaction WHERE work_order_id = :w", w=wo)[0][0] == 3
    assert rows(stack.db, "SELECT count(*) FROM inbox WHERE event_id = :e", e=first["id"])[0][0] == 1
    [(key,)] = rows(stack.db, "SELECT key FROM idempotent_request WHERE key = :k", k=f"rep-1-{plant.tag}")
    assert key == f"rep-1-{plant.tag}"


def test_assembly_records_the_as_built_and_refuses_cycles(rpc, plant, db):
    top = plant.part("T-1", "assembly", serial_controlled=True)
    sub = plant.part("S-1", "assembly", serial_controlled=True)
    glue = plant.part("G-1")
    [parent] = rpc.create_serials({"part_id": top["id"], "serial_numbers": ["T1"]})["serials"]
    [child, spare] = rpc.create_serials({"part_id": sub["id"], "serial_numbers": ["S1", "S2"],
                                         "location_id": plant.line["id"]})["serials"]
    lot = plant.lot(glue, 2)
    wo, op = work_order(), work_order()
    assembled = rpc.assemble({"parent": {"serial_id": parent["id"]}, "child": {"serial_id": child["id"]},
                              "work_order_id": wo, "operation_id": op, "idempotency_key": f"a1-{plant.tag}"})
    assert (assembled["link"]["relation"], assembled["link"]["source_id"], assembled["link"]["target_id"]) == (
        "assembly", child["id"], parent["id"])
    after = rpc.get_serial(child["id"])
    assert (after["status"], after["parent_serial_id"]) == ("assembled", parent["id"])
    assert rpc.assemble({"parent": {"serial_id": parent["id"]}, "child": {"serial_id": child["id"]},
                         "work_order_id": wo, "operation_id": op,
                         "idempotency_key": f"a1-{plant.tag}"}) == assembled
    glued = rpc.assemble({"parent": {"serial_id": parent["id"]}, "child": {"lot_id": lot["id"], "quantity": 0.25},
                          "idempotency_key": f"a2-{plant.tag}"})
    assert glued["transactions"][0]["quantity"] == -0.25 and rpc.get_lot(lot["id"])["quantity"] == 1.75

    with pytest.raises(errors.RuleViolated) as exc:  # the parent into its own child
        rpc.assemble({"parent": {"serial_id": child["id"]}, "child": {"serial_id": parent["id"]},
                      "idempotency_key": f"a3-{plant.tag}"})
    assert "parent" in exc.value.details
    with pytest.raises(errors.RuleViolated) as exc:  # already inside
        rpc.assemble({"parent": {"serial_id": spare["id"]}, "child": {"serial_id": child["id"]},
                      "idempotency_key": f"a4-{plant.tag}"})
    assert "assembled" in exc.value.message
    hold = rpc.place_hold({"target_type": "serial", "target_id": spare["id"], "reason": "dropped"})
    with pytest.raises(errors.Conflict) as exc:
        rpc.assemble({"parent": {"serial_id": parent["id"]}, "child": {"serial_id": spare["id"]},
                      "idempotency_key": f"a5-{plant.tag}"})
    assert exc.value.details["hold_id"] == hold["id"]
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.assemble({"parent": {"serial_id": parent["id"]}, "child": {"lot_id": lot["id"]},
                      "idempotency_key": f"a6-{plant.tag}"})
    assert exc.value.details == {"child": {"quantity": ["required with lot_id"]}}

    trace = rpc.get_genealogy({"target_type": "serial", "target_id": parent["id"], "direction": "up"})
    assert {n["number"] for n in trace["nodes"]} == {"T1", "S1", lot["lot_number"]}
    [event] = envelopes(db, "mes.material.serial.assembled", parent["id"])[:1]
    assert (event["data"]["child"]["number"], event["data"]["work_order_id"]) == ("S1", wo)
    assert rpc.verify_audit()["ok"]
