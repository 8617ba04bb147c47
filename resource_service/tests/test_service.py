"""The resource service in a real container: PostgreSQL, RabbitMQ, Redis."""
import uuid

import pytest
from mes_common.rpc import ClusterRpcProxy
from sqlalchemy import text

from mes_common import errors
from mes_common.cache import CacheClient
from mes_common.testing.records import outbox_types
from resource_service.service import ResourceService


@pytest.fixture
def rpc(mes_config, container_factory):
    container = container_factory(ResourceService, mes_config)
    container.start()
    with ClusterRpcProxy(mes_config, timeout=10) as proxy:
        yield proxy.resource_service


@pytest.fixture
def cache(mes_config):
    import redis
    client = redis.Redis.from_url(mes_config["REDIS_URL"])
    yield CacheClient(client, prefix=mes_config["CACHE_PREFIX"])
    client.close()


def build_plant(rpc):
    ent = rpc.create_node({"level": "enterprise", "code": "ACME", "name": "Acme Aero"})
    site = rpc.create_node({"level": "site", "code": "TLS", "name": "Toulouse", "parent_id": ent["id"]})
    area = rpc.create_node({"level": "area", "code": "MACH", "name": "Machining", "parent_id": site["id"]})
    wc = rpc.create_node({"level": "work_center", "code": "WC-10", "name": "5-axis", "parent_id": area["id"]})
    return ent, site, area, wc


def test_create_hierarchy_emits_events_and_caches(rpc, cache, db_engines):
    ent, site, area, wc = build_plant(rpc)
    assert wc["depth"] == 3 and wc["parent_id"] == area["id"] and wc["version"] == 1
    assert outbox_types(db_engines["resource_service"]) == [
        "mes.resource.enterprise.created", "mes.resource.site.created",
        "mes.resource.area.created", "mes.resource.work_center.created"]
    assert cache.get("equipment", wc["id"]) == {
        "id": wc["id"], "level": "work_center", "code": "WC-10", "name": "5-axis",
        "parent_id": area["id"], "active": True}


def test_nesting_and_duplicates_are_refused(rpc):
    ent, site, area, wc = build_plant(rpc)
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.create_node({"level": "work_center", "code": "X", "name": "x", "parent_id": site["id"]})
    assert "parent_id" in exc.value.details
    with pytest.raises(errors.Conflict) as exc:
        rpc.create_node({"level": "work_center", "code": "WC-10", "name": "dup", "parent_id": area["id"]})
    assert exc.value.details == {"code": ["already used"]}
    # the same code is fine under another parent
    area2 = rpc.create_node({"level": "area", "code": "ASSY", "name": "Assembly", "parent_id": site["id"]})
    rpc.create_node({"level": "work_center", "code": "WC-10", "name": "ok", "parent_id": area2["id"]})


def test_validation_names_fields(rpc):
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.create_node({"level": "galaxy", "code": "", "name": "x" * 201, "colour": "red"})
    assert set(exc.value.details) == {"level", "code", "name", "colour"}
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.get_node("not-a-uuid")
    assert "id" in exc.value.details
    with pytest.raises(errors.NotFound):
        rpc.get_node(str(uuid.uuid4()))


def test_update_with_version_and_list_pagination(rpc):
    ent, site, area, wc = build_plant(rpc)
    updated = rpc.update_node(wc["id"], {"name": "5-axis DMU", "version": 1})
    assert updated["name"] == "5-axis DMU" and updated["version"] == 2
    with pytest.raises(errors.Conflict):
        rpc.update_node(wc["id"], {"name": "stale", "version": 1})
    for i in range(7):
        rpc.create_node({"level": "work_center", "code": f"WC-{20 + i}", "name": f"wc {i}",
                         "parent_id": area["id"]})
    seen, cursor = [], None
    while True:
        page = rpc.list_nodes({"level": "work_center", "limit": 3, "cursor": cursor})
        seen += [n["code"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 8 and len(set(seen)) == 8
    assert [n["code"] for n in rpc.list_nodes({"parent_id": site["id"]})["items"]] == ["MACH"]


def test_move_tree_and_ancestors(rpc, db_engines):
    ent, site, area, wc = build_plant(rpc)
    cell = rpc.create_node({"level": "work_unit", "code": "CELL-1", "name": "cell", "parent_id": wc["id"]})
    machine = rpc.create_node({"level": "equipment", "code": "DMU-1", "name": "DMU", "parent_id": cell["id"]})
    area2 = rpc.create_node({"level": "area", "code": "ASSY", "name": "Assembly", "parent_id": site["id"]})
    moved = rpc.move_node(wc["id"], {"parent_id": area2["id"]})
    assert moved["parent_id"] == area2["id"]
    assert [a["code"] for a in rpc.get_ancestors(machine["id"])] == ["ACME", "TLS", "ASSY", "WC-10", "CELL-1"]
    tree = rpc.get_tree(site["id"])
    assert [c["code"] for c in tree["children"]] == ["ASSY", "MACH"]
    assert tree["children"][0]["children"][0]["children"][0]["children"][0]["code"] == "DMU-1"
    assert rpc.get_tree(site["id"], {"max_depth": 1})["children"][0]["children"] == []
    with pytest.raises(errors.RuleViolated):  # into its own subtree (and wrong level)
        rpc.move_node(area2["id"], {"parent_id": cell["id"]})
    with pytest.raises(errors.RuleViolated):
        rpc.move_node(wc["id"], {"parent_id": site["id"]})
    assert outbox_types(db_engines["resource_service"])[-1] == "mes.resource.work_center.moved"


def test_deactivate_refused_while_children_active(rpc):
    ent, site, area, wc = build_plant(rpc)
    with pytest.raises(errors.Conflict) as exc:
        rpc.deactivate_node(area["id"])
    assert exc.value.details == {"active_children": 1}
    assert rpc.deactivate_node(wc["id"], {"reason": "decommissioned"})["active"] is False
    assert rpc.deactivate_node(area["id"])["active"] is False
    with pytest.raises(errors.RuleViolated):
        rpc.create_node({"level": "work_center", "code": "N", "name": "n", "parent_id": area["id"]})
    with pytest.raises(errors.RuleViolated):
        rpc.reactivate_node(wc["id"])
    assert rpc.reactivate_node(area["id"])["active"] is True


def test_every_change_is_audited_with_actor_and_old_new_values(mes_config, container_factory, db_engines):
    container = container_factory(ResourceService, mes_config)
    container.start()
    with ClusterRpcProxy(mes_config, timeout=10,
                         context_data={"actor": "alice", "correlation_id": "req-42"}) as proxy:
        rpc = proxy.resource_service
        ent, site, area, wc = build_plant(rpc)
        area2 = rpc.create_node({"level": "area", "code": "ASSY", "name": "Assembly", "parent_id": site["id"]})
        rpc.update_node(wc["id"], {"name": "5-axis DMU", "code": "WC-10"})  # code unchanged: not audited
        rpc.move_node(wc["id"], {"parent_id": area2["id"]})
        rpc.deactivate_node(wc["id"], {"reason": "decommissioned"})
        rpc.reactivate_node(wc["id"])
        assert rpc.verify_audit() == {"ok": True, "entries": 9, "first_broken": None}
    with db_engines["resource_service"].connect() as conn:
        log = conn.execute(text(
            "SELECT actor, action, entity_type, entity_id, old_values, new_values, reason, correlation_id "
            "FROM audit_log ORDER BY id")).mappings().all()
    assert {(e["actor"], e["entity_type"], e["correlation_id"]) for e in log} == {
        ("alice", "equipment_node", "req-42")}
    assert [e["action"] for e in log] == ["create"] * 5 + ["update", "move", "deactivate", "reactivate"]
    created = log[3]
    assert created["entity_id"] == wc["id"] and created["old_values"] is None
    assert created["new_values"] == wc  # the dumped node
    assert (log[5]["old_values"], log[5]["new_values"]) == ({"name": "5-axis"}, {"name": "5-axis DMU"})
    assert log[6]["old_values"] == {"parent_id": area["id"], "depth": 3,
                                    "path": f"/{ent['id']}/{site['id']}/{area['id']}/{wc['id']}/"}
    assert log[6]["new_values"] == {"parent_id": area2["id"], "depth": 3,
                                    "path": f"/{ent['id']}/{site['id']}/{area2['id']}/{wc['id']}/"}
    assert (log[7]["old_values"], log[7]["new_values"], log[7]["reason"]) == (
        {"active": True}, {"active": False}, "decommissioned")
    assert (log[8]["old_values"], log[8]["new_values"], log[8]["reason"]) == ({"active": False}, {"active": True}, None)
