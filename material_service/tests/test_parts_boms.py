"""Parts, revisions, the reference cache, BOMs: against the real servers."""
import datetime as dt
import uuid

import pytest
import redis

from mes_common.testing.records import audit_entries, envelopes
from mes_common import errors
from mes_common.cache import CacheClient


@pytest.fixture
def cache(stack):
    client = redis.Redis.from_url(stack.config["REDIS_URL"])
    yield CacheClient(client, prefix=stack.config["CACHE_PREFIX"])
    client.close()


def test_parts_revisions_cache_and_events(rpc, plant, cache, db):
    part = plant.part("P-100", lot_controlled=True, uom="kg")
    assert (part["revision"], part["status"], part["version"], part["uom"]) == ("A", "active", 1, "kg")
    assert [r["revision"] for r in part["revisions"]] == ["A"] and part["revisions"][0]["created_by"] == "alice"
    assert cache.get("part", part["id"])["part_number"] == part["part_number"]

    renamed = rpc.update_part(part["id"], {"name": "Bracket", "version": 1})
    assert renamed["name"] == "Bracket" and renamed["version"] == 2
    assert cache.get("part", part["id"])["name"] == "Bracket"
    with pytest.raises(errors.Conflict) as exc:
        rpc.update_part(part["id"], {"name": "stale", "version": 1})
    assert exc.value.details == {"version": 2}
    [updated] = envelopes(db, "mes.material.part.updated", part["id"])
    assert updated["data"]["changed"] == ["name"] and updated["data"]["name"] == "Bracket"

    revised = rpc.add_part_revision(part["id"], {"revision": "B", "reason": "ECN-12 thicker flange"})
    assert revised["revision"] == "B" and [r["revision"] for r in revised["revisions"]] == ["A", "B"]
    assert cache.get("part", part["id"])["revision"] == "B"
    with pytest.raises(errors.Conflict):
        rpc.add_part_revision(part["id"], {"revision": "B", "reason": "again"})
    assert envelopes(db, "mes.material.part.revised", part["id"])[0]["data"]["previous_revision"] == "A"
    assert rpc.get_part_summaries([part["id"], str(uuid.uuid4())]) == {part["id"]: cache.get("part", part["id"])}

    with pytest.raises(errors.Conflict) as exc:
        plant.part("P-100")
    assert exc.value.details == {"part_number": ["already used"]}
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.create_part({"part_number": "bad number", "name": "", "type": "gas", "lot_controlled": "maybe"})
    assert set(exc.value.details) == {"part_number", "name", "type", "lot_controlled"}
    with pytest.raises(errors.NotFound):
        rpc.get_part(str(uuid.uuid4()))
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.get_part("nope")
    assert "id" in exc.value.details
    assert [entry.action for entry in audit_entries(db, part["id"])] == ["create", "update", "revise"]


def test_part_list_is_paged_and_filtered(rpc, plant):
    for number in ("P-3", "P-1", "Q-1", "P-2", "P-4"):
        plant.part(f"{plant.tag}-{number}", type_="purchased" if number == "P-2" else "raw")
    seen, cursor = [], None
    while True:
        page = rpc.list_parts({"part_number": f"{plant.tag}-P-", "limit": 2, "cursor": cursor})
        seen += [p["part_number"].split("-", 1)[1].rsplit("-", 1)[0] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["P-1", "P-2", "P-3", "P-4"]
    purchased = rpc.list_parts({"type": "purchased", "part_number": plant.tag})["items"]
    assert [p["part_number"] for p in purchased] == [f"{plant.tag}-P-2-{plant.tag}"]
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.list_parts({"cursor": "garbage!"})
    assert "cursor" in exc.value.details


def test_bom_explode_where_used_effectivity_and_cycles(rpc, plant, db):
    top, sub, rivet, bolt = (plant.part(n, t) for n, t in
                             (("A-1", "assembly"), ("S-1", "assembly"), ("R-1", "purchased"), ("B-1", "purchased")))
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    bom = rpc.set_bom(top["id"], {"components": [
        {"part_id": sub["id"], "quantity": 2, "position": 20},
        {"part_id": rivet["id"], "quantity": 1, "position": 10},
        # superseded yesterday: not in today's explosion
        {"part_id": bolt["id"], "quantity": 9, "effective_to": yesterday, "position": 30}]})
    assert bom["version"] == 1 and [c["part_id"] for c in bom["components"]] == [rivet["id"], sub["id"], bolt["id"]]
    rpc.set_bom(sub["id"], {"components": [{"part_id": rivet["id"], "quantity": 3},
                                           {"part_id": bolt["id"], "quantity": 4, "uom": "pc"}]})

    short = lambda number: number.rsplit("-", 1)[0]  # without the test's tag
    exploded = rpc.explode_bom(top["id"], {"quantity": 5})
    assert [(l["level"], short(l["part_number"]), l["quantity_per"], l["quantity"]) for l in exploded["lines"]] == [
        (1, "R-1", 1, 5), (1, "S-1", 2, 10), (2, "R-1", 3, 30), (2, "B-1", 4, 40)]
    assert {short(r["part_number"]): r["quantity"] for r in exploded["requirements"]} == {"R-1": 35, "S-1": 10, "B-1": 40}
    direct = rpc.explode_bom(top["id"], {"quantity": 5, "levels": 1})
    assert {short(r["part_number"]): r["quantity"] for r in direct["requirements"]} == {"R-1": 5, "S-1": 10}
    past = rpc.explode_bom(top["id"], {"quantity": 1, "levels": 1, "at": yesterday})
    assert {short(r["part_number"]) for r in past["requirements"]} == {"R-1", "S-1", "B-1"}

    used = rpc.where_used(rivet["id"])
    assert [(u["level"], short(u["part_number"]), u["quantity_per"]) for u in used] == [
        (1, "A-1", 1), (1, "S-1", 3), (2, "A-1", 2)]

    with pytest.raises(errors.RuleViolated) as exc:  # B-1 → A-1 → B-1 (A-1 lists B-1, superseded or not)
        rpc.set_bom(bolt["id"], {"components": [{"part_id": rivet["id"], "quantity": 1},
                                                {"part_id": top["id"], "quantity": 1}]})
    assert "components.1.part_id" in exc.value.details
    assert exc.value.message.endswith(f"{bolt['part_number']} → {top['part_number']} → {bolt['part_number']}")
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.set_bom(top["id"], {"components": [{"part_id": top["id"], "quantity": 1}]})
    assert "components.0.part_id" in exc.value.details
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.set_bom(top["id"], {"components": [{"part_id": str(uuid.uuid4()), "quantity": 1}]})
    assert "components.0.part_id" in exc.value.details
    with pytest.raises(errors.ValidationFailed) as exc:
        rpc.set_bom(top["id"], {"components": [{"part_id": rivet["id"], "quantity": 0}]})
    assert exc.value.details == {"components": {"0": {"quantity": [
        "Must be greater than 0 and less than or equal to 999999999999."]}}}

    replaced = rpc.set_bom(top["id"], {"components": [{"part_id": rivet["id"], "quantity": 4}]})
    assert replaced["version"] == 2 and len(replaced["components"]) == 1
    changed = envelopes(db, "mes.material.bom.changed", top["id"])[-1]
    assert len(changed["data"]["previous"]) == 3 and changed["data"]["components"][0]["quantity"] == 4
    action, old, new, _, _ = audit_entries(db, f"{top['id']}:A")[-1]
    assert action == "set_bom" and len(old) == 3 and len(new) == 1
    assert rpc.get_bom(sub["id"])["version"] == 1
    assert rpc.get_bom(bolt["id"]) == {"part_id": bolt["id"], "revision": "A", "components": [], "version": 0,
                                       "updated_at": None}
    with pytest.raises(errors.NotFound):
        rpc.get_bom(top["id"], {"revision": "Z"})
