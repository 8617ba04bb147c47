"""Routings in a real resource service container: PostgreSQL, RabbitMQ, Redis.

One container serves the module (a vhost and a container cost seconds); each
test works on parts of its own (random part ids), so tests stay independent.
"""
import time
import uuid

import pytest
from nameko.containers import get_container_cls
from nameko.rpc import rpc as nameko_rpc
from mes_common.rpc import ClusterRpcProxy
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from mes_common import errors
from mes_common.rpc import ConsumerProbe
from mes_common.schemas import encode_cursor
from mes_common.testing.fixtures import service_stack
from mes_common.testing.records import unsigned
from resource_service.service import ResourceService
from resource_service.tests.test_service import build_plant


@pytest.fixture(scope="module")
def stack(base_config, service_databases, _engines, cache_prefix):
    with service_stack("routings", (ResourceService,), base_config=base_config, service_databases=service_databases,
                       engines=_engines, cache_prefix=cache_prefix) as running, \
            ClusterRpcProxy(running.config, timeout=10, context_data={"actor": "planner-1"}) as proxy:
        yield {"config": running.config, "rpc": proxy.resource_service, "engine": _engines["resource_service"]}


@pytest.fixture(scope="module")
def rpc(stack):
    return stack["rpc"]


@pytest.fixture(scope="module")
def engine(stack):
    return stack["engine"]


@pytest.fixture(scope="module")
def plant(rpc):
    ent, site, area, wc = build_plant(rpc)
    wc2 = rpc.create_node({"level": "work_center", "code": "WC-20", "name": "Deburring", "parent_id": area["id"]})
    return {"area": area, "wc": wc, "wc2": wc2}


def operations(plant, **first):
    return [
        {"sequence": 20, "name": "Deburr", "work_center_id": plant["wc2"]["id"], "setup_time": 5,
         "run_time": 1.25, "skill_note": "bench fitter", "work_instruction_code": "WI-DEBURR"},
        {"sequence": 10, "name": "Rough mill", "work_center_id": plant["wc"]["id"], "setup_time": 30,
         "run_time": 12.5, **first},
    ]


def routing_events(engine, *routing_ids):
    """(type, subject, data) of the routing events about these routings, in order."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT type, subject, envelope->'data' FROM outbox WHERE type LIKE 'mes.resource.routing.%' "
            "AND subject = ANY(:ids) ORDER BY id"), {"ids": list(routing_ids)})]


def test_versions_and_the_single_released_rule(rpc, plant, engine):
    part_id = str(uuid.uuid4())
    v1 = rpc.create_routing({"part_id": part_id, "part_revision": "A", "description": "first",
                             "operations": operations(plant)})
    assert (v1["version"], v1["status"], v1["row_version"], v1["released_at"]) == (1, "draft", 1, None)
    assert [(o["sequence"], o["work_center_code"], o["work_center_name"]) for o in v1["operations"]] == [
        (10, "WC-10", "5-axis"), (20, "WC-20", "Deburring")]
    first = v1["operations"][0]
    assert (first["setup_time"], first["run_time"], first["required_skills"], first["skill_note"],
            first["work_instruction_code"]) == (30.0, 12.5, [], None, None)
    assert v1["operations"][1]["work_instruction_code"] == "WI-DEBURR"
    assert rpc.get_routing(v1["id"]) == v1
    v2 = rpc.create_routing({"part_id": part_id, "part_revision": "A", "operations": operations(plant)})
    other_revision = rpc.create_routing({"part_id": part_id, "part_revision": "B", "operations": operations(plant)})
    assert (v2["version"], other_revision["version"]) == (2, 1)

    released = rpc.release_routing(v1["id"])
    assert released["status"] == "released" and released["released_at"] and released["row_version"] == 2
    assert rpc.get_released_routing(part_id, "A")["id"] == v1["id"]
    with pytest.raises(errors.RuleViolated) as exc:  # released: final for edits
        rpc.update_routing(v1["id"], {"description": "late change"})
    assert "status" in exc.value.details

    rpc.release_routing(v2["id"])  # obsoletes v1 in the same transaction
    assert rpc.get_routing(v1["id"])["status"] == "obsolete"
    assert rpc.get_released_routing(part_id, "A")["id"] == v2["id"]
    with pytest.raises(errors.RuleViolated):
        rpc.release_routing(v1["id"])  # obsolete is final
    with pytest.raises(errors.RuleViolated):
        rpc.release_routing(v2["id"])  # already released
    rpc.release_routing(other_revision["id"])  # another revision: its own released version
    assert rpc.get_routing(v2["id"])["status"] == "released"

    events = routing_events(engine, v1["id"], v2["id"], other_revision["id"])
    assert [(t, subject) for t, subject, _ in events] == [
        ("mes.resource.routing.created", v1["id"]), ("mes.resource.routing.created", v2["id"]),
        ("mes.resource.routing.created", other_revision["id"]), ("mes.resource.routing.released", v1["id"]),
        ("mes.resource.routing.obsoleted", v1["id"]), ("mes.resource.routing.released", v2["id"]),
        ("mes.resource.routing.released", other_revision["id"])]
    assert events[0][2] == unsigned(v1)  # the whole RoutingOut
    obsoleted, released_v2 = events[4][2], events[5][2]
    assert obsoleted["status"] == "obsolete" and obsoleted["replaced_by_routing_id"] == v2["id"]
    assert released_v2["status"] == "released" and released_v2["previous_routing_id"] == v1["id"]
    assert released_v2["operations"] == v2["operations"]
    assert events[3][2]["previous_routing_id"] is None

    # the database itself refuses a second released version of a part revision
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE routing SET status = 'released' WHERE id = :id"), {"id": v1["id"]})


def test_concurrent_releases_leave_one_released(rpc, plant):
    part_id = str(uuid.uuid4())
    drafts = [rpc.create_routing({"part_id": part_id, "part_revision": "A", "operations": operations(plant)})
              for _ in range(5)]
    replies = [rpc.release_routing.call_async(d["id"]) for d in drafts]
    assert all(reply.result()["status"] == "released" for reply in replies)  # serialized, none refused
    statuses = [r["status"] for r in rpc.list_routings({"part_id": part_id})["items"]]
    assert sorted(statuses) == ["obsolete"] * 4 + ["released"]


def test_get_released_routing_not_found(rpc, plant):
    part_id = str(uuid.uuid4())
    rpc.create_routing({"part_id": part_id, "part_revision": "A", "operations": operations(plant)})
    with pytest.raises(errors.NotFound) as exc:  # only a draft exists
        rpc.get_released_routing(part_id, "A")
    assert exc.value.message == f"no released routing for part {part_id} revision A"
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.get_released_routing("nope", "")
    assert set(exc.value.details) == {"part_id", "part_revision"}


def test_operations_must_run_at_active_work_centers(rpc, plant):
    part = {"part_id": str(uuid.uuid4()), "part_revision": "A"}
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.create_routing({**part, "operations": operations(plant, work_center_id=plant["area"]["id"])})
    assert exc.value.details == {"operations.1.work_center_id": ["is a node of level area, not a work_center"]}
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.create_routing({**part, "operations": operations(plant, work_center_id=str(uuid.uuid4()))})
    assert exc.value.details == {"operations.1.work_center_id": ["no equipment node with this id"]}
    retired = rpc.create_node({"level": "work_center", "code": "WC-OLD", "name": "retired",
                               "parent_id": plant["area"]["id"]})
    rpc.deactivate_node(retired["id"])
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.create_routing({**part, "operations": operations(plant, work_center_id=retired["id"])})
    assert exc.value.details == {"operations.1.work_center_id": ["work center is inactive"]}
    # a work center deactivated after the draft was written: the draft is not released
    closing = rpc.create_node({"level": "work_center", "code": "WC-CLOSING", "name": "closing",
                               "parent_id": plant["area"]["id"]})
    draft = rpc.create_routing({**part, "operations": operations(plant, work_center_id=closing["id"])})
    rpc.deactivate_node(closing["id"])
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.release_routing(draft["id"])
    assert exc.value.details == {"operations.0.work_center_id": ["work center is inactive"]}
    assert rpc.get_routing(draft["id"])["status"] == "draft"


def test_malformed_routings_name_the_field(rpc, plant):
    part = {"part_id": str(uuid.uuid4()), "part_revision": "A"}
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.create_routing({**part, "operations": []})
    assert "operations" in exc.value.details
    with pytest.raises(errors.RuleViolated) as exc:  # valid by the document: a duplicate is a broken rule
        rpc.create_routing({**part, "operations": operations(plant, sequence=20)})
    assert exc.value.details == {"operations.1.sequence": ["sequence 20 is already used by operation 0"]}
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.create_routing({**part, "operations": operations(plant, setup_time=-1, run_time="NaN")})
    assert set(exc.value.details["operations"]["1"]) == {"setup_time", "run_time"}
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.create_routing({"part_revision": "", "operations": operations(plant)})
    assert set(exc.value.details) == {"part_id", "part_revision"}


def test_update_a_draft_with_row_version(rpc, plant, engine):
    routing = rpc.create_routing({"part_id": str(uuid.uuid4()), "part_revision": "A",
                                  "operations": operations(plant)})
    same = rpc.update_routing(routing["id"], {"operations": operations(plant), "description": None})
    assert same == routing  # nothing changed: no new row version, no event
    changed = rpc.update_routing(routing["id"], {"description": "with inspection", "version": 1, "operations": [
        *operations(plant), {"sequence": 30, "name": "Inspect", "work_center_id": plant["wc"]["id"],
                             "setup_time": 0, "run_time": 3}]})
    assert changed["row_version"] == 2 and changed["description"] == "with inspection"
    assert [o["sequence"] for o in changed["operations"]] == [10, 20, 30]
    with pytest.raises(errors.Conflict) as exc:
        rpc.update_routing(routing["id"], {"description": "stale", "version": 1})
    assert exc.value.details == {"version": 2}
    only_text = rpc.update_routing(routing["id"], {"description": "reworded", "version": 2})
    assert only_text["row_version"] == 3 and only_text["operations"] == changed["operations"]
    with pytest.raises(errors.NotFound):
        rpc.update_routing(str(uuid.uuid4()), {"description": "x"})
    updates = [data["changed"] for t, _, data in routing_events(engine, routing["id"])
               if t == "mes.resource.routing.updated"]
    assert updates == [["description", "operations"], ["description"]]


def test_list_routings_filters_and_pages(rpc, plant):
    part_id, other_part = str(uuid.uuid4()), str(uuid.uuid4())
    for revision in ("B", "A", "C", "A", "A"):
        rpc.create_routing({"part_id": part_id, "part_revision": revision, "operations": operations(plant)})
    rpc.create_routing({"part_id": other_part, "part_revision": "A", "operations": operations(plant)})
    seen, cursor = [], None
    while True:
        page = rpc.list_routings({"part_id": part_id, "limit": 2, "cursor": cursor})
        seen += [(r["part_revision"], r["version"]) for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [("A", 1), ("A", 2), ("A", 3), ("B", 1), ("C", 1)]
    page = rpc.list_routings({"part_id": part_id, "part_revision": "A", "status": "draft"})
    assert [r["version"] for r in page["items"]] == [1, 2, 3] and page["next_cursor"] is None
    rpc.release_routing(page["items"][1]["id"])
    released = rpc.list_routings({"part_id": part_id, "status": "released"})["items"]
    assert [(r["part_revision"], r["version"]) for r in released] == [("A", 2)]
    everything = rpc.list_routings({"limit": 500})["items"]
    assert {r["part_id"] for r in everything} >= {part_id, other_part}
    for cursor in ("bm90IGEgY3Vyc29y", encode_cursor(["x", "A", 1]), encode_cursor([part_id, "\x00", 1]),
                   encode_cursor([part_id, "A", True]), encode_cursor([part_id, "A"])):
        with pytest.raises(errors.ValidationFailed) as exc:  # forged cursors
            rpc.list_routings({"cursor": cursor})
        assert "cursor" in exc.value.details


def test_every_routing_change_is_audited(rpc, plant, engine):
    part = {"part_id": str(uuid.uuid4()), "part_revision": "A"}
    v1 = rpc.create_routing({**part, "operations": operations(plant)})
    rpc.update_routing(v1["id"], {"description": "v1"})
    v2 = rpc.create_routing({**part, "operations": operations(plant)})
    rpc.release_routing(v1["id"])
    rpc.release_routing(v2["id"])
    assert rpc.verify_audit()["ok"] is True
    with engine.connect() as conn:
        log = conn.execute(text(
            "SELECT actor, action, entity_id, old_values, new_values, reason FROM audit_log "
            "WHERE entity_type = 'routing' AND entity_id = ANY(:ids) ORDER BY id"),
            {"ids": [v1["id"], v2["id"]]}).mappings().all()
    assert [(e["action"], e["entity_id"]) for e in log] == [
        ("create", v1["id"]), ("update", v1["id"]), ("create", v2["id"]), ("release", v1["id"]),
        ("obsolete", v1["id"]), ("release", v2["id"])]
    assert {e["actor"] for e in log} == {"planner-1"}
    assert log[0]["new_values"] == unsigned(v1)
    assert (log[1]["old_values"], log[1]["new_values"]) == ({"description": None}, {"description": "v1"})
    assert log[4]["reason"] == "replaced by version 2"


class FakeMaterial:
    """Stands in for material_service's get_part_summaries."""
    name = "material_service"
    known = set()

    @nameko_rpc
    def get_part_summaries(self, ids):
        return {i: {"id": i, "part_number": "P-100", "revision": "A"} for i in ids if i in self.known}


def test_part_checked_when_material_answers(rpc, plant, stack):  # keep last: it starts a material service
    # material down (no container): the routing is accepted unchecked
    unchecked = rpc.create_routing({"part_id": str(uuid.uuid4()), "part_revision": "A",
                                    "operations": operations(plant)})
    assert unchecked["version"] == 1
    known = str(uuid.uuid4())
    FakeMaterial.known = {known}
    material = get_container_cls(stack["config"])(FakeMaterial, stack["config"])
    material.start()
    try:
        time.sleep(ConsumerProbe.down_ttl * 2)  # the resource service's "material is down" answer expires
        assert rpc.create_routing({"part_id": known, "part_revision": "A", "operations": operations(plant)})
        with pytest.raises(errors.RuleViolated) as exc:
            rpc.create_routing({"part_id": str(uuid.uuid4()), "part_revision": "A",
                                "operations": operations(plant)})
        assert exc.value.details == {"part_id": ["no part with this id in the material service"]}
    finally:
        material.kill()
