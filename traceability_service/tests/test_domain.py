"""Traceability rules and projections, without infrastructure."""
import itertools
import uuid

import pytest

from mes_common import errors
from mes_common.events.envelope import CloudEvent
from traceability_service import domain, projections
from traceability_service.contract import CONSUMES, MAX_DEPTH
from traceability_service.testing import shop_floor_story

pytestmark = pytest.mark.fast  # no servers: `make test-fast`


def test_last_writer_wins_per_key_whatever_the_order():
    facts = [({"status": "received", "quantity": 40}, "2026-12-01T07:00:00|a"),
             ({"status": "released"}, "2026-12-01T07:00:05|b"),
             ({"quantity": 27.5, "status": "released"}, "2026-12-01T07:10:00|c"),
             ({"heat_number": "H-1"}, "2026-12-01T06:00:00|d")]
    results = set()
    for order in itertools.permutations(facts):
        attrs, stamps = {}, {}
        for values, version in order + order[:1]:   # one twice, too
            attrs, stamps = domain.lww(attrs, stamps, values, {k: version for k in values})
        results.add(tuple(sorted(attrs.items())))
    assert results == {(("heat_number", "H-1"), ("quantity", 27.5), ("status", "released"))}


def test_a_batch_merges_to_one_row_per_node_and_a_named_node_takes_its_own_type():
    node = uuid.uuid4()
    merged = domain.merge_node_facts([
        (node, "operation", {"number": None, "work_order_id": "w"}, False, "2026-12-01T08|x"),
        (node, "operation", {"number": "WO-1/10", "name": "Mill"}, True, "2026-12-01T07|y")])
    node_type, attrs, stamps, known = merged[node]
    assert (node_type, known, attrs["name"], attrs["work_order_id"]) == ("operation", True, "Mill", "w")


def _graph(edges):
    def neighbours(frontier):
        return [(a, b, (a, b, "consumed_into", None)) for a, b in edges if a in frontier]
    return neighbours


def test_a_walk_stops_at_its_depth_and_ends_on_a_cycle():
    chain = [(i, i + 1) for i in range(30)]
    reached, _ = domain.walk(0, _graph(chain), 10)
    assert max(reached.values()) == 10 and len(reached) == 11
    cycle = [(0, 1), (1, 2), (2, 0), (2, 3)]
    reached, edges = domain.walk(0, _graph(cycle), MAX_DEPTH)
    assert reached == {0: 0, 1: 1, 2: 2, 3: 3}
    assert len(edges) == 4


def test_a_walk_larger_than_allowed_is_refused_naming_depth():
    fan = [(0, i) for i in range(1, 50)]
    with pytest.raises(errors.ValidationFailed) as exc:
        domain.walk(0, _graph(fan), 3, max_nodes=10)
    assert "depth" in exc.value.details


def test_depth_beyond_the_maximum_names_depth():
    with pytest.raises(errors.ValidationFailed) as exc:
        domain.check_depth(MAX_DEPTH + 1)
    assert list(exc.value.details) == ["depth"]


def test_nesting_shows_a_node_once_and_hangs_hidden_types_on_their_parent():
    # backward from S: S <- WO <- OP <- LOT, and S <- LOT directly
    edges = [("WO", "S", "produced_by", None), ("OP", "WO", "operation_of", None),
             ("LOT", "OP", "consumed_into", 12.5), ("LOT", "S", "consumed_into", 2.5)]
    reached = {"S": 0, "WO": 1, "LOT": 1, "OP": 2}
    tree, count, truncated = domain.nest("S", reached, edges, "backward", lambda n: n != "OP", 10)
    assert [(c["id"], c["via"]) for c in tree["children"]] == [("LOT", "consumed_into"), ("WO", "produced_by")]
    wo = tree["children"][1]
    assert [(c["id"], c["ref"]) for c in wo["children"]] == []   # LOT is at depth 1 only: not a child of OP
    assert (count, truncated) == (2, False)


def test_recall_categories():
    assert domain.recall_category({"type": "lot", "attrs": {"status": "released", "quantity": 27.5}}) == "in_stock"
    assert domain.recall_category({"type": "lot", "attrs": {"status": "consumed", "quantity": 0}}) == "consumed"
    assert domain.recall_category({"type": "serial", "attrs": {"status": "assembled"}}) == "consumed"
    assert domain.recall_category({"type": "serial", "attrs": {"status": "available"}}) == "in_stock"
    assert domain.recall_category({"type": "work_order", "attrs": {"status": "in_progress"}}) == "in_work"
    assert domain.recall_category({"type": "operation", "attrs": {}}) is None


def test_every_projected_type_is_in_the_contract_and_every_consumed_type_is_projected():
    assert set(projections.projects.by_type) == set(CONSUMES)


def _facts(events):
    out = []
    for envelope in events:
        f = projections.project(CloudEvent.from_dict(envelope))
        out.append((sorted((str(n[0]), n[1], repr(sorted(n[2].items())), n[3]) for n in f.nodes),
                    sorted(str(e["id"]) for e in f.edges), sorted(str(t["node_id"]) for t in f.entries)))
    return out


def test_the_story_projects_the_genealogy_the_issue_names():
    story, ids = shop_floor_story("T1", serials=2)
    facts = [projections.project(CloudEvent.from_dict(e)) for e in story.events]
    edges = {(str(e["from_id"]), str(e["to_id"]), e["kind"]) for f in facts for e in f.edges}
    for serial in ids["serials"]:
        assert (ids["bar_lot"], serial, "consumed_into") in edges
        assert (ids["wo"], serial, "produced_by") in edges
    assert (ids["bar_lot"], ids["mill"], "consumed_into") in edges
    assert (ids["mill"], ids["wo"], "operation_of") in edges
    assert (ids["inspection"], ids["serials"][0], "inspected_by") in edges
    assert (ids["ncr"], ids["serials"][0], "nonconformance_on") in edges
    # pure: the same event gives the same facts
    assert _facts(story.events) == _facts(story.events)


def test_a_trace_may_hold_a_whole_graph_in_one_answer():
    """The console draws the genealogy from one nested answer (up to MAX_NESTED_NODES)."""
    from marshmallow import ValidationError

    from traceability_service.contract import MAX_NESTED_NODES
    from traceability_service.contract.schemas import TraceQuery

    assert TraceQuery().load({"format": "nested", "limit": MAX_NESTED_NODES})["limit"] == MAX_NESTED_NODES
    assert TraceQuery().load({"format": "flat", "limit": 501})["limit"] == 501
    with pytest.raises(ValidationError) as refused:
        TraceQuery().load({"format": "nested", "limit": MAX_NESTED_NODES + 1})
    assert "limit" in refused.value.messages
