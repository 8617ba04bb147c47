"""The read model in a real container: events in through the broker (one
stream per source, in batches), traces, recall, as-built and timeline out,
order- and duplicate-proof, rebuilt from event logs, poison dead-lettered."""
import random
import uuid

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy.orm import sessionmaker

from mes_common import errors
from mes_common.events.envelope import CloudEvent
from mes_common.events.dead_letters import list_dead_letters
from mes_common.events.stream import stream_queue_name
from mes_common.schemas import encode_cursor
from mes_common.testing.fixtures import wait_until
from mes_common.testing.records import EventLog
from traceability_service import projections, rebuild, store
from traceability_service.contract import MAX_DEPTH
from traceability_service.testing import Story, canonical_dump, shop_floor_story
from work_order_service.testing import publish

PUBLISHED = []   # every envelope this module sent through the broker: the owners' logs of the rebuild test


def send(stack, events):
    for envelope in events:
        publish(stack.config, envelope["source"], envelope)
        PUBLISHED.append(envelope)


def applied(rpc, node_id, summary_part):
    """The node's timeline has an entry saying `summary_part` (its event was applied)."""
    def check():
        try:
            entries = rpc.get_timeline(node_id, {"limit": 500})["items"]
        except errors.NotFound:
            return False
        return any(summary_part in e["summary"] for e in entries)
    return check


@pytest.fixture
def story(stack, rpc, tag):
    s, ids = shop_floor_story(tag, serials=3)
    send(stack, s.events)
    wait_until(applied(rpc, ids["serials"][0], "hold released"), timeout=15, message="the story applied")
    return s, ids


def test_the_backward_trace_of_a_serial_names_its_material_makers_and_evidence(rpc, story):
    s, ids = story
    serial = ids["serials"][0]
    back = rpc.trace_backward(serial, {"depth": 10})
    by_id = {n["id"]: n for n in back["nodes"]}
    bar = by_id[ids["bar_lot"]]
    assert (bar["type"], bar["heat_number"], bar["supplier"], bar["depth"]) == ("lot", f"H-{s.tag}", "Alcoa", 1)
    assert by_id[ids["bolt_lot"]]["supplier"] == "Bossard"
    assert {ids["wo"], ids["mill"], ids["assy"], ids["inspection"], ids["ncr"]} <= set(by_id)
    edges = {(e["from_id"], e["to_id"], e["kind"], e["quantity"]) for e in back["edges"]}
    assert (ids["bar_lot"], serial, "consumed_into", 2.5) in edges
    # only lots, through everything else
    lots = rpc.trace_backward(serial, {"depth": 10, "types": ["lot"]})
    assert {n["id"] for n in lots["nodes"]} == {ids["bar_lot"], ids["bolt_lot"]} and lots["total"] == 2
    # only the material links
    direct = rpc.trace_backward(serial, {"depth": 10, "via": ["consumed_into"]})
    assert {n["id"] for n in direct["nodes"]} == {ids["bar_lot"], ids["bolt_lot"]}


def test_the_forward_trace_and_the_recall_of_the_heat_reach_every_serial(rpc, story):
    s, ids = story
    forward = rpc.trace_forward(ids["bar_lot"], {"depth": 10, "types": ["serial"]})
    assert {n["id"] for n in forward["nodes"]} == set(ids["serials"])
    recall = rpc.recall({"heat_number": f"H-{s.tag}"})
    assert [r["id"] for r in recall["roots"]] == [ids["bar_lot"]]
    stock = {i["id"]: i for i in recall["items"] if i["category"] == "in_stock"}
    assert set(ids["serials"]) <= set(stock) and stock[ids["bar_lot"]]["quantity"] == 40 - 2.5 * 3
    assert [i["number"] for i in recall["items"] if i["category"] == "in_work"] == [f"WO-{s.tag}"]
    totals = {t["category"]: t for t in recall["totals"]}
    assert totals["in_stock"]["serials"] == 3 and totals["in_stock"]["lots"] == 1
    by_supplier = rpc.recall({"supplier_lot": f"AL-{s.tag}"})
    assert {i["id"] for i in by_supplier["items"]} == {i["id"] for i in recall["items"]}
    csv = rpc.recall_csv({"node_id": ids["bar_lot"]})
    lines = csv["content"].splitlines()
    assert lines[0].startswith("category,type,number") and len(lines) == 1 + len(recall["items"])
    assert csv["filename"] == f"recall-BAR-{s.tag}.csv"


def test_the_as_built_record_has_components_operations_inspections_and_ncrs(rpc, story):
    s, ids = story
    record = rpc.get_as_built(ids["serials"][0])
    assert record["serial"]["number"] == f"SN-{s.tag}-1"
    components = {c["number"]: c for c in record["components"]}
    assert components[f"BAR-{s.tag}"]["heat_number"] == f"H-{s.tag}"
    assert components[f"BAR-{s.tag}"]["certificates"] == ["CoC-2231"]
    [wo] = record["work_orders"]
    assert wo["routing"]["name"] == "A/v1"
    mill, assy = wo["operations"]
    assert (mill["operator_name"], mill["work_center_name"], mill["equipment"]) == \
        ("Olga Operator", "5-axis mill", "WC-10 5-axis mill")
    assert assy["work_instruction"]["version"] == 1
    assert assy["buy_offs"][0]["values"] == {"torque": 10.2}
    assert len(mill["gauges_used"]) == 1
    [inspection] = record["inspections"]
    assert inspection["results"][0]["value"] == 10.31 and inspection["status"] == "failed"
    [ncr] = record["ncrs"]
    assert ncr["dispositions"][0]["decision"] == "use_as_is"
    assert ncr["signatures"][0]["printed_name"] == "Quentin Quality"
    page = rpc.get_as_built_html(ids["serials"][0])
    assert page["filename"] == f"as-built-SN-{s.tag}-1.html"
    for text in (f"SN-{s.tag}-1", f"H-{s.tag}", "Olga Operator", f"NCR-{s.tag}", "Quentin Quality", "10.31"):
        assert text in page["content"]


def test_the_timeline_tells_who_did_what_when(rpc, story):
    s, ids = story
    entries = rpc.get_timeline(ids["mill"], {"limit": 100})["items"]
    assert [e["summary"] for e in entries][:2] == ["operation 10 Mill started by Olga Operator",
                                                   "gauge or tool used"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    page = rpc.get_timeline(ids["serials"][0], {"limit": 2})
    rest = rpc.get_timeline(ids["serials"][0], {"limit": 100, "cursor": page["next_cursor"]})
    assert len(page["items"]) == 2 and rest["items"] and rest["items"][0]["at"] >= page["items"][-1]["at"]


def test_nodes_are_found_by_number(rpc, story):
    s, ids = story
    [serial] = rpc.find_trace_nodes({"number": f"SN-{s.tag}-1"})["items"]
    assert (serial["id"], serial["type"], serial["known"]) == (ids["serials"][0], "serial", True)
    assert rpc.find_trace_nodes({"number": f"WO-{s.tag}/10", "type": "operation"})["items"][0]["id"] == ids["mill"]
    assert rpc.find_trace_nodes({"number": f"WO-{s.tag}", "type": "lot"})["items"] == []


def test_unknown_nodes_are_404_and_too_deep_names_depth(rpc, story):
    with pytest.raises(errors.NotFound):
        rpc.trace_backward(str(uuid.uuid4()), {})
    with pytest.raises(errors.NotFound):
        rpc.get_timeline(str(uuid.uuid4()), {})
    with pytest.raises(errors.NotFound):   # a person is named by the model, but is no node of the genealogy
        rpc.trace_forward(story[1]["operator"], {})
    with pytest.raises(errors.ValidationFailed) as exc:   # a cursor of the right form but the wrong types
        rpc.trace_forward(story[1]["bar_lot"], {"cursor": encode_cursor([1, 2, 3, 4])})
    assert list(exc.value.details) == ["cursor"]
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.trace_forward(story[1]["bar_lot"], {"depth": MAX_DEPTH + 1})
    assert "depth" in exc.value.details
    with pytest.raises(errors.NotFound):
        rpc.recall({"heat_number": "NO-SUCH-HEAT"})


def test_a_consumption_before_its_lot_is_linked_when_the_lot_arrives(stack, rpc, tag):
    s, ids = shop_floor_story(tag, serials=1)
    own = [e for e in s.events if e["type"].startswith("mes.material.lot.") and e["subject"] == ids["bar_lot"]]
    send(stack, [e for e in s.events if e not in own])
    wait_until(applied(rpc, ids["serials"][0], "hold released"), timeout=15, message="the story without the lot")
    named = rpc.get_trace_node(ids["bar_lot"])   # only the genealogy link has named it so far
    assert (named["known"], named["number"], named["attrs"].get("heat_number")) == (False, f"BAR-{tag}", None)
    send(stack, own)
    wait_until(applied(rpc, ids["bar_lot"], "received"), timeout=10, message="the lot")
    back = rpc.trace_backward(ids["serials"][0], {"types": ["lot"]})
    bar = next(n for n in back["nodes"] if n["id"] == ids["bar_lot"])
    assert bar["heat_number"] == f"H-{tag}" and bar["known"] is True


def _replay_into(db, generation, events, batch_sizes):
    sessions = sessionmaker(db)
    with sessions() as session, session.begin():
        store.clear(session, generation)
    start = 0
    while start < len(events):
        size = batch_sizes.pop(0) if batch_sizes else 7
        chunk = events[start:start + size]
        with sessions() as session, session.begin():
            store.apply(session, generation, [projections.project(CloudEvent.from_dict(e)) for e in chunk])
        start += size
    return canonical_dump(db, generation.schema)


def test_shuffled_and_duplicated_streams_give_the_same_model(db, tag):
    s, _ = shop_floor_story(tag, serials=4)
    with sessionmaker(db)() as session:
        scratch = store.active(session).other()
    in_order = _replay_into(db, scratch, list(s.events), [len(s.events)])
    assert len(in_order["nodes"]) >= 15 and len(in_order["edges"]) >= 15
    rng = random.Random(tag)
    for _ in range(3):
        events = s.events + rng.sample(s.events, len(s.events) // 3)   # a third delivered twice
        rng.shuffle(events)
        assert _replay_into(db, scratch, events, [rng.randint(1, 9) for _ in range(60)]) == in_order


def test_a_cycle_in_corrupt_data_ends_and_paging_walks_every_node(db, rpc, tag):
    story = Story(tag)
    lots = [str(uuid.uuid4()) for _ in range(30)]
    for i, lot in enumerate(lots):
        story.emit("material_service", "mes.material.lot.received", lot,
                   {**Story.lot(lot, f"L{tag}-{i:02d}", str(uuid.uuid4()), "P", 1.0), "origin": "receipt"})
    links = [{"id": str(uuid.uuid4()), "source_type": "lot", "source_id": a, "target_type": "lot", "target_id": b,
              "relation": "split", "quantity": 1.0, "created_at": story.clock.isoformat()}
             for a, b in zip(lots, lots[1:] + lots[:1])]   # the last back to the first: a cycle
    story.emit("material_service", "mes.material.genealogy.linked", lots[0], {"links": links})
    with sessionmaker(db)() as session, session.begin():
        store.apply(session, store.active(session), [projections.project(CloudEvent.from_dict(e))
                                                     for e in story.events])
    PUBLISHED.extend(story.events)   # as if through the broker: the rebuild below replays them
    everything = rpc.trace_forward(lots[0], {"depth": MAX_DEPTH, "limit": 500})
    assert everything["total"] == 25 and max(n["depth"] for n in everything["nodes"]) == MAX_DEPTH
    around = rpc.trace_forward(lots[0], {"depth": MAX_DEPTH, "via": ["split_from"]})
    seen, cursor = [], None
    while True:
        page = rpc.trace_forward(lots[0], {"depth": 3, "limit": 2, **({"cursor": cursor} if cursor else {})})
        seen += [n["depth"] for n in page["nodes"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [1, 2, 3] and around["total"] == 25
    full = rpc.trace_backward(lots[5], {"depth": MAX_DEPTH, "format": "nested", "limit": 10})
    assert full["truncated"] is True and len(full["nodes"]) == 10
    with pytest.raises(errors.ValidationFailed):
        rpc.trace_forward(lots[0], {"cursor": "bm90IGEgY3Vyc29y"})


def test_a_poison_event_goes_to_its_dead_letter_queue_and_the_others_apply(stack, rpc, tag):
    s, ids = shop_floor_story(tag, serials=1)
    poison = s.emit("material_service", "mes.material.lot.received", str(uuid.uuid4()), {"lot_number": "no id"})
    send(stack, [poison] + s.events[:-1])
    wait_until(applied(rpc, ids["serials"][0], f"NCR-{tag} dispositioned"), timeout=20,
               message="the events after the poison")
    queue = stream_queue_name("material_service", "traceability_service", "on_material")
    # (published without a message id, as a foreign publisher might: the dead letter keeps its subject)
    wait_until(lambda: poison["subject"] in {d["subject"] for d in list_dead_letters(stack.config["AMQP_URI"], queue)},
               timeout=20, message="the poison in the dead-letter queue")


def test_a_rebuild_from_the_event_logs_gives_the_live_model_and_answers_meanwhile(stack, db, rpc, story):
    sources = {}
    for envelope in PUBLISHED:
        sources.setdefault(envelope["source"], []).append(envelope)
    wait_until(lambda: all(_was_applied(db, e) for e in PUBLISHED[-5:]), timeout=15, message="the last events")
    live = canonical_dump(db)
    serial = story[1]["serials"][0]
    answered = []

    def progress(source, count, position):   # the old model answers while the new one fills
        answered.append(len(rpc.trace_backward(serial, {})["nodes"]))
        answered.append(rpc.get_model_status()["rebuilding"])
    owners = {name: EventLog(events) for name, events in sources.items()}
    before = rpc.get_model_status()["active"]
    done = rebuild.rebuild(sessionmaker(db), owners, progress, sources=sorted(sources))
    assert done["events"] == len(PUBLISHED)
    assert [event_type for _, event_type, _ in done["skipped"]] == ["mes.material.lot.received"]   # the poison
    after = rpc.get_model_status()
    assert (after["active"], after["rebuilding"]) == (done["generation"], None) and after["active"] != before
    assert answered and all(a for a in answered)
    rebuilt = canonical_dump(db)
    assert rebuilt == live


def _was_applied(db, envelope):
    from sqlalchemy import text
    with db.connect() as conn:
        return conn.execute(text("SELECT 1 FROM inbox WHERE event_id = :id"), {"id": envelope["id"]}).first()


def test_rpc_errors_cross_as_types(rpc):
    with pytest.raises((errors.ValidationFailed, RemoteError)):
        rpc.get_trace_node("not-a-uuid")
