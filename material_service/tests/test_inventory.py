"""Lots, the ledger and balances, split/merge, holds: against the real servers."""
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from material_service.tests.conftest import work_order
from mes_common.testing.records import audit_entries, envelopes, rows
from mes_common import errors


def ledger(db, lot_id):
    return [(t, float(q)) for t, q in rows(db, "SELECT type, quantity FROM inventory_transaction "
                                               "WHERE lot_id = :l ORDER BY id", l=lot_id)]


def test_receive_status_rules_and_an_immutable_ledger(rpc, plant, db):
    part = plant.part("P-100", lot_controlled=True)
    lot = rpc.receive_lot({"part_id": part["id"], "quantity": 10.5, "location_id": plant.stores["id"],
                           "supplier": "Alcoa", "supplier_lot": "SL-9", "heat_number": "H-77",
                           "certificates": ["EN10204-3.1/4411"], "expiry_date": "2031-12-31",
                           "reference": "PO-1234", "idempotency_key": f"rcv-{plant.tag}"})
    assert (lot["status"], lot["quantity"], lot["available"], lot["heat_number"]) == ("received", 10.5, 0, "H-77")
    assert lot["lot_number"].startswith("LOT-") and lot["certificates"] == ["EN10204-3.1/4411"]
    assert lot["balances"] == [{"location_id": plant.stores["id"], "location_code": plant.stores["code"],
                                "quantity": 10.5, "reserved": 0}]
    again = rpc.receive_lot({"part_id": part["id"], "quantity": 10.5, "location_id": plant.stores["id"],
                             "supplier": "Alcoa", "supplier_lot": "SL-9", "heat_number": "H-77",
                             "certificates": ["EN10204-3.1/4411"], "expiry_date": "2031-12-31",
                             "reference": "PO-1234", "idempotency_key": f"rcv-{plant.tag}"})
    assert again == lot and ledger(db, lot["id"]) == [("receive", 10.5)]
    [received] = envelopes(db, "mes.material.lot.received", lot["id"])
    assert received["data"]["quantity_received"] == 10.5 and received["data"]["reference"] == "PO-1234"

    with pytest.raises(errors.RuleViolated) as exc:
        rpc.set_lot_status(lot["id"], {"status": "expired", "reason": "x"})
    assert "status" in exc.value.details and "received" in exc.value.message
    with pytest.raises(errors.ValidationFailed) as exc:  # consumption sets it, nobody else
        rpc.set_lot_status(lot["id"], {"status": "consumed", "reason": "x"})
    assert "status" in exc.value.details
    quarantined = rpc.set_lot_status(lot["id"], {"status": "quarantine", "reason": "cert missing", "version": 1})
    assert quarantined["version"] == 2
    with pytest.raises(errors.Conflict):
        rpc.set_lot_status(lot["id"], {"status": "released", "reason": "stale", "version": 1})
    released = rpc.set_lot_status(lot["id"], {"status": "released", "reason": "cert received"})
    assert released["available"] == 10.5
    changes = [e["data"] for e in envelopes(db, "mes.material.lot.status_changed", lot["id"])]
    assert [(c["from"], c["to"], c["reason"]) for c in changes] == [
        ("received", "quarantine", "cert missing"), ("quarantine", "released", "cert received")]
    assert [(a.action, a.actor) for a in audit_entries(db, lot["id"])] == [
        ("receive", "alice"), ("set_status", "alice"), ("set_status", "alice")]

    with pytest.raises(errors.Conflict) as exc:
        plant.lot(part, 1, lot_number=lot["lot_number"])
    assert "lot_number" in exc.value.details
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.receive_lot({"part_id": str(uuid.uuid4()), "quantity": 1, "location_id": plant.stores["id"]})
    assert "part_id" in exc.value.details
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.receive_lot({"part_id": part["id"], "quantity": "10", "location_id": plant.stores["id"],
                         "expiry_date": "tomorrow"})
    assert set(exc.value.details) == {"quantity", "expiry_date"}
    with db.begin() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("UPDATE inventory_transaction SET quantity = 99 WHERE lot_id = :l"), {"l": lot["id"]})


def test_movements_never_take_on_hand_below_zero(rpc, plant, db):
    part = plant.part("P-200")
    lot = plant.lot(part, 10)
    move = {"lot_id": lot["id"], "quantity": 4, "to_location_id": plant.line["id"], "reason": "kitting"}
    moved = rpc.move_inventory(move)
    assert {b["location_code"]: b["quantity"] for b in moved["lot"]["balances"]} == {
        plant.stores["code"]: 6, plant.line["code"]: 4}
    assert [t["quantity"] for t in moved["transactions"]] == [-4, 4]
    with pytest.raises(errors.RuleViolated) as exc:  # two locations now: which one?
        rpc.issue_inventory({"lot_id": lot["id"], "quantity": 1, "reason": "x"})
    assert "location_id" in exc.value.details
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.issue_inventory({"lot_id": lot["id"], "location_id": plant.line["id"], "quantity": 5, "reason": "x"})
    assert exc.value.message == f"lot {lot['lot_number']}: only 4 on hand at {plant.line['code']}, 5 requested"
    rpc.issue_inventory({"lot_id": lot["id"], "location_id": plant.line["id"], "quantity": 4, "reason": "AOG kit",
                         "reference": "CC-17"})
    with pytest.raises(errors.RuleViolated):
        rpc.adjust_inventory({"lot_id": lot["id"], "quantity": -7, "reason": "count"})
    rpc.adjust_inventory({"lot_id": lot["id"], "quantity": -1.5, "reason": "cycle count"})
    result = rpc.scrap_inventory({"lot_id": lot["id"], "quantity": 0.5, "reason": "damaged"})
    assert result["lot"]["quantity"] == 4 and result["lot"]["status"] == "released"
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.adjust_inventory({"lot_id": lot["id"], "quantity": 0, "reason": "nothing"})
    assert "quantity" in exc.value.details
    assert ledger(db, lot["id"]) == [("receive", 10), ("move", -4), ("move", 4), ("issue", -4), ("adjust", -1.5),
                                     ("scrap", -0.5)]
    page = rpc.list_transactions({"lot_id": lot["id"], "limit": 2})
    assert [t["type"] for t in page["items"]] == ["scrap", "adjust"] and page["next_cursor"]
    assert rpc.list_transactions({"lot_id": lot["id"], "cursor": page["next_cursor"]})["items"][0]["type"] == "issue"
    assert [(b["location_code"], b["quantity"]) for b in rpc.list_balances({"part_id": part["id"]})["items"]] == [
        (plant.stores["code"], 4)]
    assert len(rpc.list_balances({"part_id": part["id"], "include_empty": True})["items"]) == 2
    [entry] = [e for e in envelopes(db, "mes.material.inventory.transacted", lot["id"])
               if e["data"]["transactions"][0]["type"] == "issue"]
    assert entry["data"]["transactions"][0]["reference"] == "CC-17"


def test_concurrent_consumption_never_oversells(rpc, plant):
    part = plant.part("P-300")
    lot = plant.lot(part, 20)
    calls = [rpc.consume.call_async({"work_order_id": work_order(), "operation_id": work_order(),
                                     "items": [{"lot_id": lot["id"], "quantity": 3}],
                                     "idempotency_key": f"{plant.tag}-{n}"}) for n in range(10)]
    outcomes = []
    for call in calls:
        try:
            call.result()
            outcomes.append("ok")
        except errors.RuleViolated as exc:
            assert "only 2 on hand" in exc.message
            outcomes.append("short")
    assert outcomes.count("ok") == 6
    after = rpc.get_lot(lot["id"])
    assert after["quantity"] == 2 and after["status"] == "released"


def test_split_and_merge_record_genealogy(rpc, plant, db):
    part = plant.part("P-400")
    lot = plant.lot(part, 10, heat_number="H1", expiry_date="2031-01-31")
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.split_lot(lot["id"], {"children": [{"quantity": 3}, {"quantity": 6}], "reason": "kits"})
    assert "children" in exc.value.details and "sum to 9" in exc.value.message
    split = rpc.split_lot(lot["id"], {"children": [{"quantity": 3}, {"quantity": 7, "location_id": plant.line["id"],
                                                                     "lot_number": f"K-{plant.tag}"}],
                                      "reason": "kits"})
    first, second = split["children"]
    assert split["parent"]["quantity"] == 0 and (first["quantity"], second["quantity"]) == (3, 7)
    assert first["lot_number"] == f"{lot['lot_number']}-1" and second["lot_number"] == f"K-{plant.tag}"
    assert {c["status"] for c in split["children"]} == {"released"}
    assert {(c["heat_number"], c["expiry_date"]) for c in split["children"]} == {("H1", "2031-01-31")}
    assert second["balances"][0]["location_code"] == plant.line["code"]

    other = plant.lot(part, 5, heat_number="H2", expiry_date="2031-01-31")
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.merge_lots({"lot_ids": [first["id"], other["id"]], "reason": "consolidate"})
    assert "heat number" in exc.value.message and "lot_ids" in exc.value.details
    with pytest.raises(errors.RuleViolated) as exc:  # at two locations: say where
        rpc.merge_lots({"lot_ids": [first["id"], second["id"]], "reason": "consolidate"})
    assert "location_id" in exc.value.details
    merged = rpc.merge_lots({"lot_ids": [first["id"], second["id"]], "location_id": plant.stores["id"],
                             "reason": "consolidate"})
    assert merged["lot"]["quantity"] == 10 and [s["quantity"] for s in merged["sources"]] == [0, 0]
    assert merged["lot"]["heat_number"] == "H1" and merged["lot"]["status"] == "released"

    trace = rpc.get_genealogy({"target_type": "lot", "target_id": merged["lot"]["id"], "direction": "up"})
    assert sorted((l["relation"], l["quantity"]) for l in trace["links"]) == [
        ("merge", 3), ("merge", 7), ("split", 3), ("split", 7)]
    assert {n["number"] for n in trace["nodes"]} == {lot["lot_number"], first["lot_number"], second["lot_number"],
                                                     merged["lot"]["lot_number"]}
    down = rpc.get_genealogy({"target_type": "lot", "target_id": lot["id"], "max_depth": 1})
    assert {l["relation"] for l in down["links"]} == {"split"}
    [linked] = envelopes(db, "mes.material.genealogy.linked", merged["lot"]["id"])
    assert {l["source"]["number"] for l in linked["data"]["links"]} == {first["lot_number"], second["lot_number"]}
    assert envelopes(db, "mes.material.lot.merged", merged["lot"]["id"])[0]["data"]["reason"] == "consolidate"


def test_hold_cascades_to_descendants_and_blocks_their_use(rpc, plant, db):
    part = plant.part("P-500")
    lot = plant.lot(part, 10)
    left, right = rpc.split_lot(lot["id"], {"children": [{"quantity": 4}, {"quantity": 6}],
                                            "reason": "two kits"})["children"]
    hold = rpc.place_hold({"target_type": "lot", "target_id": lot["id"], "reason": "NCR-881 wrong alloy"})
    assert hold["status"] == "active" and hold["placed_by"] == "alice"
    assert sorted(c["target_id"] for c in hold["cascade"]) == sorted([left["id"], right["id"]])
    held_child = rpc.get_lot(left["id"])
    assert held_child["holds"][0]["root_hold_id"] == hold["id"] and held_child["available"] == 0

    expected = {"hold_id": hold["id"], "target_type": "lot", "target_id": left["id"],
                "reason": "NCR-881 wrong alloy"}
    wo = work_order()
    blocked = [
        lambda: rpc.consume({"work_order_id": wo, "operation_id": wo, "idempotency_key": f"c-{plant.tag}",
                             "items": [{"lot_id": left["id"], "quantity": 1}]}),
        lambda: rpc.issue_inventory({"lot_id": left["id"], "quantity": 1, "reason": "x"}),
        lambda: rpc.split_lot(left["id"], {"children": [{"quantity": 4}], "reason": "x"}),
        lambda: rpc.merge_lots({"lot_ids": [left["id"], right["id"]], "reason": "x"}),
    ]
    for attempt in blocked:
        with pytest.raises(errors.Conflict) as exc:
            attempt()
        assert exc.value.details == expected and hold["id"] in exc.value.message
    with pytest.raises(errors.RuleViolated) as exc:  # held lots are not available to reserve
        rpc.reserve({"work_order_id": wo, "part_id": part["id"], "quantity": 1, "idempotency_key": f"r-{plant.tag}"})
    assert exc.value.details["available"] == 0
    moved = rpc.move_inventory({"lot_id": left["id"], "quantity": 4, "to_location_id": plant.line["id"],
                                "reason": "to the MRB cage"})  # moving held stock is allowed
    assert moved["lot"]["balances"][0]["location_code"] == plant.line["code"]

    [cascaded] = rpc.list_holds({"target_id": right["id"]})["items"]
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.release_hold(cascaded["id"], {"reason": "x"})
    assert exc.value.details["root_hold_id"] == hold["id"]
    released = rpc.release_hold(hold["id"], {"reason": "MRB: use as is"})
    assert (released["status"], released["released_by"], released["release_reason"]) == (
        "released", "alice", "MRB: use as is")
    assert rpc.get_lot(right["id"])["holds"] == []
    rpc.consume({"work_order_id": wo, "operation_id": wo, "idempotency_key": f"c-{plant.tag}",
                 "items": [{"lot_id": left["id"], "quantity": 4}]})
    assert rpc.get_lot(left["id"])["status"] == "consumed"
    assert {e["subject"] for e in envelopes(db, "mes.material.lot.held")} >= {lot["id"], left["id"], right["id"]}
    assert len([e for e in envelopes(db, "mes.material.lot.released")
                if e["data"].get("root_hold_id") == hold["id"] or e["data"]["id"] == hold["id"]]) == 3
    assert [a.action for a in audit_entries(db, hold["id"])] == ["place", "release"]
