"""The ProcessOperationsPerformance the MES sends the ERP (performance),
validated against the official V0700 schema and read back with XPath: a
bracket order of two operations (bar stock sawn, bearings fitted) made into
three serials of one lot, with one scrapped. Values asserted were worked out
by hand from the dumps below."""
import copy
import os
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from integration_service import b2mml, performance
from mes_common import errors

pytestmark = pytest.mark.fast
STANDARDS = Path(os.environ.get("STANDARDS_DIR") or Path(__file__).resolve().parents[2] / "../shared/standards")
V7 = b2mml.NAMESPACES["V0700"]
NS = {"b": V7}
UTC = timezone.utc
NOW = datetime(2025, 3, 6, 9, 0, tzinfo=UTC)
PERFORMANCE = "/b:ProcessOperationsPerformance/b:DataArea/b:OperationsPerformance"
RESPONSE = f"{PERFORMANCE}/b:OperationsResponse"

ORDER = {
    "id": "wo-1", "number": "WO-100234", "part_id": "p-bracket", "part_number": "7731-100-A", "part_revision": "C",
    "uom": "EA", "quantity": 4.0, "quantity_completed": 3.0, "quantity_scrapped": 1.0, "site_id": "site-1",
    "site_name": "Wichita", "status": "completed", "completed_at": "2025-03-05T16:30:00+00:00",
    "released_at": "2025-03-03T06:00:00+00:00",
    "operations": [   # given out of order: the document follows the sequence
        {"id": "op-20", "sequence": 20, "name": "Fit bearings", "work_center_id": "wc-2",
         "work_center_code": "WC-ASM-02", "work_center_name": "Assembly", "status": "completed", "quantity_good": 3.0,
         "quantity_scrap": 1.0, "quantity_rework": 0.0, "actual_start": "2025-03-04T07:00:00+00:00",
         "actual_end": "2025-03-05T15:00:00Z", "operator_id": None, "operator_name": None, "equipment_id": None},
        {"id": "op-10", "sequence": 10, "name": "Saw blank", "work_center_id": "wc-1", "work_center_code": "WC-SAW-01",
         "work_center_name": "Saw", "status": "completed", "quantity_good": 4.0, "quantity_scrap": 0.0,
         "quantity_rework": 0.0, "actual_start": "2025-03-03T08:00:00+01:00",   # 07:00 UTC
         "actual_end": "2025-03-03T10:15:00+01:00", "operator_id": "u-7", "operator_name": "Ann Lee",
         "equipment_id": "eq-saw-3", "process_segment_id": "SAW"}]}


def _row(n, type_, quantity, operation_id, lot_id=None, serial_id=None, work_order_id="wo-1"):
    return {"id": f"t-{n}", "type": type_, "part_id": "any", "lot_id": lot_id, "serial_id": serial_id,
            "quantity": quantity, "work_order_id": work_order_id, "operation_id": operation_id,
            "created_at": f"2025-03-0{3 + n // 10}T0{n % 10}:00:00+00:00"}


TRANSACTIONS = [
    _row(1, "consume", -2.5, "op-10", lot_id="bar-a"),        # two draws from one bar lot: summed
    _row(2, "consume", -1.25, "op-10", lot_id="bar-a"),
    _row(3, "consume", -4, "op-10", lot_id="bar-b"),
    _row(4, "move", -4, None, lot_id="bar-b"),                  # not consumption
    _row(5, "consume", -9, "op-10", lot_id="bar-b", work_order_id="wo-other"),   # another order's
    _row(11, "consume", -1, "op-20", serial_id="brg-1"),      # bearings: serials of one component lot
    _row(12, "consume", -1, "op-20", serial_id="brg-2"),
    _row(13, "consume", -1, "op-20", serial_id="nut-1"),      # a serial of no lot
    _row(15, "produce", 3, "op-20", lot_id="out-1"),
    _row(16, "produce", 1, "op-20", serial_id="sn-1"),
    _row(17, "produce", 1, "op-20", serial_id="sn-2"),
]
LOTS = {"bar-a": {"lot_number": "H-7075-881", "part_number": "AL7075-BAR-50", "uom": "KG"},
        "bar-b": {"lot_number": "H-7075-902", "part_number": "AL7075-BAR-50", "uom": "KG"},
        "brg-lot": {"lot_number": "BRG-2025-11", "part_number": "NAS-BRG-6"},
        "out-1": {"lot_number": "WO-100234-L1", "part_number": "7731-100-A"}}
SERIALS = {"brg-1": {"serial_number": "B-0001", "part_number": "NAS-BRG-6", "lot_id": "brg-lot"},
           "brg-2": {"serial_number": "B-0002", "part_number": "NAS-BRG-6", "lot_id": "brg-lot"},
           "nut-1": {"serial_number": "N-77", "part_number": "MS-NUT-4", "lot_id": None},
           "sn-1": {"serial_number": "SN-001", "part_number": "7731-100-A", "lot_id": "out-1"},
           "sn-2": {"serial_number": "SN-002", "part_number": "7731-100-A", "lot_id": "out-1"},
           # no produce row: known as output by its work order
           "sn-3": {"serial_number": "SN-003", "part_number": "7731-100-A", "lot_id": "out-1", "work_order_id": "wo-1"}}


def _order(**changes):
    order = copy.deepcopy(ORDER)
    order.update(changes)
    return order


def _document(order=None, transactions=TRANSACTIONS, lots=LOTS, serials=SERIALS, **kwargs):
    tree = performance.document(order or _order(), transactions, lots, serials, bod_id="BOD-1", now=NOW, **kwargs)
    b2mml.validate_v0700(tree, STANDARDS)
    return tree


def _texts(tree, path):
    return [e.text for e in tree.xpath(path, namespaces=NS)]


def _segment(n):
    return f"{RESPONSE}/b:SegmentResponse[b:ID='{n}']"


# -- a completed order ---------------------------------------------------------------------------------------------

def test_a_completed_order_validates_and_names_the_work_order_site_and_times():
    tree = _document()
    assert tree.getroot().tag == f"{{{V7}}}ProcessOperationsPerformance"
    assert _texts(tree, "/b:*/b:ApplicationArea/b:*[self::b:BODID or self::b:CreationDateTime]") == [
        "2025-03-06T09:00:00Z", "BOD-1"]
    assert _texts(tree, "/b:*/b:ApplicationArea/b:Sender/b:LogicalID") == ["MES"]
    assert [(etree.QName(e).localname, (e.text or "").strip()) for e in tree.xpath(f"{PERFORMANCE}/*", namespaces=NS)
            if e.tag != f"{{{V7}}}OperationsResponse"] == [
        ("ID", "WO-100234"), ("Description", "7731-100-A rev C"), ("HierarchyScope", ""),
        ("OperationsType", "Production"), ("StartTime", "2025-03-03T07:00:00Z"), ("EndTime", "2025-03-05T16:30:00Z"),
        ("PerformanceState", "Completed"), ("PublishedDate", "2025-03-06T09:00:00Z")]
    assert _texts(tree, f"{PERFORMANCE}/b:HierarchyScope/*") == ["Wichita", "Site"]
    assert _texts(tree, f"{RESPONSE}/b:*[not(self::b:SegmentResponse)]") == [
        "WO-100234", "Production", "WO-100234", "2025-03-03T07:00:00Z", "2025-03-05T16:30:00Z", "Completed"]


def test_each_operation_is_a_segment_response_in_sequence_with_its_times_work_center_and_operator():
    tree = _document()
    assert _texts(tree, f"{RESPONSE}/b:SegmentResponse/b:ID") == ["0010", "0020"]
    assert _texts(tree, f"{_segment('0010')}/b:*[self::b:Description or self::b:ProcessSegmentID or "
                        f"self::b:ActualStartTime or self::b:ActualEndTime or self::b:SegmentState]") == [
        "Saw blank", "SAW", "2025-03-03T07:00:00Z", "2025-03-03T09:15:00Z", "Completed"]
    assert _texts(tree, f"{_segment('0010')}/b:EquipmentActual/b:EquipmentID") == ["WC-SAW-01", "eq-saw-3"]
    assert _texts(tree, f"{_segment('0010')}/b:EquipmentActual/b:Description") == ["work center", "equipment"]
    assert _texts(tree, f"{_segment('0010')}/b:PersonnelActual/b:PersonID") == ["Ann Lee"]
    # no process segment, operator or equipment: none written
    assert _texts(tree, f"{_segment('0020')}/b:*[self::b:ActualStartTime or self::b:ActualEndTime]") == [
        "2025-03-04T07:00:00Z", "2025-03-05T15:00:00Z"]
    assert _texts(tree, f"{_segment('0020')}/b:EquipmentActual/b:EquipmentID") == ["WC-ASM-02"]
    assert not tree.xpath(f"{_segment('0020')}/b:*[self::b:ProcessSegmentID or self::b:PersonnelActual]",
                          namespaces=NS)
    assert _texts(tree, f"{_segment('0020')}/b:SegmentData/b:ID") == ["QuantityGood", "QuantityScrap",
                                                                      "QuantityRework"]
    assert _texts(tree, f"{_segment('0020')}/b:SegmentData/b:Value/b:ValueString") == ["3", "1", "0"]


def _actuals(tree, segment, use):
    return [(a.findtext(f"{{{V7}}}MaterialDefinitionID"), _texts(a, "b:MaterialLotID"),
             _texts(a, "b:MaterialSubLotID"), a.findtext(f"{{{V7}}}Quantity/{{{V7}}}QuantityString"),
             a.findtext(f"{{{V7}}}Quantity/{{{V7}}}UnitOfMeasure"))
            for a in tree.xpath(f"{_segment(segment)}/b:MaterialActual[b:MaterialUse='{use}']", namespaces=NS)]


def test_consumption_is_one_material_actual_per_part_and_lot_on_the_operation_that_consumed_it():
    tree = _document()
    # 2.5 + 1.25 of one bar lot; the move and the other order's draw left out
    assert _actuals(tree, "0010", "Consumed") == [("AL7075-BAR-50", ["H-7075-881"], [], "3.75", "KG"),
                                                  ("AL7075-BAR-50", ["H-7075-902"], [], "4", "KG")]
    # serials as sublots of their lot; a serial of no lot without MaterialLotID
    assert _actuals(tree, "0020", "Consumed") == [("NAS-BRG-6", ["BRG-2025-11"], ["B-0001", "B-0002"], "2", None),
                                                  ("MS-NUT-4", [], ["N-77"], "1", None)]


def test_the_last_operation_carries_the_produced_lot_its_serials_the_good_quantity_and_the_scrap():
    tree = _document()
    assert _actuals(tree, "0020", "Produced") == [
        ("7731-100-A", ["WO-100234-L1"], ["SN-001", "SN-002", "SN-003"], "3", "EA")]
    assert _actuals(tree, "0010", "Produced") == []
    scrap = f"{_segment('0020')}/b:MaterialActual[b:MaterialUse='Produced']/b:MaterialActualProperty"
    assert _texts(tree, f"{scrap}/b:ID") == ["ScrapQuantity"]
    assert _texts(tree, f"{scrap}/b:Quantity/*") == ["1", "EA"]


def test_the_summary_names_the_order_every_lot_and_serial_and_the_segments():
    assert performance.summary(_document()) == {
        "work_order": "WO-100234", "lots": ["H-7075-881", "H-7075-902", "BRG-2025-11", "WO-100234-L1"],
        "serials": ["B-0001", "B-0002", "N-77", "SN-001", "SN-002", "SN-003"], "segments": 2}


def test_an_order_that_made_several_lots_gives_each_its_own_quantity_and_the_scrap_once():
    rows = [_row(1, "produce", 2.5, "op-20", lot_id="out-1"), _row(2, "produce", 0.5, "op-20", lot_id="out-2")]
    lots = {**LOTS, "out-2": {"lot_number": "WO-100234-L2", "part_number": "7731-100-A"}}
    tree = _document(_order(uom="KG"), rows, lots, {})
    assert _actuals(tree, "0020", "Produced") == [("7731-100-A", ["WO-100234-L1"], [], "2.5", "KG"),
                                                  ("7731-100-A", ["WO-100234-L2"], [], "0.5", "KG")]
    assert len(tree.xpath(f"{RESPONSE}//b:MaterialActualProperty[b:ID='ScrapQuantity']", namespaces=NS)) == 1


# -- less complete orders ------------------------------------------------------------------------------------------

def test_an_order_that_consumed_nothing_validates_with_its_output_alone():
    tree = _document(transactions=[], serials={})
    assert not tree.xpath(f"{RESPONSE}//b:MaterialActual[b:MaterialUse='Consumed']", namespaces=NS)
    assert _actuals(tree, "0020", "Produced") == [("7731-100-A", [], [], "3", "EA")]
    assert performance.summary(tree) == {"work_order": "WO-100234", "lots": [], "serials": [], "segments": 2}


def test_an_operation_never_started_validates_without_times_and_a_running_order_without_an_end():
    order = _order(status="in_progress", completed_at=None)
    order["operations"][0].update(status="pending", actual_start=None, actual_end=None, quantity_good=0.0,
                                  quantity_scrap=0.0)
    tree = _document(order, transactions=[], serials={})
    assert not tree.xpath(f"{_segment('0020')}/b:*[self::b:ActualStartTime or self::b:ActualEndTime or "
                          f"self::b:SegmentState]", namespaces=NS)
    assert _texts(tree, f"{PERFORMANCE}/b:*[self::b:StartTime or self::b:EndTime or self::b:PerformanceState]") == [
        "2025-03-03T07:00:00Z", "Running"]


def test_a_completed_order_without_completed_at_ends_with_its_last_operation():
    tree = _document(_order(completed_at=None))
    assert _texts(tree, f"{RESPONSE}/b:EndTime") == ["2025-03-05T15:00:00Z"]


@pytest.mark.parametrize("value, text", [(4.0, "4"), (2.5, "2.5"), (1e-05, "0.00001"), (2.5e3, "2500"),
                                         ("0.4E1", "4"), (Decimal("1E+3"), "1000"), (-0.0, "0"), (3, "3"),
                                         (0.1 + 0.2, "0.30000000000000004")])
def test_quantities_are_plain_decimals(value, text):
    assert performance.quantity_text(value) == text


def test_quantities_in_exponent_form_are_written_plainly_in_the_document():
    order = _order()
    order["operations"][0]["quantity_good"] = 1.2e3   # operation 20, the last
    rows = [_row(1, "consume", -1e-05, "op-10", lot_id="bar-a"), _row(2, "consume", -2e-05, "op-10", lot_id="bar-a")]
    tree = _document(order, rows, serials={})
    assert _actuals(tree, "0010", "Consumed") == [("AL7075-BAR-50", ["H-7075-881"], [], "0.00003", "KG")]
    assert _texts(tree, f"{_segment('0020')}/b:SegmentData[b:ID='QuantityGood']/b:Value/b:ValueString") == ["1200"]
    assert _actuals(tree, "0020", "Produced") == [("7731-100-A", [], [], "1200", "EA")]
    assert "E" not in "".join(_texts(tree, "//b:QuantityString | //b:ValueString"))


@pytest.mark.parametrize("order, rows, message", [
    ({**ORDER, "number": None}, [], "no number"),
    ({**ORDER, "number": "  "}, [], "no number"),
    ({key: value for key, value in ORDER.items() if key != "number"}, [], "no number"),
    ({**ORDER, "operations": [{**ORDER["operations"][0], "sequence": None}]}, [], "no sequence"),
    ({**ORDER, "operations": [ORDER["operations"][0], {**ORDER["operations"][1], "sequence": 20}]}, [], "twice"),
    ({**ORDER, "completed_at": "yesterday"}, [], "completed_at"),
    (ORDER, [_row(1, "consume", "lots", "op-10", lot_id="bar-a")], "quantity"),
    (ORDER, [_row(1, "consume", -1, "op-10", lot_id="unknown")], "lot unknown"),
])
def test_an_order_that_cannot_be_told_is_refused(order, rows, message):
    with pytest.raises(ValueError, match=message):
        performance.document(order, rows, LOTS, {}, now=NOW)


def test_only_v0700_is_written_and_the_summary_needs_a_performance():
    with pytest.raises(ValueError, match="V0700"):
        performance.document(ORDER, [], LOTS, {}, version="V0600")
    answer = b2mml.show([etree.Element(f"{{{V7}}}MaterialLot")], now=NOW)
    with pytest.raises(ValueError, match="no B2MML"):
        performance.summary(answer)


def test_a_document_out_of_the_schemas_order_is_refused_by_the_check_these_tests_rely_on():
    tree = performance.document(_order(), TRANSACTIONS, LOTS, SERIALS, now=NOW)
    segment = tree.xpath(_segment("0010"), namespaces=NS)[0]
    segment.find(f"{{{V7}}}EquipmentActual").addprevious(segment.find(f"{{{V7}}}MaterialActual"))
    with pytest.raises(errors.ValidationFailed, match="MaterialActual"):
        b2mml.validate_v0700(tree, STANDARDS)
