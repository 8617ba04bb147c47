"""Work orders, their cached references and downtime, against the real
resource and material services."""
import uuid

import eventlet
import pytest

from mes_common import errors
from mes_common.events.envelope import CloudEvent
from mes_common.testing.fixtures import wait_until
from work_order_service import domain
from work_order_service.testing import DUE, USER_ID, build, new_order, publish
from mes_common.testing.records import records


def test_create_checks_references_caches_names_and_lists(rpc):
    world = build(rpc, components=1, operations=1)
    wo = new_order(rpc, world, quantity=5, priority=10)
    generated = int(wo["number"].removeprefix("WO-"))  # the order number sequence
    assert (wo["number"], wo["part_number"], wo["part_name"], wo["part_revision"], wo["uom"]) == \
        (domain.format_number(generated), f"A-100-{world.tag}", "Bracket assembly", "A", "ea")
    assert (wo["site_name"], wo["work_center_name"], wo["created_by_id"], wo["created_by_name"]) == \
        ("Toulouse", "Cell 1", USER_ID, "alice")
    assert wo["status_history"] == [{"from": None, "to": "created", "reason": None, "actor": "alice",
                                     "at": wo["status_history"][0]["at"]}]
    erp = new_order(rpc, world, number=f"ERP-{world.tag}-4711", quantity=1)
    assert erp["number"] == f"ERP-{world.tag}-4711"
    assert new_order(rpc, world)["number"] == domain.format_number(generated + 1)

    base = {"part_id": world.part["id"], "quantity": 1, "due_date": DUE, "site_id": world.site["id"]}
    refused = [({"part_id": str(uuid.uuid4())}, errors.RuleViolated, "part_id"),
               ({"site_id": world.wcs[0]["id"]}, errors.RuleViolated, "site_id"),
               ({"work_center_id": world.site["id"]}, errors.RuleViolated, "work_center_id"),
               ({"number": erp["number"]}, errors.Conflict, "number"),
               ({"quantity": 0, "priority": 1000}, errors.ValidationFailed, "quantity")]
    for change, error, field in refused:
        with pytest.raises(error) as exc:
            rpc.wo.create_work_order({**base, **change})
        assert field in exc.value.details, (change, exc.value.details)

    page = rpc.wo.list_work_orders({"part_id": world.part["id"], "limit": 2})
    assert [w["number"] for w in page["items"]] == [domain.format_number(generated + 1), erp["number"]]
    assert "operations" not in page["items"][0]
    rest = rpc.wo.list_work_orders({"part_id": world.part["id"], "limit": 2, "cursor": page["next_cursor"]})
    assert [w["number"] for w in rest["items"]] == [wo["number"]] and rest["next_cursor"] is None
    assert [w["number"] for w in rpc.wo.list_work_orders({"number": f"ERP-{world.tag}"})["items"]] == [erp["number"]]

    updated = rpc.wo.update_work_order(wo["id"], {"quantity": 8, "priority": 1, "version": 1})
    assert (updated["quantity"], updated["priority"], updated["version"]) == (8, 1, 2)
    with pytest.raises(errors.Conflict):
        rpc.wo.update_work_order(wo["id"], {"quantity": 9, "version": 1})
    rpc.wo.release_work_order(wo["id"])
    with pytest.raises(errors.RuleViolated):
        rpc.wo.update_work_order(wo["id"], {"quantity": 9})
    with pytest.raises(errors.NotFound):
        rpc.wo.get_work_order(str(uuid.uuid4()))
    with pytest.raises(errors.ValidationFailed):
        rpc.wo.get_work_order(wo["number"])

    rpc.material.update_part(world.part["id"], {"status": "obsolete"})
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.wo.create_work_order(base)
    assert "obsolete" in exc.value.message


def _names(rpc, part_id, field="part_name"):
    """The `field` values of the work orders of one part."""
    return {w[field] for w in rpc.wo.list_work_orders({"part_id": part_id, "limit": 500})["items"]}


def part_updated(engine, part_id):
    """The envelopes of the material service's part.updated events of one part, oldest first."""
    return [r["envelope"] for r in records(engine, "SELECT envelope FROM outbox "
                                        "WHERE type = 'mes.material.part.updated' AND subject = :p ORDER BY id",
                                        p=part_id)]


def test_renames_update_every_copy_and_a_duplicated_event_changes_nothing(rpc, stack, engines, db):
    world = build(rpc, components=1, operations=2)
    other = rpc.material.create_part({"part_number": f"B-200-{world.tag}", "name": "Other", "type": "manufactured"})
    for _ in range(20):
        new_order(rpc, world, quantity=1)

    rpc.material.update_part(world.part["id"], {"name": "Bracket assy, LH"})
    wait_until(lambda: _names(rpc, world.part["id"]) == {"Bracket assy, LH"}, timeout=5, message="rename")
    first, = part_updated(engines["material_service"], world.part["id"])
    rpc.material.update_part(world.part["id"], {"name": "Bracket assy, RH"})
    wait_until(lambda: _names(rpc, world.part["id"]) == {"Bracket assy, RH"}, timeout=5, message="rename 2")

    # the first event again (a redelivery): applied once already, so nothing changes
    publish(stack.config, "material_service", first)
    rpc.material.update_part(other["id"], {"name": "Marker"})  # handled after the duplicate
    marker, = part_updated(engines["material_service"], other["id"])
    handled = lambda: records(db,  # noqa: E731
                           "SELECT 1 FROM inbox WHERE event_id = :e", e=marker["id"])
    wait_until(handled, timeout=5, message="marker handled")
    eventlet.sleep(0.2)
    assert _names(rpc, world.part["id"]) == {"Bracket assy, RH"}
    syncs = records(db, "SELECT new_values FROM audit_log "
                 "WHERE action = 'sync_reference' AND entity_id = :e ORDER BY id", e=f"part:{world.part['id']}")
    assert [s["new_values"]["part_name"] for s in syncs] == ["Bracket assy, LH", "Bracket assy, RH"]
    assert syncs[0]["new_values"]["rows"] == {"work_order": 20}

    # work center, site and user renames reach orders and operations
    wo = rpc.wo.release_work_order(new_order(rpc, world)["id"])
    rpc.wo.start_operation(wo["id"], wo["operations"][0]["id"])
    rpc.resource.update_node(world.wcs[0]["id"], {"name": "5-axis cell"})
    rpc.resource.update_node(world.site["id"], {"name": "Toulouse-Blagnac"})
    publish(stack.config, "auth_service", CloudEvent.new(
        "mes.auth.user.updated", "auth_service", USER_ID,
        {"id": USER_ID, "username": "alice", "display_name": "Alice Martin", "active": True}).to_dict())

    def renamed():
        order = rpc.wo.get_work_order(wo["id"])
        return (order["work_center_name"], order["site_name"], order["created_by_name"],
                order["operations"][0]["work_center_name"], order["operations"][0]["operator_name"],
                order["operations"][1]["work_center_name"]) == \
            ("5-axis cell", "Toulouse-Blagnac", "Alice Martin", "5-axis cell", "Alice Martin", "Cell 2")
    wait_until(renamed, timeout=5, message="renames applied")
    assert _names(rpc, world.part["id"], "site_name") == {"Toulouse-Blagnac"}
