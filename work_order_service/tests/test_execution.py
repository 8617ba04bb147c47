"""Shop-floor execution against the real resource and material services."""
import pytest

from mes_common import errors
from mes_common.testing.fixtures import wait_until
from work_order_service.testing import (USER_ID, active_reservations, build, inspect_first_operation, new_order,
                                        new_tag)
from mes_common.testing.records import records


def outbox(engine, type_, wo_id):
    """The data of one work order's events of `type_`, oldest first."""
    return [r["envelope"]["data"] for r in records(
        engine, "SELECT envelope FROM outbox WHERE type = :t AND envelope->'data'->>'work_order_id' = :wo "
                "ORDER BY id", t=type_, wo=wo_id)]


def test_every_operation_run_reports_the_output_and_completes_the_order(rpc, db):
    engine = db
    world = build(rpc, components=2, per=1, operations=3, serial=True)
    wo = new_order(rpc, world, quantity=4)
    wo = rpc.wo.release_work_order(wo["id"])
    op10, op20, op30 = (o["id"] for o in wo["operations"])

    plan = rpc.wo.schedule_work_order(wo["id"], {"start_at": "2026-12-01T08:00:00+01:00"})
    assert [(o["planned_start"][11:16], o["planned_end"][11:16], o["duration_minutes"]) for o in plan["operations"]] \
        == [("07:00", "07:38", 38), ("07:38", "08:16", 38), ("08:16", "08:54", 38)]
    assert plan["late"] is False and rpc.wo.get_schedule(wo["id"]) == plan
    dispatch = rpc.wo.get_dispatch_list(world.wcs[0]["id"])["items"]
    assert [(d["work_order_number"], d["sequence"], d["status"]) for d in dispatch] == [(wo["number"], 10, "ready")]

    started = rpc.wo.start_operation(wo["id"], op10, {})  # the answer is the whole order
    assert started["status"] == "in_progress"
    assert (started["operations"][0]["status"], started["operations"][0]["operator_name"]) == ("running", "alice")

    consumed = rpc.wo.consume_material(wo["id"], op10, {"items": [
        {"lot_id": world.lots[0]["id"], "quantity": 4}, {"lot_id": world.lots[1]["id"], "quantity": 4}]})
    assert len(consumed["transactions"]) == 2

    report = rpc.wo.complete_operation(wo["id"], op10, {"good": 3, "idempotency_key": "r-1"})["operations"]
    assert [(o["quantity_good"], o["status"]) for o in report] == [(3, "running"), (0, "ready"), (0, "pending")]
    again = rpc.wo.complete_operation(wo["id"], op10, {"good": 3, "idempotency_key": "r-1"})  # a retry
    assert again["operations"][0]["quantity_good"] == 3
    rpc.wo.start_operation(wo["id"], op20)
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.wo.complete_operation(wo["id"], op20, {"good": 4})
    assert exc.value.message == "operation 20 cannot complete 4 good: operation 10 has completed only 3 good"
    assert rpc.wo.pause_operation(wo["id"], op20, {"reason": "break"})["operations"][1]["status"] == "paused"
    assert rpc.wo.resume_operation(wo["id"], op20)["operations"][1]["status"] == "running"
    rpc.wo.complete_operation(wo["id"], op20, {"good": 3, "rework": 1, "reason_codes": ["BURR"]})
    assert rpc.wo.complete_operation(wo["id"], op10, {"good": 1})["operations"][0]["status"] == "completed"
    assert rpc.wo.complete_operation(wo["id"], op20, {"good": 1})["operations"][1]["status"] == "completed"

    rpc.wo.start_operation(wo["id"], op30)
    first = rpc.wo.complete_operation(wo["id"], op30, {"good": 2, "serial_numbers": ["SN-A", "SN-B"]})
    assert (first["status"], first["operations"][2]["status"]) == ("in_progress", "running")
    with pytest.raises(errors.Conflict) as exc:  # material would refuse it after our commit
        rpc.wo.complete_operation(wo["id"], op30, {"good": 1, "serial_numbers": ["SN-B"]})
    assert exc.value.details == {"serial_numbers": ["SN-B"]}
    last = rpc.wo.complete_operation(wo["id"], op30, {"good": 2})
    assert (last["status"], last["operations"][2]["status"]) == ("completed", "completed")

    order = rpc.wo.get_work_order(wo["id"])
    assert order["status"] == "completed" and order["quantity_completed"] == 4 and order["completed_at"]
    assert [h["to"] for h in order["status_history"]] == ["created", "released", "in_progress", "completed"]
    outputs = outbox(engine, "mes.work_order.output.reported", wo["id"])
    generated = [f"{wo['number']}-0003", f"{wo['number']}-0004"]
    assert [(o["quantity"], o["serial_numbers"]) for o in outputs] == [(2, ["SN-A", "SN-B"]), (2, generated)]
    # material made the serials (its handler of output.reported)
    serials = lambda: rpc.material.list_serials({"work_order_id": wo["id"]})["items"]  # noqa: E731
    wait_until(lambda: len(serials()) == 4, timeout=10, message="output serials in material")
    assert sorted(s["serial_number"] for s in serials()) == ["SN-A", "SN-B", *generated]

    variance = rpc.wo.get_variance(wo["id"])
    assert [(v["sequence"], v["actual_good"], v["planned_minutes"]) for v in variance["operations"]] == [
        (10, 4, 38), (20, 4, 38), (30, 4, 38)]
    assert variance["operations"][1]["actual_rework"] == 1
    assert variance["order"]["planned_minutes"] == 114 and variance["order"]["quantity_ratio"] == 1
    assert 0 < variance["order"]["actual_minutes"] < 5
    assert rpc.wo.get_dispatch_list(world.wcs[0]["id"])["items"] == []


def test_hold_cancel_scrap_and_close(rpc, db):
    """Hold pauses work, held material is refused, cancel gives back the
    reservations; scrap completes an order short, close gives back the rest."""
    world = build(rpc, components=1, per=1, operations=2, serial=False)
    wo = rpc.wo.release_work_order(new_order(rpc, world, quantity=2)["id"])
    op10 = wo["operations"][0]["id"]
    rpc.wo.start_operation(wo["id"], op10)

    held = rpc.wo.hold_work_order(wo["id"], {"reason": "fixture out of calibration"})
    assert held["status"] == "on_hold" and held["hold_reason"] == "fixture out of calibration"
    assert held["operations"][0]["status"] == "paused"
    with pytest.raises(errors.RuleViolated):
        rpc.wo.resume_operation(wo["id"], op10)
    with pytest.raises(errors.ValidationFailed):
        rpc.wo.hold_work_order(wo["id"], {})
    resumed = rpc.wo.resume_work_order(wo["id"])
    assert resumed["status"] == "in_progress" and resumed["hold_reason"] is None
    rpc.wo.resume_operation(wo["id"], op10)

    hold = rpc.material.place_hold({"target_type": "lot", "target_id": world.lots[0]["id"], "reason": "NCR-7"})
    with pytest.raises(errors.Conflict) as exc:
        rpc.wo.consume_material(wo["id"], op10, {"items": [{"lot_id": world.lots[0]["id"], "quantity": 1}]})
    assert exc.value.details["hold_id"] == hold["id"]

    with pytest.raises(errors.RuleViolated):  # in progress: hold it first
        rpc.wo.cancel_work_order(wo["id"], {"reason": "customer cancelled"})
    rpc.wo.hold_work_order(wo["id"], {"reason": "customer call"})
    assert len(active_reservations(rpc, wo["id"])) == 1
    cancelled = rpc.wo.cancel_work_order(wo["id"], {"reason": "customer cancelled"})
    assert cancelled["status"] == "cancelled" and active_reservations(rpc, wo["id"]) == []
    assert [h["to"] for h in cancelled["status_history"]] == [
        "created", "released", "in_progress", "on_hold", "in_progress", "on_hold", "cancelled"]

    # scrap on the last operation: the order completes short; close gives back what is left
    rpc.material.release_hold(hold["id"], {"reason": "NCR-7 closed: use as is"})
    wo = rpc.wo.release_work_order(new_order(rpc, world, quantity=3)["id"])
    op = wo["operations"][1]["id"]
    rpc.wo.start_operation(wo["id"], wo["operations"][0]["id"])
    rpc.wo.complete_operation(wo["id"], wo["operations"][0]["id"], {"good": 3})
    rpc.wo.start_operation(wo["id"], op)
    with pytest.raises(errors.RuleViolated) as exc:  # a rule between fields the document cannot state
        rpc.wo.complete_operation(wo["id"], op, {"good": 2, "scrap": 1})
    assert exc.value.details == {"reason_codes": ["required when scrap or rework is reported"]}
    with pytest.raises(errors.RuleViolated):  # not serial-controlled
        rpc.wo.complete_operation(wo["id"], op, {"good": 1, "serial_numbers": ["X-1"]})
    done = rpc.wo.complete_operation(wo["id"], op, {"good": 2, "scrap": 1, "reason_codes": ["CRACK"],
                                                    "lot_number": "OUT-1"})
    assert done["operations"][1]["status"] == "completed"
    order = rpc.wo.get_work_order(wo["id"])
    assert (order["status"], order["quantity_completed"], order["quantity_scrapped"]) == ("completed", 2, 1)
    output, = outbox(db, "mes.work_order.output.reported", wo["id"])
    assert (output["quantity"], output["serial_numbers"], output["lot_number"]) == (2, None, "OUT-1")

    assert len(active_reservations(rpc, wo["id"])) == 1  # nothing was consumed
    assert rpc.wo.close_work_order(wo["id"], {"reason": "done"})["status"] == "closed"
    assert active_reservations(rpc, wo["id"]) == []


TORQUE_STEP = {"title": "Torque the fasteners", "text": "Cross pattern, two passes.", "fields": [
    {"name": "torque", "type": "number", "required": True, "unit": "N.m", "min": 20, "max": 25},
    {"name": "wrench", "type": "text", "required": True}]}


def test_work_instruction_frozen_at_release_and_steps_bought_off_once(rpc):
    code = f"WI-TORQUE-{new_tag()}"
    wi = {"code": code, "title": "Torque", "steps": [TORQUE_STEP, {"title": "Clean", "fields": []}]}
    world = build(rpc, components=1, operations=2, instruction=code)
    wo = new_order(rpc, world, quantity=1)
    rpc.wo.create_work_instruction(wi)
    with pytest.raises(errors.RuleViolated) as exc:  # a draft is not work to the floor
        rpc.wo.release_work_order(wo["id"])
    assert code in exc.value.message and active_reservations(rpc, wo["id"]) == []
    rpc.wo.release_work_instruction(code, 1)
    wo = rpc.wo.release_work_order(wo["id"])
    frozen = wo["operations"][0]["work_instruction"]
    assert (frozen["code"], frozen["version"], len(frozen["steps"])) == (code, 1, 2)
    rpc.wo.revise_work_instruction(code, {"title": "Torque v2", "steps": [TORQUE_STEP]})
    rpc.wo.release_work_instruction(code, 2)
    assert rpc.wo.get_work_order(wo["id"])["operations"][0]["work_instruction"]["version"] == 1  # frozen

    op = wo["operations"][0]["id"]
    with pytest.raises(errors.RuleViolated):  # not started
        rpc.wo.buy_off_step(wo["id"], op, {"step": 0, "values": {"torque": 22, "wrench": "TW-7"}})
    rpc.wo.start_operation(wo["id"], op)
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.wo.buy_off_step(wo["id"], op, {"step": 0, "values": {"torque": 30}})
    assert set(exc.value.details) == {"values.torque", "values.wrench"}
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.wo.buy_off_step(wo["id"], op, {"step": 2, "values": {}})
    assert "step" in exc.value.details
    bought = rpc.wo.buy_off_step(wo["id"], op, {"step": 0, "values": {"torque": 22.5, "wrench": "TW-7"},
                                                "note": "ok"})
    assert (bought["values"], bought["by_name"], bought["by_id"]) == ({"torque": 22.5, "wrench": "TW-7"}, "alice",
                                                                      USER_ID)
    with pytest.raises(errors.Conflict) as exc:
        rpc.wo.buy_off_step(wo["id"], op, {"step": 0, "values": {"torque": 21, "wrench": "TW-7"}})
    assert "alice" in exc.value.message
    steps = rpc.wo.get_work_order(wo["id"])["operations"][0]["buy_offs"]
    assert [(b["step"], b["values"]["torque"]) for b in steps] == [(0, 22.5)]


def test_an_operation_with_an_open_in_process_inspection_cannot_report_good_units(rpc):
    world = build(rpc, components=1, operations=2)
    inspect_first_operation(rpc, world, f"IP-OP10-{world.tag}", "Deburred")
    wo = rpc.wo.release_work_order(new_order(rpc, world, quantity=2)["id"])
    first = wo["operations"][0]["id"]
    rpc.wo.start_operation(wo["id"], first)
    with pytest.raises(errors.RuleViolated) as refused:   # opened yet or not: the control point keeps it shut
        rpc.wo.complete_operation(wo["id"], first, {"good": 2})
    assert "inspection" in refused.value.details
    inspection = wait_until(lambda: rpc.quality.list_inspections({"operation_id": first})["items"], timeout=10,
                            message="the in-process inspection opened from operation.started")[0]
    assert (inspection["kind"], inspection["work_order_number"], inspection["status"]) == (
        "in_process", wo["number"], "open")
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.wo.complete_operation(wo["id"], first, {"good": 2})
    assert refused.value.details["inspections"] == [inspection["number"]]
    assert rpc.wo.complete_operation(wo["id"], first, {"good": 0, "scrap": 1, "reason_codes": ["DROPPED"]})  # no gate
    rpc.quality.record_results(inspection["id"], {"results": [{"characteristic": 1, "sample": 1, "passed": True}]})
    done = rpc.wo.complete_operation(wo["id"], first, {"good": 1})
    assert done["operations"][0]["status"] == "completed"
