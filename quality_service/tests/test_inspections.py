"""Plans and inspections through the service's RPCs, with the real material and
resource services, against real PostgreSQL, RabbitMQ and Redis."""
import datetime as dt
import uuid

import pytest

from mes_common import errors
from mes_common.testing.fixtures import wait_until
from mes_common.testing.records import rows


def _world(rpc, tag, sampling=None):
    part = rpc.material.create_part({"part_number": f"QP-{tag}", "name": "Bushing", "type": "purchased",
                                     "lot_controlled": True})
    stores = rpc.material.create_location({"code": f"RCV-{tag}", "name": "Receiving"})
    plan = rpc.quality.create_plan({
        "plan_number": f"IP-{tag}", "title": "Bushing receiving", "part_id": part["id"], "part_revision": "A",
        "characteristics": [
            {"number": 1, "name": "Bore diameter", "kind": "variable", "criticality": "major", "nominal": 10,
             "lower_tolerance": -0.05, "upper_tolerance": 0.05, "unit": "mm", "gauge_type": "micrometer",
             "sampling": sampling or {"method": "aql", "aql": "2.5"}},
            {"number": 2, "name": "No burrs", "kind": "visual", "criticality": "minor",
             "sampling": {"method": "first_piece"}}]})
    gauge = rpc.resource.create_asset({"asset_number": f"MIC-{tag}", "kind": "gauge", "type": "micrometer 0-25 mm",
                                       "calibration_interval_days": 365,
                                       "next_due_on": (dt.date.today() + dt.timedelta(days=200)).isoformat()})
    return part, stores, plan, gauge


def _receive(rpc, part, stores, quantity=10, supplier="Acme"):
    return rpc.material.receive_lot({"part_id": part["id"], "quantity": quantity, "location_id": stores["id"],
                                     "supplier": supplier})


def test_a_received_lot_opens_its_inspection_and_the_results_decide_it(rpc, db, tag):
    part, stores, plan, gauge = _world(rpc, tag)
    plan = rpc.quality.release_plan(plan["id"], {"version": plan["version"]})
    assert plan["status"] == "released" and plan["characteristics"][0]["upper_limit"] == 10.05
    rpc.quality.create_control_point({"part_id": part["id"], "kind": "receiving", "plan_number": plan["plan_number"]})
    lot = _receive(rpc, part, stores)

    found = wait_until(lambda: rpc.quality.list_inspections({"lot_id": lot["id"]})["items"],
                       message="the receiving inspection opened from lot.received")
    inspection = found[0]
    assert (inspection["kind"], inspection["status"], inspection["quantity"], inspection["supplier"]) == \
        ("receiving", "open", 10, "Acme")
    bore, burrs = inspection["items"]
    # lot of 10, level II: code letter B; AQL 2.5 points down to C: 5 samples, accept 0
    assert (bore["code_letter"], bore["sample_size"], bore["accept"], bore["reject"], bore["severity"]) == \
        ("B", 5, 0, 1, "normal")
    assert (burrs["sample_size"], burrs["verdict"]) == (1, None)

    first = rpc.quality.record_results(inspection["id"], {"results": [
        {"characteristic": 1, "sample": 1, "value": 10.01, "gauge_id": gauge["id"]},
        {"characteristic": 1, "sample": 2, "value": 0.3937, "unit": "inch", "gauge_id": gauge["id"]},
        {"characteristic": 2, "sample": 1, "passed": True}]})
    assert first["status"] == "open" and [r["conforming"] for r in first["results"]] == [True, True, True]
    converted = first["results"][1]
    assert (converted["entered_value"], converted["entered_unit"], converted["value"]) == (0.3937, "inch", 9.99998)
    assert first["items"][1]["verdict"] == "pass"

    done = rpc.quality.record_results(inspection["id"], {"results": [
        {"characteristic": 1, "sample": 3, "value": 10.06, "gauge_id": gauge["id"]}]})
    assert done["status"] == "failed" and done["items"][0]["verdict"] == "fail"
    assert done["items"][0]["nonconforming"] == 1 and done["completed_at"] is not None

    uses = rpc.resource.list_asset_uses(gauge["id"])["items"]
    assert {u["inspection_id"] for u in uses} == {inspection["id"]} and len(uses) == 2
    types = [r[0] for r in rows(db, "SELECT type FROM outbox WHERE subject = :s ORDER BY id", s=inspection["id"])]
    assert types == ["mes.quality.inspection.opened", "mes.quality.inspection.results_recorded",
                     "mes.quality.inspection.results_recorded", "mes.quality.inspection.failed"]
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.quality.record_results(inspection["id"], {"results": [{"characteristic": 1, "sample": 4, "value": 10}]})
    assert exc.value.details == {"status": ["is failed"]}
    # the switching state of the supplier's stream remembers the rejected lot
    assert rows(db, "SELECT severity, recent FROM sampling_state WHERE plan_number = :p AND stream = 'Acme'",
                p=plan["plan_number"]) == [("normal", [False])]


def test_refused_results_name_the_field_and_record_nothing(rpc, db, tag):
    part, stores, plan, gauge = _world(rpc, tag, sampling={"method": "first_piece"})
    rpc.quality.release_plan(plan["id"], {})
    lot = _receive(rpc, part, stores)
    inspection = rpc.quality.open_inspection({"plan_number": plan["plan_number"], "lot_id": lot["id"]})
    assert inspection["kind"] == "manual" and inspection["lot_number"] == lot["lot_number"]
    record = lambda *results: rpc.quality.record_results(inspection["id"], {"results": list(results)})  # noqa: E731
    good = {"characteristic": 1, "sample": 1, "value": 10, "gauge_id": gauge["id"]}
    cases = [
        ({"characteristic": 9, "sample": 2, "passed": True}, errors.RuleViolated, "results.1.characteristic"),
        ({**good, "sample": 2}, errors.RuleViolated, "results.0.sample"),
        ({**good, "unit": "kg"}, errors.RuleViolated, "results.0.unit"),
        ({**good, "unit": "furlongz"}, errors.RuleViolated, "results.0.unit"),
        ({**good, "unit": "m^("}, errors.ValidationFailed, "results"),
        ({"characteristic": 2, "sample": 1, "value": 3}, errors.ValidationFailed, "results.0.passed"),
        ({**good, "gauge_id": None}, errors.RuleViolated, "results.0.gauge_id"),
        ({**good, "gauge_id": str(uuid.uuid4())}, errors.RuleViolated, "gauge_id"),
    ]
    for bad, error, field in cases:
        with pytest.raises(error) as exc:
            record(good, bad) if field.startswith("results.1") else record(bad)
        assert field in exc.value.details, (bad, exc.value.details)
    other = rpc.resource.create_asset({"asset_number": f"CAL-{tag}", "kind": "gauge", "type": "caliper 150 mm"})
    with pytest.raises(errors.RuleViolated) as exc:
        record({**good, "gauge_id": other["id"]})
    assert exc.value.details == {"results.0.gauge_id": [f"gauge CAL-{tag} is a caliper 150 mm, not a micrometer"]}
    assert rpc.resource.list_asset_uses(other["id"])["items"] == []   # a refused result used no gauge
    overdue = rpc.resource.create_asset({"asset_number": f"OLD-{tag}", "kind": "gauge", "type": "micrometer",
                                         "calibration_interval_days": 30,
                                         "next_due_on": (dt.date.today() - dt.timedelta(days=1)).isoformat()})
    with pytest.raises(errors.RuleViolated) as exc:
        record({**good, "gauge_id": overdue["id"]})
    assert "gauge_id" in exc.value.details and "OLD-" in str(exc.value.details)
    assert rows(db, "SELECT count(*) FROM inspection_result WHERE inspection_id = :i", i=inspection["id"]) == [(0,)]

    record(good)
    with pytest.raises(errors.Conflict) as exc:
        record({"characteristic": 2, "sample": 1, "passed": True}, good)
    assert exc.value.details == {"results.1.sample": ["recorded already"]}
    with pytest.raises(errors.Conflict):   # the same request again: refused before a gauge use is recorded
        record(good)
    assert len(rpc.resource.list_asset_uses(gauge["id"])["items"]) == 1
    with pytest.raises(Exception) as exc:   # the database keeps results: no UPDATE, no DELETE
        rows(db, "UPDATE inspection_result SET value = 1 WHERE inspection_id = :i", i=inspection["id"])
    assert "append-only" in str(exc.value)
    passed = record({"characteristic": 2, "sample": 1, "passed": True})
    assert passed["status"] == "passed"


def test_a_released_plan_never_changes_and_a_revision_supersedes_it(rpc, db, tag):
    part, _, plan, _ = _world(rpc, tag)
    with pytest.raises(errors.Conflict):
        rpc.quality.update_plan(plan["id"], {"title": "late", "version": plan["version"] + 5})
    draft = rpc.quality.update_plan(plan["id"], {"title": "Bushing receiving (rev 1)", "version": plan["version"]})
    first = rpc.quality.release_plan(draft["id"], {})
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.quality.update_plan(first["id"], {"title": "changed after release"})
    assert exc.value.details == {"status": ["is released"]}
    second = rpc.quality.revise_plan(plan["plan_number"], {"change_note": "tighter bore"})
    assert (second["revision"], second["status"], len(second["characteristics"])) == (2, "draft", 2)
    with pytest.raises(errors.Conflict):
        rpc.quality.revise_plan(plan["plan_number"], {"change_note": "again"})
    chars = second["characteristics"]
    chars[0] = {**{k: v for k, v in chars[0].items() if k not in ("id", "lower_limit", "upper_limit")},
                "upper_tolerance": 0.03}
    chars[1] = {k: v for k, v in chars[1].items() if k not in ("id", "lower_limit", "upper_limit")}
    second = rpc.quality.update_plan(second["id"], {"characteristics": chars})
    assert second["characteristics"][0]["upper_limit"] == 10.03
    rpc.quality.release_plan(second["id"], {})
    assert rpc.quality.get_plan(first["id"])["status"] == "superseded"
    assert rpc.quality.get_plan_revision(plan["plan_number"])["revision"] == 2
    assert rpc.quality.get_plan_revision(plan["plan_number"], {"revision": 1})["title"] == "Bushing receiving (rev 1)"
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.quality.create_plan({"plan_number": f"BAD-{tag}", "title": "x", "part_id": part["id"],
                                 "part_revision": "A", "characteristics": [
                                     {"number": 1, "name": "a", "kind": "variable", "criticality": "key",
                                      "nominal": 1, "upper_tolerance": 0.1, "unit": "parsecz"}]})
    assert "characteristics.0.unit" in exc.value.details
    with pytest.raises(errors.RuleViolated) as exc:
        rpc.quality.create_plan({"plan_number": f"BAD-{tag}", "title": "x", "part_id": str(uuid.uuid4()),
                                 "part_revision": "A", "characteristics": [
                                     {"number": 1, "name": "a", "kind": "visual", "criticality": "minor"}]})
    assert "part_id" in exc.value.details
    history = rows(db, "SELECT from_status, to_status FROM status_change WHERE record_id = :r ORDER BY id",
                   r=first["id"])
    assert history == [(None, "draft"), ("draft", "released"), ("released", "superseded")]
