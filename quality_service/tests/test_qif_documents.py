"""QIF 3.0 documents read and written (quality_service.qif.reader and
.writer) against the official schema and the three shared samples, and the
hardened parser refusing what it must (mes_common.xml). Values asserted here
were read off the sample files by eye."""
import os
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from mes_common import errors, xml
from quality_service.inspections import rules
from quality_service.qif import reader, use_cases, writer

pytestmark = pytest.mark.fast
STANDARDS = Path(os.environ.get("STANDARDS_DIR") or Path(__file__).resolve().parents[2] / "../shared/standards")
SAMPLES = STANDARDS / "qif3" / "samples"


def _read(name):
    return use_cases.parse((SAMPLES / name).read_bytes(), STANDARDS)


def _by_designator(characteristics):
    return {c["designator"]: c for c in characteristics}


def test_the_widget_plan_gives_its_26_balloons_with_nominals_and_tolerances():
    tree = _read("WIDGET_QIF_PLAN.QIF")
    assert reader.qpid(tree) == "5cd22692-9940-4276-a080-ec81a7d0e14c"
    read, skipped = reader.characteristics(tree)
    assert (len(read), skipped) == (26, [])
    assert [c["designator"] for c in read][:6] == ["113", "14", "4", "112", "3", "10"]
    c = _by_designator(read)
    assert (c["10"]["type"], c["10"]["nominal"], c["10"]["lower_tolerance"], c["10"]["upper_tolerance"],
            c["10"]["unit"]) == ("Diameter", Decimal("19"), Decimal("-0.13"), Decimal("0.13"), "mm")
    assert (c["5"]["nominal"], c["5"]["lower_tolerance"], c["5"]["upper_tolerance"]) == (5, Decimal("-0.5"),
                                                                                         Decimal("0.5"))
    # a form tolerance: the deviation, from 0 up to the zone
    assert (c["113"]["type"], c["113"]["nominal"], c["113"]["lower_tolerance"], c["113"]["upper_tolerance"]) == (
        "Flatness", 0, None, Decimal("0.25"))
    assert c["15"]["name"] == "Width SLOT_CNST" and c["8"]["nominal"] == Decimal("25.399999999999999")


def test_the_results_sample_grades_its_characteristics_and_skips_its_reference_dimensions():
    tree = _read("QIF_Results_Sample.QIF")
    read, skipped = reader.characteristics(tree)
    assert len(read) == 9
    assert [(s["designator"], s["type"]) for s in skipped] == [("1", "LinearCoordinate"), ("-NONE-", "Diameter")]
    c = _by_designator(read)
    assert (c["2"]["nominal"], c["2"]["upper_tolerance"], c["2"]["drawing_zone"], c["2"]["criticality"]) == (
        Decimal("774.26989746093795"), Decimal("0.2"), "D3", "minor")
    # a profile zone of 1.5, 1 of it outside the material (OuterDisposition): -0.5 .. +1 about the true profile
    assert (c["4"]["criticality"], c["4"]["lower_tolerance"], c["4"]["upper_tolerance"]) == (
        "critical", Decimal("-0.5"), Decimal("1"))
    assert (c["5"]["lower_tolerance"], c["5"]["upper_tolerance"]) == (Decimal("-2"), Decimal("2"))   # equal: 4
    assert reader.product(tree)["model_number"] == "QM_X_123456"
    results, = reader.measurements(tree)
    assert (results["qpid"], results["status"], results["preparer"]) == (
        "8521ff0f-4c05-4f13-a2be-1386190f75a6", "FAIL", "John Doe")
    measured = {m["designator"]: m for m in results["measured"]}
    assert (measured["6"]["value"], measured["6"]["passed"], measured["6"]["devices"]) == (
        Decimal("9.499476"), "FAIL", ["CMM"])
    assert (measured["8"]["value"], measured["8"]["devices"]) == (Decimal("10.199987999999999"), ["CALIPERS"])


def test_the_widget_results_measure_a_characteristic_more_than_once():
    results, = reader.measurements(_read("WIDGET_QIF_RESULTS.QIF"))
    assert len(results["measured"]) == 42
    diameter_6 = [(m["value"], m["passed"]) for m in results["measured"] if m["designator"] == "6"]
    assert diameter_6 == [(Decimal("4.878"), "FAIL"), (Decimal("4.89"), "FAIL")]


def test_a_plan_balloons_numbers_and_keeps_other_designators_as_written():
    read = [{"designator": d, "name": "x", "kind": "attribute", "criticality": "minor", "drawing_zone": None,
             "external_id": str(i)} for i, d in enumerate(["3", "12a", "1", "-NONE-", "²", "0"])]
    assert [(c["number"], c["designator"]) for c in use_cases.plan_characteristics(read)] == [
        (3, None), (2, "12a"), (1, None), (4, "-NONE-"), (5, "²"), (6, "0")]


def test_a_comment_among_the_items_is_no_characteristic_and_an_unnamed_status_is_no_pass():
    raw = (SAMPLES / "WIDGET_QIF_PLAN.QIF").read_bytes().replace(
        b"<CharacteristicItems n=\"26\">", b"<CharacteristicItems n=\"26\"><!-- exported by hand -->")
    assert b"exported by hand" in raw
    read, _ = reader.characteristics(use_cases.parse(raw, STANDARDS))
    assert len(read) == 26
    assert use_cases._file_status([{"passed": "PASS"}, {"passed": None}]) == "OTHER/PASS"
    visual = SimpleNamespace(number=2, kind="visual")
    assert use_cases._result(visual, 1, [{"passed": "NOT_ANALYZED", "devices": []}])["passed"] is False


CHARACTERISTICS = [
    {"number": 1, "name": "Bore diameter", "kind": "variable", "criticality": "critical", "nominal": Decimal("12"),
     "lower_tolerance": Decimal("-0.02"), "upper_tolerance": Decimal("0.02"), "unit": "mm", "designator": None,
     "drawing_zone": "C4"},
    {"number": 2, "name": "Flange free of burrs", "kind": "visual", "criticality": "minor", "nominal": None,
     "lower_tolerance": None, "upper_tolerance": None, "unit": None, "designator": None, "drawing_zone": None},
    {"number": 3, "name": "Chamfer angle", "kind": "variable", "criticality": "major", "nominal": Decimal("45"),
     "lower_tolerance": Decimal("-0.5"), "upper_tolerance": Decimal("0.5"), "unit": "degree", "designator": "3a",
     "drawing_zone": None},
    {"number": 4, "name": "Nut torque", "kind": "variable", "criticality": "key", "nominal": Decimal("10"),
     "lower_tolerance": Decimal("-1"), "upper_tolerance": None, "unit": "N*m", "designator": None,
     "drawing_zone": None},
]


def _dimension(unit):
    return str(rules.check_unit(unit).dimensionality)


def test_a_plan_written_validates_and_reads_back_the_same():
    root, item_ids, ids = writer.plan(None, {"part_number": "BUSH-12", "part_revision": "A", "title": "Bushing"},
                                      CHARACTERISTICS, rules.convert, _dimension)
    tree = use_cases.parse(writer.to_bytes(root), STANDARDS)   # schema-valid, or this raises
    read, skipped = reader.characteristics(tree)
    fields = ("name", "kind", "criticality", "nominal", "lower_tolerance", "upper_tolerance", "unit", "drawing_zone")
    assert skipped == []
    assert [{k: c.get(k) for k in fields} for c in read] == [{k: c[k] for k in fields} for c in CHARACTERISTICS]
    assert [c["designator"] for c in read] == ["1", "2", "3a", "4"]
    root = writer.results("6a1f8c9e-0000-4000-8000-000000000001", root, item_ids, ids,
                          {"status": "failed", "number": "INS-000001"},
                          [{1: [(Decimal("12.03"), "mm", False)], 2: [(None, None, True)]},
                           {1: [(Decimal("0.4725"), "inch", True)]}], rules.convert)
    first, second = reader.measurements(use_cases.parse(writer.to_bytes(root), STANDARDS))
    assert [(m["designator"], m["value"], m["passed"]) for m in first["measured"]] == [
        ("1", Decimal("12.03"), "FAIL"), ("2", None, "PASS")]
    assert (first["status"], second["status"]) == ("FAIL", "PASS")
    assert [(m["value"], m["unit"]) for m in second["measured"]] == [(Decimal("12.0015"), "mm")]


QIF_NS = 'xmlns="http://qifstandards.org/xsd/qif3"'


@pytest.mark.parametrize("document, status, message", [
    (b"<QIFDocument", 400, "line 1"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>', 400, "DOCTYPE"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><d>&b;</d>',
     400, "DOCTYPE"),
    (b'<QIFDocument xmlns="urn:not-qif" versionQIF="3.0.0"/>', 400, "urn:not-qif"),
    (f'<QIFDocument {QIF_NS} versionQIF="3.0.0"/>'.encode(), 400, "line 1"),
    (b"<a>" + b"x" * (xml.MAX_BYTES + 1) + b"</a>", 413, "larger"),
])
def test_a_document_that_is_not_safe_valid_qif_is_refused_naming_why(document, status, message):
    with pytest.raises(errors.MesError) as refused:
        use_cases.parse(document, STANDARDS)
    assert refused.value.http_status == status and message in refused.value.message + str(refused.value.details)
