"""SPC through the service's RPCs, with the real material and resource services,
against real PostgreSQL, RabbitMQ and Redis: trial and frozen limits, run rules
judged as results are recorded, the violation announced and its NCR raised."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from mes_common import errors
from mes_common.testing.fixtures import wait_until
from mes_common.testing.records import envelopes, rows

SVG = "{http://www.w3.org/2000/svg}"


def _world(rpc, tag, opens_ncr=True):
    part = rpc.material.create_part({"part_number": f"SP-{tag}", "name": "Shaft", "type": "purchased",
                                     "lot_controlled": True})
    stores = rpc.material.create_location({"code": f"SRC-{tag}", "name": "Receiving"})
    plan = rpc.quality.create_plan({
        "plan_number": f"SPC-{tag}", "title": "Shaft", "part_id": part["id"], "part_revision": "A",
        "characteristics": [
            {"number": 1, "name": "Journal diameter", "kind": "variable", "criticality": "major", "nominal": 10,
             "lower_tolerance": -0.05, "upper_tolerance": 0.05, "unit": "mm", "subgroup_size": 5,
             "sampling": {"method": "all"}, "spc": {"rules": "nelson", "opens_ncr": opens_ncr}},
            {"number": 2, "name": "Finish", "kind": "visual", "criticality": "minor",
             "sampling": {"method": "all"}, "spc": {"rules": "western_electric"}}]})
    plan = rpc.quality.release_plan(plan["id"], {"version": plan["version"]})
    return part, stores, plan


def _inspect(rpc, part, stores, plan, values, finish=None):
    lot = rpc.material.receive_lot({"part_id": part["id"], "quantity": len(values), "location_id": stores["id"]})
    inspection = rpc.quality.open_inspection({"plan_number": plan["plan_number"], "lot_id": lot["id"]})
    results = [{"characteristic": 1, "sample": i + 1, "value": v} for i, v in enumerate(values)]
    results += [{"characteristic": 2, "sample": i + 1, "passed": ok} for i, ok in enumerate(finish or [])]
    return lot, inspection, results


def _in_control(seed, count):
    return [round(v, 4) for v in np.random.default_rng(seed).normal(10.0, 0.004, count)]


def test_limits_freeze_from_a_baseline_and_a_broken_rule_raises_its_ncr(rpc, db, tag):
    part, stores, plan = _world(rpc, tag)
    key = {"plan_number": plan["plan_number"], "characteristic": 1}
    _, first, results = _inspect(rpc, part, stores, plan, _in_control(1, 100), finish=[True] * 100)
    rpc.quality.record_results(first["id"], {"results": results})

    trial = rpc.quality.get_spc_chart(key)
    assert (trial["chart"], trial["subgroup_size"], len(trial["points"])) == ("xbar_r", 5, 20)
    assert trial["limits"]["frozen"] is False and trial["limits"]["baseline"]["points"] == 20
    assert trial["capability"]["count"] == 100 and trial["capability"]["cpk"] > 1.33
    assert trial["points"][0]["key"] == f"{first['id']}:1" and trial["points"][0]["inspection_number"] == \
        first["number"]

    with pytest.raises(errors.RuleViolated) as refused:
        rpc.quality.freeze_spc_limits({**key, "baseline": 20, "reason": "too early",
                                       "until": first["opened_at"]})
    assert "baseline" in refused.value.details
    frozen = rpc.quality.freeze_spc_limits({**key, "baseline": 20, "reason": "initial capability study"})
    assert frozen["frozen"] is True and frozen["location"] == pytest.approx(trial["limits"]["location"])
    assert envelopes(db, "mes.quality.spc.limits_frozen", frozen["id"])

    # a second lot: its first subgroup sits high (every part in tolerance), the rest as in the baseline
    high = [10.03, 10.031, 10.029, 10.032, 10.03]
    lot, second, results = _inspect(rpc, part, stores, plan, high + _in_control(1, 10))
    answer = rpc.quality.record_results(second["id"], {"results": results[:5]})
    assert answer["status"] == "open" and all(r["conforming"] for r in answer["results"])
    violations = rpc.quality.list_spc_violations({"plan_number": plan["plan_number"]})["items"]
    assert [(v["rule"], v["series"], v["point_key"]) for v in violations] == [
        ("nelson_1", "xbar", f"{second['id']}:1")]
    violation = violations[0]
    assert violation["limits_id"] == frozen["id"] and violation["ncr_id"] is not None

    event = envelopes(db, "mes.quality.spc.violation", violation["id"])[0]["data"]
    assert (event["lot_number"], event["inspection_number"], event["rule"]) == \
        (lot["lot_number"], second["number"], "nelson_1")
    assert event["limits"]["location"]["ucl"] == pytest.approx(frozen["location"]["ucl"])
    ncr = rpc.quality.get_ncr(violation["ncr_id"])
    assert (ncr["number"], ncr["source"], ncr["status"]) == (event["ncr_number"], "spc", "open")
    assert [(i["target_type"], i["target_number"]) for i in ncr["items"]] == [("lot", lot["lot_number"])]
    wait_until(lambda: rpc.quality.get_ncr(ncr["id"])["hold_status"] == "held", message="the lot held in material")

    # the rest of the lot: judged too, the violation not found twice, no second NCR
    rpc.quality.record_results(second["id"], {"results": results[5:]})
    again = rpc.quality.list_spc_violations({"plan_number": plan["plan_number"]})["items"]
    assert [(v["rule"], v["point_key"]) for v in again] == [("nelson_1", f"{second['id']}:1")]
    assert rows(db, "SELECT count(*) FROM ncr WHERE source = 'spc' AND part_id = :p", p=part["id"])[0][0] == 1

    chart = rpc.quality.get_spc_chart(key)
    assert chart["limits"]["id"] == frozen["id"] and len(chart["points"]) == 23
    assert chart["points"][20]["rules"] == ["nelson_1"]
    assert [(f["key"], f["rule"]) for f in chart["findings"]] == [(f"{second['id']}:1", "nelson_1")]


def test_charts_of_each_kind_and_the_picture(rpc, tag):
    part, stores, plan = _world(rpc, tag, opens_ncr=False)
    _, inspection, results = _inspect(rpc, part, stores, plan, _in_control(3, 30),
                                      finish=[i % 7 != 3 for i in range(30)])
    rpc.quality.record_results(inspection["id"], {"results": results})
    key = {"plan_number": plan["plan_number"]}

    individuals = rpc.quality.get_spc_chart({**key, "characteristic": 1, "chart": "imr"})
    assert len(individuals["points"]) == 30 and individuals["points"][0]["spread"] is None
    assert individuals["series"] == ["x", "mr"]
    spread = rpc.quality.get_spc_chart({**key, "characteristic": 1, "chart": "xbar_s", "limit": 4})
    assert len(spread["points"]) == 4 and spread["points"][-1]["key"].endswith(":6")
    proportion = rpc.quality.get_spc_chart({**key, "characteristic": 2})
    assert proportion["chart"] == "p" and proportion["points"][0]["value"] == pytest.approx(4 / 30)
    assert proportion["capability"] is None and proportion["rule_set"] == "western_electric"
    defects = rpc.quality.get_spc_chart({**key, "characteristic": 2, "chart": "c"})
    assert [p["value"] for p in defects["points"][:5]] == [0, 0, 0, 1, 0]

    with pytest.raises(errors.RuleViolated) as refused:
        rpc.quality.get_spc_chart({**key, "characteristic": 2, "chart": "xbar_r"})
    assert refused.value.details == {"chart": ["one of p, c"]}
    with pytest.raises(errors.NotFound):
        rpc.quality.get_spc_chart({**key, "characteristic": 9})

    picture = ET.fromstring(rpc.quality.get_spc_chart_svg({**key, "characteristic": 1}))
    assert picture.tag == f"{SVG}svg"
    texts = [t.text for t in picture.iter(f"{SVG}text")]
    assert any("Journal diameter" in (t or "") for t in texts) and any((t or "").startswith("UCL") for t in texts)
    assert len(list(picture.iter(f"{SVG}circle"))) == 2 * 6   # x-bar and R: a dot per subgroup
