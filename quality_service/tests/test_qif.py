"""QIF plans and results through the quality service's RPCs, with the real
material service: the shared samples import (once each), results land on the
right characteristics with the MES's own verdicts, exports validate and come
back the same (uploads over HTTP: tests/test_quality.py)."""
import pytest

from mes_common import errors
from mes_common.testing.records import rows
from quality_service.qif import reader, use_cases
from quality_service.testing import qif_results
from quality_service.tests.test_qif_documents import SAMPLES, STANDARDS


def _part(rpc, tag, number="WIDGET"):
    return rpc.material.create_part({"part_number": f"{number}-{tag}", "name": "Widget", "type": "manufactured",
                                     "serial_controlled": True})


def _import_plan(rpc, name, part, plan_number, revision="A"):
    return rpc.quality.import_qif_plan({"plan_number": plan_number, "part_id": part["id"],
                                        "part_revision": revision}, (SAMPLES / name).read_text())


@pytest.mark.parametrize("name, count, skipped", [("WIDGET_QIF_PLAN.QIF", 26, []),
                                                   ("WIDGET_QIF_RESULTS.QIF", 26, []),
                                                   ("QIF_Results_Sample.QIF", 9, ["1", "-NONE-"])])
def test_each_shared_sample_imports_as_a_plan_once(rpc, db, tag, name, count, skipped):
    part = _part(rpc, tag)
    imported = _import_plan(rpc, name, part, f"IP-QIF-{tag}")
    assert (imported["characteristics"], [s["designator"] for s in imported["skipped"]]) == (count, skipped)
    plan = rpc.quality.get_plan(imported["plan_id"])
    assert (plan["status"], plan["revision"], len(plan["characteristics"])) == ("draft", 1, count)
    again = _import_plan(rpc, name, part, f"IP-QIF-{tag}")
    assert again == {**imported, "replayed": True}
    assert rows(db, "SELECT count(*) FROM qif_document WHERE plan_id = :p", p=imported["plan_id"]) == [(1,)]
    stored = rpc.quality.get_qif_document(imported["document_id"])
    assert stored["content"] == (SAMPLES / name).read_text()


def test_the_widget_plans_balloons_nominals_and_tolerances_are_the_files(rpc, tag):
    plan = rpc.quality.get_plan(_import_plan(rpc, "WIDGET_QIF_PLAN.QIF", _part(rpc, tag), f"IP-W-{tag}")["plan_id"])
    by_number = {c["number"]: c for c in plan["characteristics"]}
    assert sorted(by_number)[:5] == [1, 2, 3, 4, 5] and 198 in by_number and 113 in by_number
    assert (by_number[10]["nominal"], by_number[10]["lower_limit"], by_number[10]["upper_limit"],
            by_number[10]["unit"], by_number[10]["external_id"]) == (19, 18.87, 19.13, "mm", "40")
    assert (by_number[113]["nominal"], by_number[113]["lower_tolerance"], by_number[113]["upper_tolerance"]) == (
        0, None, 0.25)


def test_results_land_on_their_characteristics_with_the_mess_verdicts(rpc, db, tag):
    part = _part(rpc, tag)
    imported = _import_plan(rpc, "WIDGET_QIF_RESULTS.QIF", part, f"IP-R-{tag}")
    rpc.quality.release_plan(imported["plan_id"], {})
    serial = rpc.material.create_serials({"part_id": part["id"], "serial_numbers": [f"W-{tag}-1"]})["serials"][0]
    query = {"plan_number": f"IP-R-{tag}", "serial_id": serial["id"], "kind": "final"}
    done = rpc.quality.import_qif_results(query, (SAMPLES / "WIDGET_QIF_RESULTS.QIF").read_text())
    assert (done["kind"], done["characteristics"], done["inspection_status"]) == ("results", 26, "failed")
    inspection = rpc.quality.get_inspection(done["inspection_id"])
    assert (inspection["serial_number"], inspection["kind"], inspection["ncr_number"] is not None) == (
        serial["serial_number"], "final", True)
    results = {r["characteristic"]: r for r in inspection["results"]}
    # diameter 6 (5 ±0.025) measured twice, 4.878 and 4.89: the one nearest its limit is recorded
    assert (results[6]["value"], results[6]["conforming"]) == (4.878, False)
    assert "2 measurements (4.878, 4.89)" in results[6]["note"]
    assert (results[10]["value"], results[10]["conforming"]) == (19.007000000000001, True)
    # the file says 19 (105 ±0.25 measured 104.63) failed: so does the MES; its verdicts all agree with the file's
    assert results[19]["conforming"] is False and done["mismatches"] == []
    assert rpc.quality.import_qif_results(query, (SAMPLES / "WIDGET_QIF_RESULTS.QIF").read_text())["replayed"]
    other = rpc.material.create_serials({"part_id": part["id"], "serial_numbers": [f"W-{tag}-2"]})["serials"][0]
    with pytest.raises(errors.Conflict) as refused:   # the same file for another part: not a replay
        rpc.quality.import_qif_results({**query, "serial_id": other["id"]},
                                       (SAMPLES / "WIDGET_QIF_RESULTS.QIF").read_text())
    assert serial["serial_number"] in refused.value.message
    assert rows(db, "SELECT count(*) FROM inspection WHERE serial_id = :s", s=serial["id"]) == [(1,)]

    exported = rpc.quality.export_qif_results(done["inspection_id"])
    tree = use_cases.parse(exported["content"], STANDARDS)
    measured, = reader.measurements(tree)
    assert {m["designator"]: m["passed"] for m in measured["measured"]}["6"] == "FAIL"
    assert exported["filename"] == f"{inspection['number']}.qif"


def test_an_exported_plan_imports_into_a_fresh_plan_with_the_same_characteristics(rpc, tag):
    part = _part(rpc, tag)
    first = rpc.quality.get_plan(_import_plan(rpc, "QIF_Results_Sample.QIF", part, f"IP-A-{tag}")["plan_id"])
    exported = rpc.quality.export_qif_plan(first["id"])
    use_cases.parse(exported["content"], STANDARDS)   # valid against the official schema
    again = rpc.quality.import_qif_plan({"plan_number": f"IP-B-{tag}", "part_id": part["id"], "part_revision": "A"},
                                        exported["content"])
    second = rpc.quality.get_plan(again["plan_id"])
    fields = ("number", "name", "kind", "criticality", "nominal", "lower_tolerance", "upper_tolerance", "unit",
              "designator", "drawing_zone")
    assert [{k: c[k] for k in fields} for c in second["characteristics"]] == [
        {k: c[k] for k in fields} for c in first["characteristics"]]


def test_what_does_not_fit_is_refused_naming_it_and_nothing_is_kept(rpc, db, tag):
    part = _part(rpc, tag)
    before = rows(db, "SELECT count(*) FROM qif_document")
    with pytest.raises(errors.RuleViolated) as refused:   # no part of that number
        rpc.quality.import_qif_plan({"plan_number": f"IP-X-{tag}", "part_revision": "A"},
                                    (SAMPLES / "WIDGET_QIF_PLAN.QIF").read_text())
    assert list(refused.value.details) == ["part_id"]
    imported = _import_plan(rpc, "QIF_Results_Sample.QIF", part, f"IP-Y-{tag}")
    rpc.quality.release_plan(imported["plan_id"], {})
    serial = rpc.material.create_serials({"part_id": part["id"], "serial_numbers": [f"Y-{tag}-1"]})["serials"][0]
    with pytest.raises(errors.RuleViolated) as refused:   # measurements of characteristics the plan does not have
        rpc.quality.import_qif_results({"plan_number": f"IP-Y-{tag}", "serial_id": serial["id"]},
                                       (SAMPLES / "WIDGET_QIF_RESULTS.QIF").read_text())
    assert "measurements.0" in refused.value.details
    with pytest.raises(errors.RuleViolated) as refused:   # the document names no serial, nor does the query
        rpc.quality.import_qif_results({"plan_number": f"IP-Y-{tag}"},
                                       (SAMPLES / "QIF_Results_Sample.QIF").read_text())
    assert list(refused.value.details) == ["serial_id"]
    with pytest.raises(errors.ValidationFailed):
        rpc.quality.import_qif_plan({"plan_number": f"IP-Z-{tag}", "part_id": part["id"], "part_revision": "A"},
                                    "<QIFDocument/>")
    assert rows(db, "SELECT count(*) FROM qif_document")[0][0] == before[0][0] + 1   # the one plan imported


def test_each_part_of_a_lots_results_is_a_sample(rpc, tag):
    """A CMM measures both parts of a lot of 2: two MeasurementResults, samples 1 and 2; where the file's
    status disagrees with the MES's verdict, the answer says so."""
    part = rpc.material.create_part({"part_number": f"LOT-{tag}", "name": "Spacer", "type": "purchased",
                                     "lot_controlled": True})
    stores = rpc.material.create_location({"code": f"Q-{tag}", "name": "Stores"})
    lot = rpc.material.receive_lot({"part_id": part["id"], "quantity": 2, "location_id": stores["id"]})
    plan = rpc.quality.create_plan({"plan_number": f"IP-L-{tag}", "title": "Spacer", "part_id": part["id"],
                                    "part_revision": "A", "characteristics": [
                                        {"number": 1, "name": "Length", "kind": "variable", "criticality": "major",
                                         "nominal": 20, "lower_tolerance": -0.1, "upper_tolerance": 0.1,
                                         "unit": "mm"}]})
    rpc.quality.release_plan(plan["id"], {})
    # the CMM calls the second part's 20.3 mm (20 ±0.1) a pass: the MES computes its own verdict and says so
    document = qif_results(rpc.quality.get_plan(plan["id"]), [{1: [(20.02, "mm", True)]}, {1: [(20.3, "mm", True)]}])
    done = rpc.quality.import_qif_results({"plan_number": f"IP-L-{tag}", "lot_id": lot["id"]}, document)
    assert (done["results"], done["inspection_status"], done["mismatches"]) == (2, "failed", [
        {"characteristic": 1, "sample": 2, "file_status": "PASS", "verdict": "FAIL"}])
    inspection = rpc.quality.get_inspection(done["inspection_id"])
    assert [(r["sample"], r["value"], r["conforming"]) for r in inspection["results"]] == [
        (1, 20.02, True), (2, 20.3, False)]


def test_a_plan_imported_again_keeps_what_the_mes_added(rpc, tag):
    """A CMM's newer plan over a draft: the document's nominals and tolerances, the MES's title, sampling."""
    part = _part(rpc, tag)
    plan = rpc.quality.get_plan(_import_plan(rpc, "WIDGET_QIF_PLAN.QIF", part, f"IP-K-{tag}")["plan_id"])
    characteristics = [{k: v for k, v in c.items() if k not in ("id", "lower_limit", "upper_limit")}
                       for c in plan["characteristics"]]
    for c in characteristics:
        if c["number"] == 10:
            c["sampling"] = {"method": "first_piece"}
    rpc.quality.update_plan(plan["id"], {"title": "Widget, CMM program 7", "characteristics": characteristics,
                                         "version": plan["version"]})
    again = _import_plan(rpc, "WIDGET_QIF_RESULTS.QIF", part, f"IP-K-{tag}")   # another document, same plan
    assert (again["replayed"], again["plan_id"]) == (False, plan["id"])
    after = rpc.quality.get_plan(plan["id"])
    ten = next(c for c in after["characteristics"] if c["number"] == 10)
    assert (after["title"], ten["sampling"]["method"], ten["nominal"]) == ("Widget, CMM program 7", "first_piece", 19)
