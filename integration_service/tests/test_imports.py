"""B2MML in, against the real resource, material and work order services: schedules become work orders with
their operations, all or nothing; a message is applied once; master data comes in; refused documents leave no
trace."""
import json
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import text

from mes_common import errors
from mes_common.rpc import ClusterRpcProxy
from work_order_service.testing import build
from integration_service import b2mml
from integration_service.tests.test_b2mml import STANDARDS

SAMPLES = Path(__file__).parent / "samples"
B2 = {"b": "http://www.mesa.org/xml/B2MML"}


def _plant(services, tag, codes):
    """A site of its own with work centers of these codes (each ending in the tag)."""
    r = services.resource
    ent = r.create_node({"level": "enterprise", "code": f"ENT-{tag}", "name": "Acme Aero"})
    site = r.create_node({"level": "site", "code": f"S-{tag}", "name": "Toulouse", "parent_id": ent["id"]})
    area = r.create_node({"level": "area", "code": "MACH", "name": "Machining", "parent_id": site["id"]})
    return site, {code: r.create_node({"level": "work_center", "code": f"{code}-{tag}", "name": f"Cell {code}",
                                       "parent_id": area["id"]}) for code in codes}


def _part(services, number, tag):
    return services.material.create_part({"part_number": f"{number}-{tag}", "name": f"Part {number}",
                                          "type": "manufactured"})


def _tagged(name, tag, names):
    """A sample with each of `names` (work order numbers, parts, work centers) ending in the tag."""
    document = (SAMPLES / name).read_text()
    for plain in names:
        document = document.replace(f"{plain} <", f"{plain}-{tag} <").replace(f"{plain}<", f"{plain}-{tag}<")
    return document


def _refused(error_type, call, *args):
    """The typed error a call raises (the MES's errors cross RPC as themselves)."""
    with pytest.raises(error_type) as caught:
        call(*args)
    return caught.value


def _orders(services, *numbers):
    found = {o["number"]: o for o in services.wo.find_work_orders({"numbers": list(numbers)})}
    return {n: services.wo.get_work_order(found[n]["id"]) for n in numbers if n in found}


def _messages(db):
    with db.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM message")).scalar()


V0700_NAMES = ("WO-100234", "WO-100235", "7731-100-A", "7731-200-B", "WC-SAW-01", "WC-5AX-02", "WC-BENCH-03",
               "WC-LATHE-04", "BOD-2025-0303-0001")


def _v0700_world(services, tag):
    site, wcs = _plant(services, tag, ("WC-SAW-01", "WC-5AX-02", "WC-BENCH-03", "WC-LATHE-04"))
    parts = {n: _part(services, n, tag) for n in ("7731-100-A", "7731-200-B")}
    return site, wcs, parts


def test_a_v0700_schedule_becomes_work_orders_with_their_operations(rpc, services, tag):
    site, wcs, parts = _v0700_world(services, tag)
    answer = rpc.receive_b2mml({}, _tagged("process_operations_schedule_v0700.xml", tag, V0700_NAMES))

    ack = etree.fromstring(answer.encode())
    assert etree.QName(ack).localname == "AcknowledgeOperationsSchedule"
    assert ack.xpath("string(//b:ResponseCriteria/b:ResponseExpression/@actionCode)", namespaces=B2) == "Accepted"
    assert ack.xpath("//b:OperationsRequest/b:ID/text()", namespaces=B2) == [f"WO-100234-{tag}",
                                                                             f"WO-100235-{tag}"]
    orders = _orders(services, f"WO-100234-{tag}", f"WO-100235-{tag}")
    first = orders[f"WO-100234-{tag}"]
    assert (first["part_number"], first["quantity"], first["status"]) == (f"7731-100-A-{tag}", 25.0, "created")
    assert (first["due_date"], first["priority"], first["site_id"]) == ("2025-03-07", 2, site["id"])
    assert first["planned_start"].startswith("2025-03-03T05:00:00")   # 06:00+01:00 in UTC
    assert first["description"] == "Bracket, main landing gear" and first["source"].startswith("b2mml SAP-ERP-PRD")
    planned = [(op["sequence"], op["work_center_id"], op["setup_time"], op["run_time"])
               for op in first["planned_operations"]]
    # 0010: PT2H30M for 25 = 6 min each, setup PT45M; 0020: P1DT4H = 1680 min / 25, setup 90 (minutes);
    # 0020-10 (nested, no setup) is no number: it follows 0020
    assert planned == [(10, wcs["WC-SAW-01"]["id"], 45.0, 6.0), (20, wcs["WC-5AX-02"]["id"], 90.0, 67.2),
                       (21, wcs["WC-BENCH-03"]["id"], 0.0, 3.0)]
    second = orders[f"WO-100235-{tag}"]
    assert (second["part_number"], second["quantity"], second["planned_start"]) == (f"7731-200-B-{tag}", 12.5, None)


V0600_NAMES = ("M17-10250", "M17-10248", "254100-D1", "254500-E1", "WC82-MH", "WC63-VGS", "WC89-QC")


def test_a_v0600_schedule_with_padded_ids_nested_segments_and_exponent_quantities(rpc, services, tag):
    document = _tagged("production_schedule_v0600.xml", tag, V0600_NAMES)
    site, wcs = _plant(services, tag, ("WC82-MH", "WC63-VGS", "WC89-QC"))
    for number in ("254100-D1", "254500-E1"):
        _part(services, number, tag)
    rpc.receive_b2mml({}, document)

    orders = _orders(services, f"M17-10250-{tag}", f"M17-10248-{tag}")
    core = orders[f"M17-10250-{tag}"]
    assert core["quantity"] == 4.0 and core["part_number"] == f"254100-D1-{tag}"   # 0.4E1
    assert orders[f"M17-10248-{tag}"]["quantity"] == 168.0                        # 0.168E3
    ops = core["planned_operations"]
    # the grouping segment (product segment 37807) is no operation; 060-1 is nested in 060
    assert [(op["sequence"], op["work_center_code"]) for op in ops] == [
        (5, f"WC82-MH-{tag}"), (60, f"WC63-VGS-{tag}"), (61, f"WC89-QC-{tag}"), (70, f"WC89-QC-{tag}")]
    assert ops[1]["setup_time"] == 90.0 and ops[1]["run_time"] == pytest.approx((24 * 60 + 30.7) / 4)
    assert ops[1]["process_segment_id"] == "GEAR-SHAPE" and ops[1]["name"] == "Shape gear teeth"


def test_the_same_message_twice_makes_one_work_order_and_answers_the_same(rpc, services, db, tag):
    _v0700_world(services, tag)
    document = _tagged("process_operations_schedule_v0700.xml", tag, V0700_NAMES)
    first = rpc.receive_b2mml({}, document)
    again = rpc.receive_b2mml({}, document)

    assert again == first
    assert len(services.wo.find_work_orders({"numbers": [f"WO-100234-{tag}"]})) == 1
    page = rpc.list_messages({"touched": f"WO-100234-{tag}"})
    assert [(m["status"], m["noun"], m["verb"]) for m in page["items"]] == [("accepted", "OperationsSchedule",
                                                                             "Process")]
    message = rpc.get_message(page["items"][0]["id"])
    assert message["payload"] == document and message["answer"] == first
    assert {t["number"]: t["action"] for t in message["touched"]} == {f"WO-100234-{tag}": "created",
                                                                       f"WO-100235-{tag}": "created"}


def test_an_idempotency_key_holds_for_one_document_only(rpc, services, tag):
    _v0700_world(services, tag)
    document = _tagged("process_operations_schedule_v0700.xml", tag, V0700_NAMES)
    rpc.receive_b2mml({"idempotency_key": f"k-{tag}"}, document)
    error = _refused(errors.Conflict, rpc.receive_b2mml, {"idempotency_key": f"k-{tag}"},
                     document.replace("<Priority>2</Priority>", "<Priority>3</Priority>"))
    assert "another document" in error.message


def test_unknown_references_are_all_named_in_one_422_and_nothing_is_created(rpc, services, db, tag):
    site, wcs = _plant(services, tag, ("WC-SAW-01", "WC-LATHE-04"))   # WC-5AX-02 and WC-BENCH-03 missing
    _part(services, "7731-200-B", tag)                             # 7731-100-A missing
    document = _tagged("process_operations_schedule_v0700.xml", tag, V0700_NAMES)
    error = _refused(errors.RuleViolated, rpc.receive_b2mml, {}, document)

    named = json.dumps(error.details)
    assert f"7731-100-A-{tag}" in named and f"WC-5AX-02-{tag}" in named and f"WC-BENCH-03-{tag}" in named
    assert services.wo.find_work_orders({"numbers": [f"WO-100234-{tag}", f"WO-100235-{tag}"]}) == []
    logged = rpc.list_messages({"document_id": f"BOD-2025-0303-0001-{tag}"})["items"]
    assert [(m["status"], m["http_status"]) for m in logged] == [("rejected", 422)]
    rejected = rpc.get_message(logged[0]["id"])
    assert set(rejected["error"]["details"]) == {
        "OperationsRequest[WO-100234-{0}]/MaterialDefinitionID".format(tag),
        "OperationsRequest[WO-100234-{0}]/SegmentRequirement[0020]/EquipmentRequirement/EquipmentID".format(tag),
        "OperationsRequest[WO-100234-{0}]/SegmentRequirement[0020-10]/EquipmentRequirement/EquipmentID".format(tag)}
    ack = etree.fromstring(rejected["answer"].encode())
    assert ack.xpath("string(//b:ResponseExpression/@actionCode)", namespaces=B2) == "Rejected"

    # the missing ones created, the same message is applied (it freed its key), by replay
    _part(services, "7731-100-A", tag)
    area = services.resource.find_nodes({"codes": [f"WC-SAW-01-{tag}"]})[0]["parent_id"]
    for code in ("WC-5AX-02", "WC-BENCH-03"):
        services.resource.create_node({"level": "work_center", "code": f"{code}-{tag}", "name": code,
                                       "parent_id": area})
    rpc.replay_message(logged[0]["id"])
    assert rpc.get_message(logged[0]["id"])["status"] == "accepted"
    assert len(services.wo.find_work_orders({"numbers": [f"WO-100234-{tag}", f"WO-100235-{tag}"]})) == 2


def _change(tag, number, quantity, verb="Change", extra_request=""):
    return f"""<{verb}OperationsSchedule xmlns="http://www.mesa.org/xml/B2MML" releaseID="1.0">
  <ApplicationArea><Sender><LogicalID>SAP-ERP-PRD</LogicalID></Sender>
    <CreationDateTime>2025-03-04T07:00:00Z</CreationDateTime><BODID>{verb}-{number}-{quantity}</BODID>
  </ApplicationArea>
  <DataArea><{verb}/>
    <OperationsSchedule><ID>SCH-{tag}</ID>
      <OperationsRequest><ID>{number}</ID><EndTime>2025-03-10T16:00:00Z</EndTime>
        <SegmentRequirement><ID>0010</ID><Duration>PT1H</Duration>
          <EquipmentRequirement><EquipmentID>WC-SAW-01-{tag}</EquipmentID></EquipmentRequirement>
          <MaterialRequirement><MaterialDefinitionID>7731-100-A-{tag}</MaterialDefinitionID>
            <MaterialUse>Produced</MaterialUse><Quantity><QuantityString>{quantity}</QuantityString></Quantity>
          </MaterialRequirement>
        </SegmentRequirement>
      </OperationsRequest>{extra_request}
    </OperationsSchedule>
  </DataArea>
</{verb}OperationsSchedule>"""


def test_change_sync_and_cancel_follow_the_erp(rpc, services, tag):
    _v0700_world(services, tag)
    rpc.receive_b2mml({}, _tagged("process_operations_schedule_v0700.xml", tag, V0700_NAMES))
    number = f"WO-100234-{tag}"

    answer = rpc.receive_b2mml({}, _change(tag, number, 20))
    assert etree.QName(etree.fromstring(answer.encode())).localname == "RespondOperationsSchedule"
    changed = _orders(services, number)[number]
    assert changed["quantity"] == 20.0 and changed["due_date"] == "2025-03-10"
    assert [op["sequence"] for op in changed["planned_operations"]] == [10]

    unknown = f"WO-NEW-{tag}"
    error = _refused(errors.RuleViolated, rpc.receive_b2mml, {}, _change(tag, unknown, 5))
    assert error.details == {f"OperationsRequest[{unknown}]/ID": [f"no work order {unknown}"]}

    # Sync: the known one changed, the unknown one created
    extra = _change(tag, unknown, 7).split("<OperationsRequest>")[1].split("</OperationsRequest>")[0]
    rpc.receive_b2mml({}, _change(tag, number, 30, verb="Sync", extra_request=f"<OperationsRequest>{extra}"
                                                                             "</OperationsRequest>"))
    synced = _orders(services, number, unknown)
    assert (synced[number]["quantity"], synced[unknown]["quantity"]) == (30.0, 7.0)

    rpc.receive_b2mml({}, _change(tag, unknown, 7, verb="Cancel"))
    assert _orders(services, unknown)[unknown]["status"] == "cancelled"


def test_an_imported_order_is_released_on_the_erp_plan(rpc, services, tag):
    site, wcs, parts = _v0700_world(services, tag)   # no routing: the plan is the operations
    rpc.receive_b2mml({}, _tagged("process_operations_schedule_v0700.xml", tag, V0700_NAMES))
    order = _orders(services, f"WO-100235-{tag}")[f"WO-100235-{tag}"]
    released = services.wo.release_work_order(order["id"])
    assert [(op["sequence"], op["work_center_id"], op["setup_time"]) for op in released["operations"]] == [
        (op["sequence"], op["work_center_id"], op["setup_time"]) for op in order["planned_operations"]]
    assert released["status"] == "released" and released["operations"][0]["status"] == "ready"


XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<ProcessOperationsSchedule xmlns="http://www.mesa.org/xml/B2MML"><DataArea><Process/>
<OperationsSchedule><ID>&x;</ID></OperationsSchedule></DataArea></ProcessOperationsSchedule>"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<OperationsSchedule xmlns="http://www.mesa.org/xml/B2MML"><ID>&lol3;</ID></OperationsSchedule>"""


@pytest.mark.parametrize("document, error_type", [
    (XXE, errors.ValidationFailed), (LAUGHS, errors.ValidationFailed),
    ("<OperationsSchedule xmlns='http://www.mesa.org/xml/B2MML'><ID>" + "x" * (21 * 1024 * 1024) + "</ID>"
     "</OperationsSchedule>", errors.TooLarge),
    ("<OperationsSchedule xmlns='http://www.mesa.org/xml/B2MML'><ID>1</ID><Nonsense/></OperationsSchedule>",
     errors.ValidationFailed),
    ("<ProcessOperationsSchedule xmlns='http://www.mesa.org/xml/B2MML'", errors.ValidationFailed),
], ids=["xxe", "billion-laughs", "oversized", "invalid-v0700", "not-well-formed"])
def test_a_hostile_or_invalid_document_is_refused_and_nothing_is_stored(rpc, db, document, error_type):
    before = _messages(db)
    error = _refused(error_type, rpc.receive_b2mml, {}, document)
    assert "/etc/passwd" not in error.message and "root:" not in error.message
    assert _messages(db) == before


def _level(name):
    return f"<EquipmentLevel><EquipmentID>x</EquipmentID><EquipmentElementLevel>{name}</EquipmentElementLevel>" \
           "</EquipmentLevel>"


def test_master_data_parts_equipment_and_lots_come_in(rpc, services, tag):
    equipment = f"""<SyncEquipment xmlns="http://www.mesa.org/xml/B2MML" releaseID="1.0">
  <ApplicationArea><CreationDateTime>2025-03-01T00:00:00Z</CreationDateTime><BODID>EQ-{tag}</BODID></ApplicationArea>
  <DataArea><Sync/>
    <Equipment><ID>E-{tag}</ID><Description>Acme</Description>{_level('Enterprise')}
      <Equipment><ID>S-{tag}</ID><Description>Toulouse</Description>{_level('Site')}
        <Equipment><ID>A-{tag}</ID><Description>Machining</Description>{_level('Area')}
          <Equipment><ID>WC-{tag}</ID><Description>Mill</Description>{_level('WorkCenter')}
          </Equipment>
        </Equipment>
      </Equipment>
    </Equipment>
  </DataArea>
</SyncEquipment>"""
    rpc.receive_b2mml({}, equipment)
    found = services.resource.find_nodes({"codes": [f"WC-{tag}"]})
    assert [(n["level"], n["path_codes"]) for n in found] == [
        ("work_center", [f"E-{tag}", f"S-{tag}", f"A-{tag}", f"WC-{tag}"])]
    rpc.receive_b2mml({}, equipment.replace("<Description>Mill</Description>", "<Description>Mill 5X</Description>")
                      .replace(f"EQ-{tag}", f"EQ2-{tag}"))
    assert services.resource.find_nodes({"codes": [f"WC-{tag}"]})[0]["name"] == "Mill 5X"

    parts = f"""<SyncMaterialDefinition xmlns="http://www.mesa.org/xml/B2MML" releaseID="1.0">
  <ApplicationArea><CreationDateTime>2025-03-01T00:00:00Z</CreationDateTime><BODID>MD-{tag}</BODID></ApplicationArea>
  <DataArea><Sync/>
    <MaterialDefinition><ID>BAR-{tag}</ID><Description>Bar 7075</Description>
      <MaterialDefinitionProperty><ID>BaseUnitOfMeasure</ID><Value><ValueString>mm</ValueString></Value>
      </MaterialDefinitionProperty></MaterialDefinition>
  </DataArea>
</SyncMaterialDefinition>"""
    rpc.receive_b2mml({"part_type": "raw"}, parts)
    bar = services.material.find_parts({"part_numbers": [f"BAR-{tag}"]})[f"BAR-{tag}"]
    assert (bar["name"], bar["uom"], bar["type"]) == ("Bar 7075", "mm", "raw")

    services.material.create_location({"code": f"ST-{tag}", "name": "Stores"})
    lot = f"""<ProcessMaterialLot xmlns="http://www.mesa.org/xml/B2MML" releaseID="1.0">
  <ApplicationArea><CreationDateTime>2025-03-01T00:00:00Z</CreationDateTime><BODID>ML-{tag}</BODID></ApplicationArea>
  <DataArea><Process/>
    <MaterialLot><ID>L-{tag}</ID><MaterialDefinitionID>BAR-{tag}</MaterialDefinitionID><Status>Released</Status>
      <StorageLocation>ST-{tag}</StorageLocation><Quantity><QuantityString>0.25E4</QuantityString></Quantity>
    </MaterialLot>
  </DataArea>
</ProcessMaterialLot>"""
    rpc.receive_b2mml({}, lot)
    found = services.material.list_lots({"lot_number": f"L-{tag}"})["items"]
    assert [(x["quantity"], x["status"]) for x in found] == [(2500.0, "released")]
    assert rpc.receive_b2mml({}, lot) == rpc.receive_b2mml({}, lot)   # a repeat: the first answer, no second lot
    assert len(services.material.list_lots({"lot_number": f"L-{tag}"})["items"]) == 1

    def get(noun, ids):
        document = f"""<Get{noun} xmlns="http://www.mesa.org/xml/B2MML" releaseID="1.0">
  <ApplicationArea><CreationDateTime>2025-03-02T00:00:00Z</CreationDateTime><BODID>G-{noun}-{tag}</BODID>
  </ApplicationArea><DataArea><Get/><{noun}><ID>{ids}</ID></{noun}></DataArea></Get{noun}>"""
        return etree.fromstring(rpc.receive_b2mml({}, document).encode())
    shown = get("MaterialLot", f"L-{tag}")
    b2mml.validate_v0700(etree.ElementTree(shown), STANDARDS)
    assert shown.xpath("//b:MaterialLot/b:Quantity/b:QuantityString/text()", namespaces=B2) == ["2500"]
    tree = get("Equipment", f"S-{tag}")
    b2mml.validate_v0700(etree.ElementTree(tree), STANDARDS)
    assert tree.xpath("//b:Equipment/b:ID/text()", namespaces=B2) == [f"S-{tag}", f"A-{tag}", f"WC-{tag}"]


def test_get_answers_show_with_the_work_orders_and_master_data(rpc, services, tag):
    _v0700_world(services, tag)
    rpc.receive_b2mml({}, _tagged("process_operations_schedule_v0700.xml", tag, V0700_NAMES))
    get = f"""<GetOperationsSchedule xmlns="http://www.mesa.org/xml/B2MML" releaseID="1.0">
  <ApplicationArea><Sender><LogicalID>SAP-ERP-PRD</LogicalID></Sender>
    <CreationDateTime>2025-03-05T07:00:00Z</CreationDateTime><BODID>GET-{tag}</BODID></ApplicationArea>
  <DataArea><Get/><OperationsSchedule><ID>Q</ID><OperationsRequest><ID>WO-100234-{tag}</ID></OperationsRequest>
  </OperationsSchedule></DataArea>
</GetOperationsSchedule>"""
    show = etree.fromstring(rpc.receive_b2mml({}, get).encode())
    assert etree.QName(show).localname == "ShowOperationsSchedule"
    b2mml.validate_v0700(etree.ElementTree(show), STANDARDS)
    assert show.xpath("//b:OperationsRequest/b:ID/text()", namespaces=B2) == [f"WO-100234-{tag}"]
    assert show.xpath("//b:OperationsRequest/b:RequestState/text()", namespaces=B2) == ["Forecast"]
    assert show.xpath("//b:SegmentRequirement/b:EquipmentRequirement/b:EquipmentID/text()", namespaces=B2) == [
        f"WC-SAW-01-{tag}", f"WC-5AX-02-{tag}", f"WC-BENCH-03-{tag}"]

    part = get.replace("OperationsSchedule", "MaterialDefinition").replace(
        f"<ID>Q</ID><OperationsRequest><ID>WO-100234-{tag}</ID></OperationsRequest>", f"<ID>7731-100-A-{tag}</ID>")
    shown = etree.fromstring(rpc.receive_b2mml({}, part.replace(f"GET-{tag}", f"GET2-{tag}")).encode())
    assert shown.xpath("//b:MaterialDefinition/b:ID/text()", namespaces=B2) == [f"7731-100-A-{tag}"]


def test_a_plan_that_drops_a_controlled_routing_operation_is_not_released(rpc, services, tag):
    """The ERP numbers its operations; a routing operation with required skills it does not plan would vanish
    at release with its qualification check: the release is refused instead."""
    skill = services.resource.create_skill({"code": f"SK-{tag}", "name": "Torque tightening"})
    world = build(services, components=1, operations=2, first_requires=[{"skill": skill["code"], "min_level": 1}])
    wc20 = world.wcs[1]["code"]
    document = _change(tag, f"WO-P-{tag}", 2, verb="Process").replace(f"WC-SAW-01-{tag}", wc20).replace(
        f"7731-100-A-{tag}", world.part["part_number"]).replace("<ID>0010</ID>", "<ID>0020</ID>")
    rpc.receive_b2mml({"site": world.site["code"]}, document)
    order = services.wo.find_work_orders({"numbers": [f"WO-P-{tag}"]})[0]
    with pytest.raises(errors.RuleViolated) as refused:
        services.wo.release_work_order(order["id"])
    assert refused.value.details == {"planned_operations": ["operation 10 missing"]}


def test_a_token_sends_only_what_its_permissions_allow_and_an_unanswerable_noun_is_logged(stack, tag):
    with ClusterRpcProxy(stack.config, timeout=30, context_data={
            "actor": "erp", "permissions": ["integration:write"]}) as narrow:
        with pytest.raises(errors.Forbidden) as refused:
            narrow.integration_service.receive_b2mml({}, _change(tag, f"WO-F-{tag}", 1, verb="Process"))
    assert refused.value.details == {"permissions": ["work_order:write"]}
    # a valid ConfirmBOD (an ERP's reply to a BOD) has no Acknowledge in B2MML: refused and logged so, never
    # left `processing` (which would hold its key for good)
    confirm = f"""<ConfirmBOD xmlns="http://www.mesa.org/xml/B2MML">
  <ApplicationArea><CreationDateTime>2025-03-02T00:00:00Z</CreationDateTime><BODID>C-{tag}</BODID></ApplicationArea>
  <DataArea><Confirm/><BOD><Description>received</Description></BOD></DataArea></ConfirmBOD>"""
    for _ in range(2):
        with pytest.raises(errors.RuleViolated):
            stack.rpc.integration.receive_b2mml({}, confirm)
    logged = stack.rpc.integration.list_messages({"noun": "ConfirmBOD"})["items"]   # (a plain noun: no BODID read)
    assert [(m["status"], m["http_status"]) for m in logged] == [("rejected", 422)] * 2
