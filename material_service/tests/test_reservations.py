"""Reservations: FEFO then FIFO, idempotency keys, tombstones, shortages, and
consumption drawing the work order's own reservation first."""
import datetime as dt

import pytest
from sqlalchemy import text

from material_service.tests.conftest import work_order
from mes_common.testing.records import envelopes, rows
from mes_common import errors


def days(n):
    return (dt.date.today() + dt.timedelta(days=n)).isoformat()


def test_fefo_then_fifo_and_the_same_key_reserves_once(rpc, plant, db):
    part = plant.part("P-100")
    late = plant.lot(part, 5, expiry_date=days(30))
    no_expiry = plant.lot(part, 5)
    soon_first = plant.lot(part, 5, expiry_date=days(10))
    soon_second = plant.lot(part, 5, expiry_date=days(10))
    plant.lot(part, 50, status="quarantine")
    expired = plant.lot(part, 50, expiry_date=days(5))
    with db.begin() as conn:  # time passes: it expired yesterday, still marked released
        conn.execute(text("UPDATE lot SET expiry_date = :d WHERE id = :l"), {"d": days(-1), "l": expired["id"]})
    held = plant.lot(part, 50)
    rpc.place_hold({"target_type": "lot", "target_id": held["id"], "reason": "NCR-1"})

    wo, key = work_order(), f"wo-release:{plant.tag}:p100"
    request = {"work_order_id": wo, "part_id": part["id"], "quantity": 12, "idempotency_key": key,
               "reference": "WO-000042"}
    reservation = rpc.reserve(request)
    assert (reservation["status"], reservation["quantity"], reservation["part_number"]) == (
        "active", 12, part["part_number"])
    assert [(a["lot_id"], a["quantity"]) for a in reservation["allocations"]] == [
        (soon_first["id"], 5), (soon_second["id"], 5), (late["id"], 2)]
    assert rpc.get_lot(late["id"])["reserved"] == 2 and rpc.get_lot(no_expiry["id"])["reserved"] == 0

    assert rpc.reserve(request) == reservation  # a retry: the same reservation, nothing new
    assert rpc.get_lot(late["id"])["reserved"] == 2
    assert len(rpc.list_reservations({"work_order_id": wo})["items"]) == 1
    assert len(envelopes(db, "mes.material.reservation.created", reservation["id"])) == 1
    with pytest.raises(errors.Conflict) as exc:
        rpc.reserve({**request, "quantity": 13})
    assert "idempotency_key" in exc.value.details

    # what is left goes first expiring first, no expiry last
    rest = rpc.reserve({**request, "quantity": 8, "idempotency_key": f"{key}:2"})
    assert [(a["lot_id"], a["quantity"]) for a in rest["allocations"]] == [(late["id"], 3), (no_expiry["id"], 5)]
    assert rpc.check_availability({"items": [{"part_id": part["id"], "quantity": 1}]}) == [
        {"part_id": part["id"], "part_number": part["part_number"], "required": 1, "available": 0, "short": 1}]


def test_a_short_reservation_says_by_how_much_and_reserves_nothing(rpc, plant):
    part = plant.part("P-200")
    lot = plant.lot(part, 7)
    wo = work_order()
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.reserve({"work_order_id": wo, "part_id": part["id"], "quantity": 10, "idempotency_key": f"s-{plant.tag}"})
    assert exc.value.message == f"part {part['part_number']} is short by 3 (needs 10, 7 available)"
    assert exc.value.details == {"part_id": part["id"], "part_number": part["part_number"], "required": 10,
                                 "available": 7, "short": 3}
    assert rpc.get_lot(lot["id"])["reserved"] == 0
    assert rpc.list_reservations({"work_order_id": wo})["items"] == []
    # the key was not used up: a retry once stock is there succeeds
    plant.lot(part, 3)
    assert rpc.reserve({"work_order_id": wo, "part_id": part["id"], "quantity": 10,
                        "idempotency_key": f"s-{plant.tag}"})["status"] == "active"


def test_release_is_idempotent_and_an_unknown_key_leaves_a_tombstone(rpc, plant, db):
    part = plant.part("P-300")
    lot = plant.lot(part, 10)
    wo = work_order()
    reservation = rpc.reserve({"work_order_id": wo, "part_id": part["id"], "quantity": 4,
                               "idempotency_key": f"a-{plant.tag}"})
    released = rpc.release_reservation(f"a-{plant.tag}", {"reason": "work order cancelled"})
    assert (released["id"], released["status"], released["release_reason"]) == (
        reservation["id"], "released", "work order cancelled")
    assert released["allocations"][0]["quantity"] == 0 and rpc.get_lot(lot["id"])["reserved"] == 0
    assert rpc.release_reservation(f"a-{plant.tag}") == released

    # the compensation overtook the reservation it undoes
    tombstone = rpc.release_reservation(f"late-{plant.tag}", {"reason": "saga compensated"})
    assert (tombstone["status"], tombstone["quantity"], tombstone["part_id"]) == ("released", 0, None)
    late = rpc.reserve({"work_order_id": wo, "part_id": part["id"], "quantity": 4,
                        "idempotency_key": f"late-{plant.tag}"})
    assert late == tombstone and rpc.get_lot(lot["id"])["reserved"] == 0

    for n in range(2):
        rpc.reserve({"work_order_id": wo, "part_id": part["id"], "quantity": 2, "idempotency_key": f"b{n}-{plant.tag}"})
    result = rpc.release_work_order_reservations(wo, {"reason": "cancelled"})
    assert sorted(r["idempotency_key"] for r in result["released"]) == [f"b0-{plant.tag}", f"b1-{plant.tag}"]
    assert rpc.get_lot(lot["id"])["reserved"] == 0
    assert rpc.release_work_order_reservations(wo)["released"] == []
    assert len(envelopes(db, "mes.material.reservation.released", tombstone["id"])) == 1


def test_consumption_takes_the_work_orders_reservation_first(rpc, plant, db):
    part = plant.part("P-400")
    lot = plant.lot(part, 10)
    mine, theirs = work_order(), work_order()
    own = rpc.reserve({"work_order_id": mine, "part_id": part["id"], "quantity": 6, "idempotency_key": f"m-{plant.tag}"})
    rpc.reserve({"work_order_id": theirs, "part_id": part["id"], "quantity": 4, "idempotency_key": f"t-{plant.tag}"})
    intruder = work_order()
    with pytest.raises(errors.RuleViolated) as exc:  # everything is reserved by others
        rpc.consume({"work_order_id": intruder, "operation_id": intruder, "idempotency_key": f"i-{plant.tag}",
                     "items": [{"lot_id": lot["id"], "quantity": 1}]})
    assert "only 0 unreserved" in exc.value.message and "items.0.quantity" in exc.value.details

    op = work_order()
    consumed = rpc.consume({"work_order_id": mine, "operation_id": op, "work_order_number": "WO-7",
                            "idempotency_key": f"c-{plant.tag}", "items": [{"lot_id": lot["id"], "quantity": 6}]})
    [row] = consumed["transactions"]
    assert (row["type"], row["quantity"], row["reference"], row["operation_id"]) == ("consume", -6, "WO-7", op)
    again = rpc.consume({"work_order_id": mine, "operation_id": op, "work_order_number": "WO-7",
                         "idempotency_key": f"c-{plant.tag}", "items": [{"lot_id": lot["id"], "quantity": 6}]})
    assert again == consumed and rpc.get_lot(lot["id"])["quantity"] == 4
    [after] = rpc.list_reservations({"work_order_id": mine})["items"]
    assert (after["id"], after["status"], after["allocations"][0]["consumed"]) == (own["id"], "consumed", 6)

    rpc.consume({"work_order_id": theirs, "operation_id": op, "idempotency_key": f"d-{plant.tag}",
                 "items": [{"lot_id": lot["id"], "quantity": 4}]})
    empty = rpc.get_lot(lot["id"])
    assert (empty["quantity"], empty["reserved"], empty["status"]) == (0, 0, "consumed")
    assert [e["data"]["to"] for e in envelopes(db, "mes.material.lot.status_changed", lot["id"])][-1] == "consumed"
    consumed_events = envelopes(db, "mes.material.lot.consumed", lot["id"])
    assert [(e["data"]["quantity_consumed"], e["data"]["work_order_id"]) for e in consumed_events] == [
        (6, mine), (4, theirs)]
    assert rows(db, "SELECT count(*) FROM inventory_transaction WHERE lot_id = :l AND type = 'consume'",
                l=lot["id"])[0][0] == 2
