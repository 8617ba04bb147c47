"""Rework operations and the NCRs of work in process, against the real
quality, material and resource services.

An in-process inspection that fails raises an NCR holding its operation's
work in process (the gate refuses good units). The MRB's signed disposition
arrives as its event (signing takes a person signed in: the flow with real
signatures runs over HTTP in tests/test_shop_floor.py); each rework line
becomes one rework operation, however often the event comes; the NCR's line
follows it; when the rework is done the units are inspected again.
"""
import eventlet
import pytest

from mes_common import errors
from mes_common.events.envelope import CloudEvent
from mes_common.testing.fixtures import wait_until
from work_order_service.testing import build, inspect_first_operation, new_order, publish


def _failed_at_first_operation(rpc, quantity=2):
    """A released order whose first operation's in-process inspection failed: (world, order, op id, NCR)."""
    world = build(rpc, components=1, operations=2)
    inspect_first_operation(rpc, world, f"IP-RW-{world.tag}", "Bore free of chatter", "major")
    order = rpc.wo.release_work_order(new_order(rpc, world, quantity=quantity)["id"])
    op10 = order["operations"][0]["id"]
    rpc.wo.start_operation(order["id"], op10)
    inspection = wait_until(lambda: rpc.quality.list_inspections({"operation_id": op10})["items"], timeout=10,
                            message="the in-process inspection opened")[0]
    failed = rpc.quality.record_results(inspection["id"], {"results": [
        {"characteristic": 1, "sample": 1, "passed": False, "note": "chatter marks"}]})
    assert failed["status"] == "failed" and failed["ncr_number"]
    return world, order, op10, rpc.quality.get_ncr(failed["ncr_id"])


def _dispositioned(ncr):
    """The event of the MRB's signed disposition of `ncr` (its lines as proposed)."""
    return CloudEvent.new("mes.quality.ncr.dispositioned", "quality_service", ncr["id"],
                          {**ncr, "status": "dispositioned"}).to_dict()


def test_a_failed_in_process_inspection_holds_its_operation_by_an_ncr(rpc):
    world, order, op10, ncr = _failed_at_first_operation(rpc)
    assert [(i["target_type"], i["target_id"], i["target_number"], i["quantity"], i["hold_status"])
            for i in ncr["items"]] == [("operation", op10, f"{order['number']}/10", 2.0, "held")]
    assert (ncr["status"], ncr["hold_status"], ncr["source"], ncr["work_order_number"], ncr["operation_sequence"]) \
        == ("contained", "held", "inspection", order["number"], 10)
    assert [h["to_status"] for h in ncr["history"]] == ["open", "contained"]
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.wo.complete_operation(order["id"], op10, {"good": 1})
    assert ncr["number"] in refused.value.message and "inspection" in refused.value.details
    assert rpc.wo.complete_operation(order["id"], op10, {"good": 0, "scrap": 1, "reason_codes": [ncr["number"]]})


def test_each_rework_line_becomes_one_rework_operation_and_the_units_are_inspected_again(rpc, stack):
    world, order, op10, ncr = _failed_at_first_operation(rpc)
    proposed = rpc.quality.set_disposition(ncr["id"], {"lines": [
        {"target_id": op10, "decision": "rework", "quantity": 1, "instructions": "re-bore to 12.000, finish pass"},
        {"target_id": op10, "decision": "use_as_is", "quantity": 1, "justification": "marks outside the seal land"}]})
    event = _dispositioned(proposed)
    publish(stack.config, "quality_service", event)
    publish(stack.config, "quality_service", event)   # redelivered: no second rework
    listed = lambda: rpc.wo.list_rework_operations({"ncr_number": ncr["number"]})["items"]  # noqa: E731
    rework, = wait_until(listed, timeout=10, message="the rework operation made")
    eventlet.sleep(0.3)
    assert len(listed()) == 1
    assert (rework["status"], rework["decision"], rework["target_type"], rework["quantity"], rework["instructions"]) \
        == ("open", "rework", "operation", 1.0, "re-bore to 12.000, finish pass")
    assert (rework["work_order_number"], rework["operation_sequence"], rework["work_center_id"]) == (
        order["number"], 10, world.wcs[0]["id"])
    line = lambda: rpc.quality.get_ncr(ncr["id"])["dispositions"][0]  # noqa: E731
    wait_until(lambda: (line()["rework_status"], line()["rework_number"]) == ("open", rework["number"]), timeout=10,
               message="the NCR's line follows its rework")

    with pytest.raises(errors.RuleViolated):
        rpc.wo.complete_rework_operation(rework["id"], {})   # not started
    started = rpc.wo.start_rework_operation(rework["id"], {})
    assert (started["status"], started["operator_name"]) == ("running", "alice")
    done = rpc.wo.complete_rework_operation(rework["id"], {"note": "re-bored, finish pass 0.05 mm"})
    assert (done["status"], done["note"]) == ("completed", "re-bored, finish pass 0.05 mm") and done["completed_at"]
    with pytest.raises(errors.RuleViolated):
        rpc.wo.complete_rework_operation(rework["id"], {})

    again = wait_until(lambda: [i for i in rpc.quality.list_inspections({"operation_id": op10})["items"]
                                if i["status"] == "open"], timeout=10, message="the re-inspection opened")[0]
    assert (again["kind"], again["quantity"], again["work_order_number"]) == ("in_process", 1, order["number"])
    assert line()["rework_status"] == "completed"


def test_a_rework_of_material_from_outside_names_its_work_center_at_start(rpc, stack):
    world = build(rpc, components=1, operations=1)
    lot = world.lots[0]
    ncr = rpc.quality.raise_ncr({"source": "supplier", "severity": "major", "title": "Burrs on the flange",
                                 "description": "found at kitting", "items": [
                                     {"target_type": "lot", "target_id": lot["id"], "quantity": 3}]})
    wait_until(lambda: rpc.quality.get_ncr(ncr["id"])["status"] == "contained", timeout=10,
               message="material held the lot")
    proposed = rpc.quality.set_disposition(ncr["id"], {"lines": [
        {"target_id": lot["id"], "decision": "repair", "quantity": 3, "justification": "deburr per SRM 51-10",
         "instructions": "deburr, break edges 0.2 mm"}]})
    publish(stack.config, "quality_service", _dispositioned(proposed))
    rework, = wait_until(lambda: rpc.wo.list_rework_operations({"ncr_number": ncr["number"]})["items"],
                         timeout=10, message="the rework operation made")
    assert (rework["target_type"], rework["target_number"], rework["work_center_id"], rework["work_order_id"]) == (
        "lot", lot["lot_number"], None, None)
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.wo.start_rework_operation(rework["id"], {})
    assert list(refused.value.details) == ["work_center_id"]
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.wo.start_rework_operation(rework["id"], {"work_center_id": world.site["id"]})
    assert refused.value.details == {"work_center_id": ["must be a work_center"]}
    started = rpc.wo.start_rework_operation(rework["id"], {"work_center_id": world.wcs[1]["id"]})
    assert (started["status"], started["work_center_name"]) == ("running", world.wcs[1]["name"])
    assert rpc.wo.list_rework_operations({"work_center_id": world.wcs[1]["id"], "status": "running"})["items"] == [
        started]
