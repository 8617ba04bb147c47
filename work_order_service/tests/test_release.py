"""The release saga against the real resource and material services."""
import json
import re
import uuid

import pytest
from sqlalchemy import text

from mes_common import errors
from mes_common.testing.fixtures import wait_until
from work_order_service.testing import active_reservations, build, new_order, sagas
from mes_common.testing.records import records


def test_release_reserves_the_bom_and_snapshots_the_routing(rpc, db):
    world = build(rpc, components=3, per=2, operations=3)
    wo = new_order(rpc, world, quantity=5)
    assert wo["status"] == "created" and re.fullmatch(r"WO-\d{6,}", wo["number"]) and wo["operations"] == []

    released = rpc.wo.release_work_order(wo["id"], {})

    assert released["status"] == "released" and released["release_error"] is None
    assert [h["to"] for h in released["status_history"]] == ["created", "released"]
    ops = released["operations"]
    assert [(o["sequence"], o["status"], o["work_center_name"]) for o in ops] == [
        (10, "ready", "Cell 1"), (20, "pending", "Cell 2"), (30, "pending", "Cell 1")]
    assert ops[0]["setup_time"] == 30 and ops[0]["run_time"] == 2 and ops[0]["work_instruction"] is None
    reserved = active_reservations(rpc, wo["id"])
    assert sorted((r["part_number"], r["quantity"]) for r in reserved) == [
        (c["part_number"], 10) for c in world.components]
    saga, = sagas(db, wo["id"])
    assert saga["state"] == "completed"
    assert {r["idempotency_key"] for r in reserved} == {f"wo-release:{saga['id']}:{c['id']}"
                                                         for c in world.components}
    with pytest.raises(errors.RuleViolated):  # released once
        rpc.wo.release_work_order(wo["id"])


def test_release_short_is_fully_compensated_and_names_every_short_part(rpc, db):
    world = build(rpc, components=3, per=2, stock=10, operations=1)
    c001, _, c003 = (c["part_number"] for c in world.components)
    wo = new_order(rpc, world, quantity=7)  # needs 14 of each: 10 on hand of each but C-002
    rpc.material.adjust_inventory({"lot_id": world.lots[1]["id"], "location_id": world.stores["id"],
                                   "quantity": 10, "reason": "found in the cage"})  # C-002: 20 on hand

    with pytest.raises(errors.RuleViolated) as exc:
        rpc.wo.release_work_order(wo["id"])

    assert exc.value.message == (f"release refused: part {c001} is short by 4 (needs 14, 10 available); "
                                 f"part {c003} is short by 4 (needs 14, 10 available)")
    assert [(s["part_number"], s["required"], s["available"], s["short"])
            for s in exc.value.details["shortages"]] == [(c001, 14, 10, 4), (c003, 14, 10, 4)]
    order = rpc.wo.get_work_order(wo["id"])
    assert order["status"] == "created" and order["release_error"] == exc.value.message
    assert order["operations"] == []
    assert active_reservations(rpc, wo["id"]) == []  # C-002 was reserved, then given back
    saga, = sagas(db, wo["id"])
    assert saga["state"] == "compensated" and saga["error"] == exc.value.message
    failed = records(db, "SELECT envelope FROM outbox "
                  "WHERE type = 'mes.work_order.work_order.release_failed' AND subject = :wo", wo=wo["id"])
    assert [f["envelope"]["data"]["shortages"][0]["part_number"] for f in failed] == [c001]

    # once stock arrives, the same order releases
    for lot in (world.lots[0], world.lots[2]):
        rpc.material.adjust_inventory({"lot_id": lot["id"], "location_id": world.stores["id"],
                                       "quantity": 4, "reason": "delivery"})
    released = rpc.wo.release_work_order(wo["id"])
    assert released["status"] == "released" and released["release_error"] is None
    assert len(active_reservations(rpc, wo["id"])) == 3


def _abandon_saga(engine, wo, world, state="reserving"):
    """What a worker killed mid-saga leaves: a saga whose lease runs out in a
    second (time for the test to make the dead worker's reservations first)."""
    saga_id = uuid.uuid4()
    data = {"work_order_id": wo["id"], "number": wo["number"], "part_id": world.part["id"], "part_revision": "A",
            "quantity": wo["quantity"], "operations": [], "routing": {"id": world.routing["id"], "version": 1},
            "requirements": [{"part_id": c["id"], "part_number": c["part_number"], "quantity": 2 * wo["quantity"]}
                             for c in world.components]}
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO saga (id, type, work_order_id, state, data, version, lease_until) "
            "VALUES (:id, 'work_order_release', :wo, :state, CAST(:data AS jsonb), 3, now() + interval '1 second')"),
            {"id": saga_id, "wo": wo["id"], "state": state, "data": json.dumps(data)})
    return saga_id, data


def test_recovery_compensates_a_saga_left_mid_way(rpc, db):
    engine = db
    world = build(rpc, components=3, per=2, operations=1)
    wo = new_order(rpc, world, quantity=5)
    saga_id, data = _abandon_saga(engine, wo, world)
    # the dead worker had reserved the first two parts; the third never ran
    for requirement in data["requirements"][:2]:
        rpc.material.reserve({"work_order_id": wo["id"], "part_id": requirement["part_id"], "quantity": 10,
                              "idempotency_key": f"wo-release:{saga_id}:{requirement['part_id']}"})
    assert len(active_reservations(rpc, wo["id"])) == 2

    wait_until(lambda: sagas(engine, wo["id"])[0]["state"] == "compensated", timeout=10, message="recovery")

    assert active_reservations(rpc, wo["id"]) == []
    order = rpc.wo.get_work_order(wo["id"])
    assert order["status"] == "created" and "interrupted" in order["release_error"]
    # the third reserve, still in flight when the worker died, lands late and reserves nothing
    late = rpc.material.reserve({"work_order_id": wo["id"], "part_id": data["requirements"][2]["part_id"],
                                 "quantity": 10, "idempotency_key": f"wo-release:{saga_id}:"
                                                                   f"{data['requirements'][2]['part_id']}"})
    assert late["status"] == "released" and active_reservations(rpc, wo["id"]) == []
    # and the order can be released afresh
    assert rpc.wo.release_work_order(wo["id"])["status"] == "released"
