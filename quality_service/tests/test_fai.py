"""FAIRs through the quality service's RPCs with the real material and
resource services: a full FAIR of a received serial, a partial one that
completes it, the kinds refused naming the field, and the way back from a
rejection (draft again when refreshed). The signatures of a person are
driven over HTTP by tests/test_shop_floor.py."""
import pytest

from mes_common import errors


def _serial(rpc, tag, number="S"):
    part = rpc.material.create_part({"part_number": f"FP-{tag}-{number}", "name": "Fitting", "type": "purchased",
                                     "serial_controlled": True})
    return part, rpc.material.create_serials({"part_id": part["id"], "serial_numbers": [f"F-{tag}-{number}1"]})[
        "serials"][0]


def test_a_partial_fai_completes_a_full_one_and_a_rejected_fair_is_a_draft_again(rpc, tag):
    part, serial = _serial(rpc, tag)
    full = rpc.quality.create_fair({"serial_id": serial["id"], "drawing_number": f"D-{tag}", "po_number": "PO-1"})
    assert (full["status"], full["kind"], full["reason"], full["drawing_number"], full["drawing_revision"],
            full["form3"], full["complete"]) == ("draft", "full", "new_part", f"D-{tag}", part["revision"], [], True)

    with pytest.raises(errors.RuleViolated) as refused:   # a partial FAI is for a change, naming what it completes
        rpc.quality.create_fair({"serial_id": serial["id"], "kind": "partial", "reason": "new_part"})
    assert set(refused.value.details) == {"reason", "previous_fair_id"}
    _, other = _serial(rpc, tag, "X")
    with pytest.raises(errors.RuleViolated) as refused:   # it completes a FAIR of its own part
        rpc.quality.create_fair({"serial_id": other["id"], "kind": "partial", "reason": "design_change",
                                 "previous_fair_id": full["id"]})
    assert list(refused.value.details) == ["previous_fair_id"]
    partial = rpc.quality.create_fair({"serial_id": serial["id"], "kind": "partial", "reason": "design_change",
                                       "previous_fair_id": full["id"]})
    assert (partial["previous_fair_number"], partial["reason_text"]) == (
        full["number"], "Change in design affecting fit, form or function")

    submitted = rpc.quality.submit_fair(partial["id"], {"version": partial["version"]})   # the platform signs nothing
    assert (submitted["status"], submitted["signatures"]) == ("in_review", [])
    with pytest.raises(errors.RuleViolated):
        rpc.quality.update_fair(partial["id"], {"po_number": "PO-2"})                     # frozen in review
    with pytest.raises(errors.Forbidden):
        rpc.quality.approve_fair(partial["id"], {})                                       # a person approves
    rejected = rpc.quality.reject_fair(partial["id"], {"reason": "drawing revision missing"})
    assert (rejected["status"], rejected["status_reason"]) == ("rejected", "drawing revision missing")
    again = rpc.quality.refresh_fair(partial["id"], {})
    assert again["status"] == "draft"
    changed = rpc.quality.update_fair(partial["id"], {"drawing_revision": "B"})   # that field only
    assert (changed["drawing_revision"], changed["drawing_number"]) == ("B", part["part_number"])
    with pytest.raises(errors.RuleViolated) as refused:
        rpc.quality.create_fair({"serial_id": "00000000-0000-4000-8000-000000000000"})
    assert list(refused.value.details) == ["serial_id"]
