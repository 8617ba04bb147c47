"""The MES's nouns written as V0700 (b2mml.operations_schedule, material_definition, material_lot, equipment) from
the services' JSON, wrapped by b2mml.show and validated against the official XSDs, which refuse elements out of
their xsd:sequence order; values read back by XPath and, where the MES has a reader, by that reader."""
import copy
import os
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from integration_service import b2mml
from mes_common import errors

pytestmark = pytest.mark.fast
STANDARDS = Path(os.environ.get("STANDARDS_DIR") or Path(__file__).resolve().parents[2] / "../shared/standards")
V7 = b2mml.NAMESPACES["V0700"]
UTC = timezone.utc
NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
OPERATION = {"sequence": 10, "name": "Saw blank", "work_center_code": "WC-SAW-01", "setup_time": 45.0,
             "run_time": 6.0, "planned_start": "2025-03-03T06:00:00+01:00", "planned_end": "2025-03-03T08:30:00+01:00",
             "status": "ready", "process_segment_id": "SAW"}
# released: its operations, not the planned ones; float quantities and times as the JSON gives them
RELEASED = {"id": "8d0c", "number": "WO-100", "description": "Bracket, main landing gear", "part_number": "7731-100-A",
            "part_revision": "B", "uom": "EA", "quantity": 25.0, "due_date": "2025-03-07",
            "planned_start": "2025-03-03T06:00:00+01:00", "priority": 2, "status": "released",
            "operations": [OPERATION, {"sequence": 20, "name": "Mill 5-axis", "work_center_code": "WC-5AX-02",
                                       "setup_time": 7.5, "run_time": 0.1, "planned_start": None, "planned_end": None,
                                       "status": "pending"}],
            "planned_operations": [{**OPERATION, "sequence": 99}]}
# created: not released, so no operations yet; the routing's planned ones
PLANNED = {"id": "8d0d", "number": "WO-101", "description": None, "part_number": "7731-200-B", "part_revision": "A",
           "uom": "KG", "quantity": 12.5, "due_date": "2025-03-10", "planned_start": None, "priority": 5,
           "status": "created", "operations": [],
           "planned_operations": [{"sequence": 10, "name": "Turn", "work_center_code": "WC-LATHE-04",
                                   "setup_time": 30.0, "run_time": 3.2, "planned_start": None, "planned_end": None}]}
# neither operations nor planned ones (the summary's keys only)
BARE = {"id": "8d0e", "number": "WO-102", "part_number": "7731-300-C", "part_revision": "A", "uom": "EA",
        "quantity": 4.0, "due_date": "2025-03-12", "priority": 1, "status": "on_hold"}
PART = {"id": "1f2e", "part_number": "7731-100-A", "name": "Bracket", "description": "Bracket, main landing gear",
        "uom": "EA", "type": "manufactured", "status": "active", "revision": "B"}
LOT = {"id": "5a5a", "lot_number": "L-2025-0042", "part_number": "AL-7075-BAR", "status": "quarantine",
       "quantity": 2.5, "uom": "M", "balances": [{"location_code": "RECV-01", "quantity": 2.0},
                                                 {"location_code": "STORE-A", "quantity": 0.5}]}
TREE = {"code": "PLANT-1000", "name": "Plant 1000", "level": "site", "children": [
    {"code": "WC-5AX-02", "name": "5-axis machining center", "level": "work_center", "children": [
        {"code": "EQ-DMU-65", "name": "DMU 65 monoBLOCK", "level": "equipment", "children": []}]},
    {"code": "WC-CMM-01", "name": "Coordinate measuring machine", "level": "work_center", "children": []}]}


def _get(noun, noun_id):
    """The Message of a Get of `noun` from the ERP, itself checked against the XSD."""
    document = (f'<Get{noun} xmlns="{V7}" releaseID="2.0"><ApplicationArea><Sender><LogicalID>ERP</LogicalID>'
                f'</Sender><CreationDateTime>2025-03-03T07:00:00+01:00</CreationDateTime><BODID>GET-1</BODID>'
                f'</ApplicationArea><DataArea><Get><Expression>/{noun}[ID="{noun_id}"]</Expression></Get>'
                f'<{noun}><ID>{noun_id}</ID></{noun}></DataArea></Get{noun}>')
    return b2mml.read(document.encode(), STANDARDS)


def _shown(nouns, get=None):
    """The Show of `nouns`, validated against the official XSD."""
    document = b2mml.show(nouns, request=get, now=NOW, bod_id="SHOW-1")
    b2mml.validate_v0700(document, STANDARDS)
    return document


def _texts(node, path):
    """The strings at an XPath (prefix b: for the B2MML namespace; ending in text() or an attribute)."""
    return [str(found) for found in node.xpath(path, namespaces={"b": V7})]


def _in_show(tree, get, noun):
    assert tree.getroot().tag == f"{{{V7}}}Show{noun}"
    header = ("b:ApplicationArea/b:Receiver/b:LogicalID/text()",
              "b:DataArea/b:Show/b:OriginalApplicationArea/b:BODID/text()")
    assert [_texts(tree.getroot(), path) for path in header] == ([["ERP"], ["GET-1"]] if get else [[], []])
    assert tree.getroot().get("releaseID") == ("2.0" if get else "1.0")


# -- operations schedule -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("get", [False, True])
def test_a_schedule_of_work_orders_validates_in_a_show_with_or_without_a_get(get):
    request = _get("OperationsSchedule", "MES") if get else None
    tree = _shown([b2mml.operations_schedule([RELEASED, PLANNED, BARE])], request)
    _in_show(tree, get, "OperationsSchedule")
    schedule = "b:DataArea/b:OperationsSchedule"
    assert _texts(tree.getroot(), f"{schedule}/b:ID/text()") == ["MES"]
    assert _texts(tree.getroot(), f"{schedule}/b:OperationsRequest/b:ID/text()") == ["WO-100", "WO-101", "WO-102"]


def test_the_schedule_id_is_the_one_given_else_mes():
    assert _texts(b2mml.operations_schedule([], "SCH-W10"), "b:ID/text()") == ["SCH-W10"]
    assert b2mml.operations_schedule([BARE]).tag == f"{{{V7}}}OperationsSchedule"


def test_each_order_is_a_request_with_its_times_priority_and_state():
    schedule = b2mml.operations_schedule([RELEASED, PLANNED, BARE])
    requests = schedule.xpath("b:OperationsRequest", namespaces={"b": V7})
    fields = ("Description", "OperationsType", "StartTime", "EndTime", "Priority", "RequestState")
    assert [[_texts(r, f"b:{name}/text()") for name in fields] for r in requests] == [
        [["Bracket, main landing gear"], ["Production"], ["2025-03-03T05:00:00Z"], ["2025-03-07T23:59:59Z"], ["2"],
         ["Released"]],
        [[], ["Production"], [], ["2025-03-10T23:59:59Z"], ["5"], ["Forecast"]],
        [[], ["Production"], [], ["2025-03-12T23:59:59Z"], ["1"], ["Held"]]]


@pytest.mark.parametrize("status, state, other", [
    ("created", "Forecast", None), ("released", "Released", None), ("in_progress", "Running", None),
    ("on_hold", "Held", None), ("completed", "Completed", None), ("closed", "Closed", None),
    ("cancelled", "Cancelled", None), ("quarantined", "Other", "quarantined")])
def test_the_status_is_the_request_state_of_the_xsd_enumeration(status, state, other):
    tree = _shown(b2mml.operations_schedule([{**BARE, "status": status}]))
    found, = tree.getroot().xpath("//b:RequestState", namespaces={"b": V7})
    assert (found.text, found.get("OtherValue")) == (state, other)


def _segments(schedule, number):
    request = f'b:OperationsRequest[b:ID="{number}"]/b:SegmentRequirement'
    fields = ("ID", "Description", "ProcessSegmentID", "EarliestStartTime", "LatestEndTime", "Duration",
              'SegmentParameter[b:ID="SetupTime"]/b:Value/b:ValueString', "EquipmentRequirement/b:EquipmentID")
    return [tuple((_texts(segment, f"b:{name}/text()") or [None])[0] for name in fields)
            for segment in schedule.xpath(request, namespaces={"b": V7})]


def test_the_released_operations_are_the_segments_else_the_planned_ones():
    schedule = b2mml.operations_schedule([RELEASED, PLANNED, BARE])
    # 6 min × 25 = 150 min; 0.1 min × 25 = 2.5 min; 3.2 min × 12.5 = 40 min; a setup of 7.5 min: PT7M30S
    assert _segments(schedule, "WO-100") == [
        ("0010", "Saw blank", "SAW", "2025-03-03T05:00:00Z", "2025-03-03T07:30:00Z", "PT2H30M", "PT45M", "WC-SAW-01"),
        ("0020", "Mill 5-axis", None, None, None, "PT2M30S", "PT7M30S", "WC-5AX-02")]
    assert _segments(schedule, "WO-101") == [("0010", "Turn", None, None, None, "PT40M", "PT30M", "WC-LATHE-04")]
    # without operations: one segment, only to carry the part made
    assert _segments(schedule, "WO-102") == [(None,) * 8]
    assert _texts(schedule, '//b:SegmentParameter/b:Value/b:DataType/text()') == ["duration"] * 3


def test_the_part_made_is_a_produced_requirement_on_the_last_segment():
    schedule = b2mml.operations_schedule([RELEASED, PLANNED, BARE])
    produced = "b:SegmentRequirement[last()]/b:MaterialRequirement"
    fields = ("MaterialDefinitionID", "MaterialUse", "Quantity/b:QuantityString", "Quantity/b:UnitOfMeasure",
              'MaterialRequirementProperty[b:ID="Revision"]/b:Value/b:ValueString')
    assert [[_texts(request, f"{produced}/b:{name}/text()") for name in fields]
            for request in schedule.xpath("b:OperationsRequest", namespaces={"b": V7})] == [
        [["7731-100-A"], ["Produced"], ["25"], ["EA"], ["B"]],
        [["7731-200-B"], ["Produced"], ["12.5"], ["KG"], ["A"]],
        [["7731-300-C"], ["Produced"], ["4"], ["EA"], ["A"]]]
    assert len(schedule.xpath("//b:MaterialRequirement", namespaces={"b": V7})) == 3   # one per order


def test_the_mes_reads_back_the_orders_it_writes():
    schedule = b2mml.read_schedule(b2mml.operations_schedule([RELEASED, PLANNED]))
    released, planned = schedule.requests
    assert (schedule.id, released.id, released.description, released.part_number, released.quantity,
            released.unit, released.start, released.due, released.priority) == (
        "MES", "WO-100", "Bracket, main landing gear", "7731-100-A", Decimal("25"), "EA",
        datetime(2025, 3, 3, 5, 0, tzinfo=UTC), datetime(2025, 3, 7, 23, 59, 59, tzinfo=UTC), Decimal("2"))
    assert [(s.id, s.process_segment_id, s.work_center_code, s.duration, s.setup) for s in released.segments] == [
        ("0010", "SAW", "WC-SAW-01", timedelta(minutes=150), timedelta(minutes=45)),
        ("0020", None, "WC-5AX-02", timedelta(minutes=2.5), timedelta(minutes=7.5))]
    assert (planned.id, planned.quantity, planned.unit, planned.start, planned.due.date().isoformat()) == (
        "WO-101", Decimal("12.5"), "KG", None, "2025-03-10")


@pytest.mark.parametrize("run_time, quantity, setup, duration, quantity_text, setup_text", [
    (1.5, 60, 90, "PT1H30M", "60", "PT1H30M"),
    (0.1, 3.0, 0.25, "PT18S", "3", "PT15S"),
    (25.0, 100.0, 0.0, "PT41H40M", "100", "PT0S"),
    (0.0, 2.5, 1 / 3, "PT0S", "2.5", "PT20S"),
    (0.0002, 1, 0.5, "PT0.012S", "1", "PT30S"),   # to the millisecond
    (2, 1e-07, 61.25, "PT0S", "0.0000001", "PT1H1M15S")])
def test_durations_and_quantities_are_written_as_the_xsd_types_take_them(run_time, quantity, setup, duration,
                                                                         quantity_text, setup_text):
    order = {**BARE, "quantity": quantity, "planned_operations": [
        {"sequence": 10, "name": "Op", "work_center_code": "WC", "setup_time": setup, "run_time": run_time}]}
    tree = _shown(b2mml.operations_schedule([order]))
    assert (_texts(tree, "//b:Duration/text()"), _texts(tree, "//b:QuantityString/text()"),
            _texts(tree, "//b:SegmentParameter/b:Value/b:ValueString/text()")) == (
        [duration], [quantity_text], [setup_text])


def test_a_quantity_that_is_no_number_is_refused_before_writing():
    for quantity in (float("nan"), float("inf"), "many"):
        with pytest.raises(ValueError, match="no number"):
            b2mml.operations_schedule([{**BARE, "quantity": quantity}])


@pytest.mark.parametrize("parent, moved, before", [
    ("OperationsRequest", "RequestState", "Priority"),
    ("SegmentRequirement", "EquipmentRequirement", "SegmentParameter"),
    ("MaterialRequirement", "Quantity", "MaterialUse")])
def test_an_element_out_of_its_sequence_order_is_refused_by_the_xsd(parent, moved, before):
    """What makes the validations above worth their name: the writers' order is the XSD's, any other is refused."""
    schedule = b2mml.operations_schedule([RELEASED])
    _shown(copy.deepcopy(schedule))
    element = schedule.xpath(f"//b:{parent}[b:{moved}]", namespaces={"b": V7})[0]
    element.find(f"{{{V7}}}{before}").addprevious(element.find(f"{{{V7}}}{moved}"))
    with pytest.raises(errors.ValidationFailed, match=f"({moved}|{before})': This element is not expected"):
        _shown(schedule)


# -- material ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("get", [False, True])
def test_a_part_is_a_material_definition_with_its_properties(get):
    tree = _shown([b2mml.material_definition(PART)], _get("MaterialDefinition", PART["part_number"]) if get else None)
    _in_show(tree, get, "MaterialDefinition")
    definition = "b:DataArea/b:MaterialDefinition"
    assert (_texts(tree.getroot(), f"{definition}/b:ID/text()"),
            _texts(tree.getroot(), f"{definition}/b:Description/text()")) == (
        ["7731-100-A"], ["Bracket", "Bracket, main landing gear"])
    properties = tree.getroot().xpath(f"{definition}/b:MaterialDefinitionProperty", namespaces={"b": V7})
    assert [(_texts(p, "b:ID/text()"), _texts(p, "b:Value/b:ValueString/text()")) for p in properties] == [
        (["BaseUnitOfMeasure"], ["EA"]), (["Revision"], ["B"]), (["Status"], ["active"]),
        (["PartType"], ["manufactured"])]


def test_the_mes_reads_back_the_part_it_writes():
    alone = {**PART, "description": None}
    assert b2mml.read_material_definitions([b2mml.material_definition(alone)]) == [
        b2mml.MaterialDefinition(id="7731-100-A", description="Bracket", base_unit="EA")]
    assert _texts(b2mml.material_definition({**PART, "description": "Bracket"}), "b:Description/text()") == [
        "Bracket"]   # a description that only repeats the name is written once


@pytest.mark.parametrize("get", [False, True])
def test_a_lot_is_a_material_lot_stored_where_its_first_balance_is(get):
    tree = _shown([b2mml.material_lot(LOT)], _get("MaterialLot", LOT["lot_number"]) if get else None)
    _in_show(tree, get, "MaterialLot")
    lot = tree.getroot().find(f"{{{V7}}}DataArea/{{{V7}}}MaterialLot")
    assert [(etree.QName(child).localname, child.text) for child in lot if child.text and child.text.strip()] == [
        ("ID", "L-2025-0042"), ("MaterialDefinitionID", "AL-7075-BAR"), ("Status", "quarantine"),
        ("StorageLocation", "RECV-01")]
    assert (_texts(lot, "b:Quantity/b:QuantityString/text()"), _texts(lot, "b:Quantity/b:UnitOfMeasure/text()")) == (
        ["2.5"], ["M"])


@pytest.mark.parametrize("status", ["received", "quarantine", "released", "consumed", "expired", "rejected"])
def test_a_lot_without_balances_or_unit_keeps_its_status_and_quantity(status):
    lot = {"lot_number": "L-1", "part_number": "P-1", "status": status, "quantity": 4.0, "balances": []}
    _shown([b2mml.material_lot(lot)])
    assert b2mml.read_material_lots(b2mml.material_lot(lot)) == [
        b2mml.MaterialLot(id="L-1", material_definition_id="P-1", quantity=Decimal("4"), unit=None,
                          storage_location=None, status=status)]
    assert _texts(b2mml.material_lot(lot), "b:Quantity/b:QuantityString/text()") == ["4"]


# -- equipment -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("get", [False, True])
def test_an_equipment_tree_nests_its_children_with_their_levels(get):
    tree = _shown([b2mml.equipment(TREE)], _get("Equipment", TREE["code"]) if get else None)
    _in_show(tree, get, "Equipment")
    site = tree.getroot().find(f"{{{V7}}}DataArea/{{{V7}}}Equipment")
    level = "b:EquipmentLevel/b:EquipmentElementLevel"
    assert (_texts(site, "b:ID/text()"), _texts(site, f"{level}/text()"), _texts(site, "b:Equipment/b:ID/text()"),
            _texts(site, f"b:Equipment/{level}/text()"), _texts(site, "b:Equipment/b:Equipment/b:ID/text()"),
            _texts(site, f"b:Equipment/b:Equipment/{level}/text()"),
            _texts(site, f"b:Equipment/b:Equipment/{level}/@OtherValue")) == (
        ["PLANT-1000"], ["Site"], ["WC-5AX-02", "WC-CMM-01"], ["WorkCenter", "WorkCenter"], ["EQ-DMU-65"], ["Other"],
        ["Equipment"])
    assert _texts(site, "//b:EquipmentLevel/b:EquipmentID/text()") == [
        "PLANT-1000", "WC-5AX-02", "EQ-DMU-65", "WC-CMM-01"]   # each names itself


def test_the_mes_reads_back_the_tree_it_writes():
    assert [(e.id, e.description, e.level, e.parent_id) for e in b2mml.read_equipment(b2mml.equipment(TREE))] == [
        ("PLANT-1000", "Plant 1000", "Site", None),
        ("WC-5AX-02", "5-axis machining center", "WorkCenter", "PLANT-1000"),
        ("EQ-DMU-65", "DMU 65 monoBLOCK", "Equipment", "WC-5AX-02"),
        ("WC-CMM-01", "Coordinate measuring machine", "WorkCenter", "PLANT-1000")]


@pytest.mark.parametrize("level, code, other", [
    ("enterprise", "Enterprise", None), ("site", "Site", None), ("area", "Area", None),
    ("work_center", "WorkCenter", None), ("work_unit", "WorkUnit", None), ("equipment", "Other", "Equipment"),
    ("line", "Other", "line")])
def test_each_mes_level_is_one_of_the_xsd_enumeration(level, code, other):
    tree = _shown([b2mml.equipment({"code": "X-1", "name": "X", "level": level})])
    found, = tree.getroot().xpath("//b:EquipmentElementLevel", namespaces={"b": V7})
    assert (found.text, found.get("OtherValue")) == (code, other)


def test_children_given_apart_are_nested_instead_of_the_nodes_own():
    area = {"code": "AREA-MACH", "name": "Machining", "level": "area", "children": [TREE["children"][1]]}
    element = b2mml.equipment(area, children=[{"code": "WU-1", "name": "Pallet changer", "level": "work_unit"}])
    _shown([element])
    assert _texts(element, "b:Equipment/b:ID/text()") == ["WU-1"]
    # a node without level or children: its ID and name only
    assert [etree.QName(child).localname for child in b2mml.equipment({"code": "X", "name": "X"})] == [
        "ID", "Description"]
