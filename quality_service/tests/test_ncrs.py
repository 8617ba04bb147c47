"""Nonconformance reports through the service's RPCs, with the real material
service holding and releasing (the MRB's signed approvals are driven over
HTTP by tests/test_quality.py)."""
import uuid

import pytest

from mes_common import errors
from mes_common.testing.fixtures import wait_until
from mes_common.testing.records import rows


def _lot(rpc, tag, quantity=10):
    part = rpc.material.create_part({"part_number": f"NP-{tag}", "name": "Spacer", "type": "purchased",
                                     "lot_controlled": True})
    stores = rpc.material.create_location({"code": f"NS-{tag}", "name": "Stores"})
    lot = rpc.material.receive_lot({"part_id": part["id"], "quantity": quantity, "location_id": stores["id"]})
    return part, lot


def _raise(rpc, lot, **extra):
    return rpc.quality.raise_ncr({"source": "shop_floor", "severity": "major", "title": "Spacer length short",
                                  "description": "found at assembly", "defect_codes": ["DIM-OOT"],
                                  "items": [{"target_type": "lot", "target_id": lot["id"]}], **extra})


def _held(rpc, ncr_id):
    return wait_until(lambda: (n := rpc.quality.get_ncr(ncr_id))["status"] == "contained" and n, timeout=10,
                      message="material confirmed the hold")


def test_an_ncr_holds_its_lot_and_its_disposition_is_refused_until_it_adds_up(rpc, db, tag):
    part, lot = _lot(rpc, tag)
    ncr = _raise(rpc, lot)
    assert (ncr["status"], ncr["hold_status"], ncr["quantity"], ncr["part_number"]) == ("open", "pending", 10.0,
                                                                                        part["part_number"])
    ncr = _held(rpc, ncr["id"])
    assert ncr["hold_status"] == "held" and ncr["containment"][0]["action"].startswith("held in material")
    hold = rpc.material.get_hold(ncr["items"][0]["hold_id"])
    assert (hold["reference"], hold["status"], hold["target_id"]) == (ncr["number"], "active", lot["id"])

    lines = [{"target_id": lot["id"], "decision": "rework", "quantity": 4},
             {"target_id": lot["id"], "decision": "use_as_is", "quantity": 5}]
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.quality.set_disposition(ncr["id"], {"lines": lines})
    assert set(refused.value.details) == {"lines", "lines.1.justification"}
    assert "dispose of 9" in refused.value.details["lines"][0]
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.quality.set_disposition(ncr["id"], {"lines": [{"target_id": str(uuid.uuid4()), "decision": "scrap",
                                                           "quantity": 10}]})
    assert "lines.0.target_id" in refused.value.details
    with pytest.raises(errors.Conflict):
        rpc.quality.set_disposition(ncr["id"], {"lines": lines, "version": ncr["version"] + 3})
    lines[1].update(quantity=6, justification="length within the assembly's stack-up (calc 17)")
    proposed = rpc.quality.set_disposition(ncr["id"], {"lines": lines})
    assert [(d["decision"], d["quantity"], d["effect_status"]) for d in proposed["dispositions"]] == [
        ("rework", 4.0, "proposed"), ("use_as_is", 6.0, "proposed")]
    with pytest.raises(errors.Forbidden) as refused:   # the platform's own call cannot stand in for the board
        rpc.quality.approve_disposition(ncr["id"], {})
    assert refused.value.details == {"signature": ["no signed-in person"]}
    assert rows(db, "SELECT count(*) FROM signature WHERE record_id = :r", r=ncr["id"]) == [(0,)]


def test_a_draft_holds_nothing_until_raised_and_a_cancelled_ncr_releases_its_hold(rpc, tag):
    _, lot = _lot(rpc, tag)
    draft = _raise(rpc, lot, draft=True)
    assert (draft["status"], draft["hold_status"]) == ("draft", "none")
    assert rpc.material.list_holds({"target_id": lot["id"]})["items"] == []
    updated = rpc.quality.update_ncr(draft["id"], {"severity": "minor", "version": draft["version"]})
    assert updated["severity"] == "minor"
    ncr = _held(rpc, rpc.quality.submit_ncr(draft["id"], {})["id"])
    cancelled = rpc.quality.cancel_ncr(ncr["id"], {"reason": "measured with the wrong gauge"})
    assert cancelled["status"] == "cancelled"
    released = wait_until(lambda: (n := rpc.quality.get_ncr(ncr["id"]))["hold_status"] == "released" and n,
                          timeout=10, message="material released the hold")
    assert rpc.material.get_hold(released["items"][0]["hold_id"])["status"] == "released"
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.quality.add_containment(ncr["id"], {"action": "too late"})
    assert refused.value.details == {"status": ["is cancelled"]}


def test_raising_refuses_what_material_does_not_know_naming_the_field(rpc, tag):
    _, lot = _lot(rpc, tag)
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.quality.raise_ncr({"source": "customer", "severity": "minor", "title": "x", "description": "y",
                               "items": [{"target_type": "lot", "target_id": lot["id"]},
                                         {"target_type": "serial", "target_id": str(uuid.uuid4())}]})
    assert list(refused.value.details) == ["items.1.target_id"]
    with pytest.raises(errors.RuleViolated) as refused:
        _raise(rpc, lot, items=[{"target_type": "lot", "target_id": lot["id"]},
                                {"target_type": "lot", "target_id": lot["id"]}])
    assert "items" in refused.value.details


def test_a_capa_is_checked_and_closed_by_a_signed_in_person_only(rpc, tag):
    _, lot = _lot(rpc, tag)
    ncr = _raise(rpc, lot)
    capa = rpc.quality.open_capa({"title": "Spacers short", "problem": "found at assembly", "ncr_ids": [ncr["id"]],
                                  "owner_name": "Quentin", "root_cause": "saw stop moved"})
    capa = rpc.quality.add_capa_action(capa["id"], {"kind": "corrective", "description": "pin the saw stop",
                                                    "owner_name": "Cell lead", "due_on": "2027-01-15"})
    rpc.quality.complete_capa_action(capa["id"], 1, {"evidence": "pinned, photo on file"})
    with pytest.raises(errors.NotFound):
        rpc.quality.complete_capa_action(capa["id"], 2, {"evidence": "x"})
    with pytest.raises(errors.Forbidden) as refused:
        rpc.quality.sign_capa_effectiveness(capa["id"], {"result": "ok", "effective": True})
    assert refused.value.details == {"signature": ["no signed-in person"]}
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.quality.open_capa({"title": "x", "problem": "y", "ncr_ids": [str(uuid.uuid4())], "owner_name": "z"})
    assert "ncr_ids" in refused.value.details
