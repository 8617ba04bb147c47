"""The quality flow over HTTP, as the people who do it would (issue 12).

Every MES process runs under the supervisor. A quality engineer writes and
signs an inspection plan with a variable and a visual characteristic and puts
it at receiving; a store keeper receives a lot; the receiving inspection opens
by itself; an inspector records results with a calibrated micrometer and one
diameter is out of tolerance: the inspection fails and raises its NCR, whose
hold stays pending while the material service is stopped and lands when it is
back; two MRB members approve a disposition (partial scrap, the rest used as
is with a justification and the customer's approval: the characteristic is
critical) with their signatures; material shows the scrap transaction, the
hold released and the lot usable; the NCR closes. A customer's NCR on the lot
holds it with the housing a bushing went into (genealogy). Then Part 11: a changed NCR
shows its signatures invalid, signature rows and signed records cannot be
changed or deleted, a failed signing is audited.
"""
import datetime as dt
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mes_common.testing.fixtures import wait_until
from tests.harness import API, Person, hire, running_system

QUALITY, MATERIAL = f"{API}/quality", f"{API}/material"


@pytest.fixture(scope="module")
def shop(base_config, service_databases, cache_prefix, tmp_path_factory):
    with running_system("quality", base_config, service_databases, cache_prefix, tmp_path_factory) as running:
        system, admin = running.system, running.admin
        people = SimpleNamespace(
            admin=admin,
            engineer=hire(system, admin, "quality_engineer", "Quentin Quality"),
            inspector=hire(system, admin, "inspector", "Ines Inspector"),
            keeper=hire(system, admin, "store_keeper", "Stan Storekeeper"),
            mrb1=hire(system, admin, "mrb_member", "Maria Review"),
            mrb2=hire(system, admin, "mrb_member", "Marc Board"))
        part = admin.post(f"{MATERIAL}/parts", 201, json={"part_number": "BUSH-12", "name": "Bushing, flanged",
                                                          "type": "purchased", "lot_controlled": True})
        receiving = admin.post(f"{MATERIAL}/locations", 201, json={"code": "RCV-1", "name": "Receiving"})
        housing = admin.post(f"{MATERIAL}/parts", 201, json={"part_number": "HSG-4", "name": "Housing assembly",
                                                             "type": "assembly", "serial_controlled": True})
        serial = admin.post(f"{MATERIAL}/serials", 201, json={"part_id": housing["id"],
                                                               "serial_numbers": ["HSG-0001"]})["serials"][0]
        yield SimpleNamespace(system=system, people=people, engines=running.engines, part=part,
                              receiving=receiving, housing_serial=serial)


def _plan(engineer, part, number="IP-BUSH-12"):
    plan = engineer.post(f"{QUALITY}/plans", 201, json={
        "plan_number": number, "title": "Bushing receiving inspection", "part_id": part["id"],
        "part_revision": "A", "characteristics": [
            {"number": 1, "name": "Bore diameter", "kind": "variable", "criticality": "critical", "nominal": 12,
             "lower_tolerance": -0.02, "upper_tolerance": 0.02, "unit": "mm", "gauge_type": "micrometer",
             "sampling": {"method": "aql", "aql": "2.5"}},
            {"number": 2, "name": "Flange free of burrs", "kind": "visual", "criticality": "minor",
             "sampling": {"method": "first_piece"}}]})
    return engineer.post(f"{QUALITY}/plans/{plan['id']}/release", json={"version": plan["version"],
                                                                         "signature": engineer.signature})


def _pid(system, name):
    return system.status()[name]["pid"]


def test_a_failed_receiving_inspection_goes_through_the_mrb_to_scrap_and_use_as_is(shop):
    p, system = shop.people, shop.system
    plan = _plan(p.engineer, shop.part)
    assert plan["status"] == "released" and [s["printed_name"] for s in plan["signatures"]] == [p.engineer.name]
    p.engineer.post(f"{QUALITY}/control-points", 201, json={"part_id": shop.part["id"], "kind": "receiving",
                                                            "plan_number": plan["plan_number"]})
    gauge = p.engineer.post(f"{API}/resource/assets", 201, json={
        "asset_number": "MIC-7", "kind": "gauge", "type": "micrometer 0-25 mm", "calibration_interval_days": 365,
        "next_due_on": (dt.date.today() + dt.timedelta(days=300)).isoformat()})
    lot = p.keeper.post(f"{MATERIAL}/lots", 201, json={"part_id": shop.part["id"], "quantity": 10,
                                                        "location_id": shop.receiving["id"], "supplier": "Acme"})
    inspection = wait_until(lambda: p.inspector.get(f"{QUALITY}/inspections", params={"lot_id": lot["id"]})["items"],
                            timeout=15, message="the receiving inspection opened")[0]
    bore = inspection["items"][0]
    assert (bore["sample_size"], bore["accept"], bore["reject"]) == (5, 0, 1)

    material = _pid(system, "material_service")
    os.kill(material, signal.SIGSTOP)   # material stopped: the NCR's hold waits in the broker
    try:
        results = [{"characteristic": 1, "sample": n, "value": v, "gauge_id": gauge["id"]}
                   for n, v in enumerate((12.004, 11.995, 12.031, 12.0, 12.01), start=1)]
        results.append({"characteristic": 2, "sample": 1, "passed": True})
        failed = p.inspector.post(f"{QUALITY}/inspections/{inspection['id']}/results", json={"results": results})
        assert failed["status"] == "failed" and failed["ncr_number"]
        assert [r["conforming"] for r in failed["results"]] == [True, True, False, True, True, True]
        ncr = p.engineer.get(f"{QUALITY}/ncrs/{failed['ncr_id']}")
        assert (ncr["status"], ncr["hold_status"], ncr["source"], ncr["critical"]) == ("open", "pending",
                                                                                      "inspection", True)
        assert ncr["characteristics"] == [{"number": 1, "name": "Bore diameter", "criticality": "critical"}]
    finally:
        os.kill(material, signal.SIGCONT)
    ncr = wait_until(lambda: (n := p.engineer.get(f"{QUALITY}/ncrs/{failed['ncr_id']}"))["status"] == "contained"
                     and n, timeout=15, message="the hold landed once material was back")
    assert ncr["hold_status"] == "held" and ncr["items"][0]["hold_id"]
    held = p.keeper.get(f"{MATERIAL}/holds/{ncr['items'][0]['hold_id']}")
    assert held["status"] == "active" and held["reference"] == ncr["number"] and ncr["number"] in held["reason"]

    disposition = "/disposition"
    lines = [{"target_id": lot["id"], "decision": "scrap", "quantity": 3},
             {"target_id": lot["id"], "decision": "use_as_is", "quantity": 7,
              "justification": "bore 12.031 mm is within the bearing's press-fit envelope (stress note SN-88)"}]
    refused = p.mrb1.put(f"{QUALITY}/ncrs/{ncr['id']}{disposition}", 422, json={"lines": lines[:1]})
    assert "lines" in refused["details"]                                   # 3 of 10 disposed
    refused = p.mrb1.put(f"{QUALITY}/ncrs/{ncr['id']}{disposition}", 422, json={"lines": lines})
    assert list(refused["details"]) == ["lines.1.customer_approval"]        # critical: the customer approves
    lines[1]["customer_approval"] = "Customer concession C-2026-114"
    p.inspector.put(f"{QUALITY}/ncrs/{ncr['id']}{disposition}", 403, json={"lines": lines})
    proposed = p.mrb1.put(f"{QUALITY}/ncrs/{ncr['id']}{disposition}", json={"lines": lines})
    approvals = f"{QUALITY}/ncrs/{ncr['id']}{disposition}/approvals"
    p.mrb1.post(approvals, 401, json={"signature": {**p.mrb1.signature, "password": "not my password 1"}})
    first = p.mrb1.post(approvals, json={"signature": p.mrb1.signature, "version": proposed["version"]})
    assert first["status"] == "contained" and first["signatures_required"] == 2
    again = p.mrb1.post(approvals, 409, json={"signature": p.mrb1.signature})
    assert again["details"] == {"signature": ["already signed by you with this meaning"]}
    p.mrb2.put(f"{QUALITY}/ncrs/{ncr['id']}{disposition}", 422, json={"lines": lines})   # signed: no more change
    second = p.mrb2.post(approvals, json={"signature": p.mrb2.signature})
    assert second["status"] == "dispositioned"
    assert [(s["printed_name"], s["meaning"], s["valid"]) for s in second["signatures"]] == [
        (p.mrb1.name, "approval", True), (p.mrb2.name, "approval", True)]

    done = wait_until(lambda: (n := p.engineer.get(f"{QUALITY}/ncrs/{ncr['id']}"))["hold_status"] == "released"
                      and n, timeout=15, message="material applied the disposition")
    assert [d["effect_status"] for d in done["dispositions"]] == ["applied", "applied"]
    moves = p.keeper.get(f"{MATERIAL}/transactions", params={"lot_id": lot["id"]})["items"]
    scrap = [(m["type"], m["quantity"], m["reference"]) for m in moves if m["type"] == "scrap"]
    assert scrap == [("scrap", -3.0, ncr["number"])]
    after = p.keeper.get(f"{MATERIAL}/lots/{lot['id']}")
    assert (after["status"], after["quantity"]) == ("released", 7.0)
    assert p.keeper.get(f"{MATERIAL}/holds/{held['id']}")["status"] == "released"

    closed = p.engineer.post(f"{QUALITY}/ncrs/{ncr['id']}/close", json={"reason": "scrapped 3, 7 used under "
                                                                                   "concession C-2026-114"})
    assert closed["status"] == "closed"
    assert [h["to_status"] for h in closed["history"]] == ["open", "contained", "dispositioned", "closed"]
    shop.ncr = closed

    # a bushing of the released lot pressed into a housing, then the customer reports the lot: the NCR holds
    # the lot and its genealogy child; cancelling it releases both
    p.keeper.post(f"{MATERIAL}/assemblies", 201, json={
        "parent": {"serial_id": shop.housing_serial["id"]}, "idempotency_key": "press-HSG-0001",
        "child": {"lot_id": lot["id"], "quantity": 1, "location_id": shop.receiving["id"]}})
    report = p.engineer.post(f"{QUALITY}/ncrs", 201, json={
        "source": "customer", "severity": "major", "title": "Customer reports flange burrs on lot",
        "description": "Burrs found at the customer's incoming inspection.",
        "items": [{"target_type": "lot", "target_id": lot["id"], "quantity": 6}]})
    report = wait_until(lambda: (n := p.engineer.get(f"{QUALITY}/ncrs/{report['id']}"))["hold_status"] == "held"
                        and n, timeout=15, message="the customer NCR's hold landed")
    lot_hold = p.keeper.get(f"{MATERIAL}/holds/{report['items'][0]['hold_id']}")
    assert lot_hold["cascade"] == [{"target_type": "serial", "target_id": shop.housing_serial["id"]}]
    child_hold = p.keeper.get(f"{MATERIAL}/holds", params={"target_id": shop.housing_serial["id"],
                                                           "status": "active"})["items"]
    assert [(h["root_hold_id"], h["reference"]) for h in child_hold] == [(lot_hold["id"], report["number"])]
    p.engineer.post(f"{QUALITY}/ncrs/{report['id']}/cancel", json={"reason": "burrs are within the drawing note"})
    wait_until(lambda: p.keeper.get(f"{MATERIAL}/holds/{child_hold[0]['id']}")["status"] == "released",
               timeout=15, message="the child's hold released with the lot's")


def test_a_signed_ncr_changed_afterwards_shows_it_and_nothing_signed_can_be_erased(shop):
    """Attack: editing an NCR in the database after the MRB signed it; erasing signatures or the record."""
    p, ncr = shop.people, shop.ncr
    engine = shop.engines["quality_service"]          # the service's own database role
    with engine.begin() as conn:
        conn.execute(text("UPDATE ncr_disposition SET quantity = 1 WHERE ncr_id = :id AND decision = 'scrap'"),
                     {"id": ncr["id"]})
    assert [s["valid"] for s in p.engineer.get(f"{QUALITY}/ncrs/{ncr['id']}")["signatures"]] == [False, False]
    for statement in ("UPDATE signature SET printed_name = 'someone else' WHERE record_id = :id",
                      "DELETE FROM signature WHERE record_id = :id", "DELETE FROM ncr WHERE id = :id"):
        with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
            conn.execute(text(statement), {"id": ncr["id"]})
        assert any(word in str(refused.value.orig) for word in ("refused", "permission denied"))
    failed = p.admin.get(f"{API}/audit/auth_service/entries",
                         params={"action": "signature_failed", "entity_id": p.mrb1.id})["items"]
    assert [e["new_values"]["record"]["type"] for e in failed] == ["ncr"]


def test_a_capa_closes_only_when_its_actions_are_done_and_its_effectiveness_signed(shop):
    engineer, ncr = shop.people.engineer, shop.ncr
    capa = engineer.post(f"{QUALITY}/capas", 201, json={
        "title": "Bore oversize from Acme", "problem": "bores above tolerance on receiving", "ncr_ids": [ncr["id"]],
        "owner_name": engineer.name, "root_cause_method": "five_why",
        "whys": ["bore oversize", "reamer worn", "no tool-life limit at Acme"],
        "effectiveness_criteria": "no bore nonconformance on the next 10 Acme lots"})
    assert [n["ncr_number"] for n in capa["ncrs"]] == [ncr["number"]]
    path = f"{QUALITY}/capas/{capa['id']}"
    for description in ("Acme sets a reamer tool-life limit", "100 % bore check on the next 3 lots"):
        capa = engineer.post(f"{path}/actions", 201, json={"kind": "corrective", "description": description,
                                                           "owner_name": "Acme quality", "due_on": "2027-01-31"})
    check = {"result": "10 lots, 0 bore nonconformances", "effective": True, "signature": engineer.signature}
    early = engineer.post(f"{path}/effectiveness", 422, json=check)
    assert set(early["details"]) == {"root_cause", "actions"}
    engineer.patch(path, json={"root_cause": "reamer used past its life: Acme had no tool-life limit"})
    for number in (1, 2):
        engineer.post(f"{path}/actions/{number}/done", json={"evidence": f"evidence {number} on file"})
    checked = engineer.post(f"{path}/effectiveness", json=check)
    assert checked["status"] == "effectiveness_check"
    closed = engineer.post(f"{path}/close", json={"signature": engineer.signature})
    assert closed["status"] == "closed"
    assert [(s["meaning"], s["printed_name"], s["valid"]) for s in closed["signatures"]] == [
        ("verification", engineer.name, True), ("approval", engineer.name, True)]


def test_a_chart_frozen_from_a_baseline_flags_the_next_point_out_of_control(shop):
    """SPC over HTTP: trial limits, the chart as a picture, limits frozen by the
    quality engineer (not the inspector), a point beyond them flagged as it is
    recorded; a chart that does not fit the characteristic, or no such
    characteristic, is refused by name."""
    p = shop.people
    plan = p.engineer.post(f"{QUALITY}/plans", 201, json={
        "plan_number": "IP-PIN-3", "title": "Pin diameter", "part_id": shop.part["id"], "part_revision": "A",
        "characteristics": [{"number": 1, "name": "Pin diameter", "kind": "variable", "criticality": "major",
                             "nominal": 3, "lower_tolerance": -0.01, "upper_tolerance": 0.01, "unit": "mm",
                             "subgroup_size": 1, "sampling": {"method": "all"}, "spc": {"rules": "nelson"}}]})
    p.engineer.post(f"{QUALITY}/plans/{plan['id']}/release", json={"version": plan["version"],
                                                                    "signature": p.engineer.signature})
    lot = p.keeper.post(f"{MATERIAL}/lots", 201, json={"part_id": shop.part["id"], "quantity": 21,
                                                        "location_id": shop.receiving["id"]})
    inspection = p.inspector.post(f"{QUALITY}/inspections", 201, json={"plan_number": "IP-PIN-3",
                                                                        "lot_id": lot["id"]})
    steady = [3.001, 2.999, 3.002, 3.0, 2.998, 3.001, 3.0, 2.999, 3.002, 3.001,
              2.998, 3.0, 3.001, 2.999, 3.0, 3.002, 2.999, 3.001, 3.0, 2.998]
    results = f"{QUALITY}/inspections/{inspection['id']}/results"
    p.inspector.post(results, json={"results": [{"characteristic": 1, "sample": n, "value": v}
                                                for n, v in enumerate(steady, start=1)]})
    key = {"plan_number": "IP-PIN-3", "characteristic": 1}

    trial = p.engineer.get(f"{QUALITY}/spc/chart", params=key)
    assert (trial["chart"], len(trial["points"]), trial["limits"]["frozen"]) == ("imr", 20, False)
    assert trial["capability"]["count"] == 20 and trial["findings"] == []
    picture = p.engineer.request("GET", f"{QUALITY}/spc/chart.svg", params=key)
    assert picture.status_code == 200 and picture.headers["Content-Type"].startswith("image/svg+xml")
    assert picture.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert "Pin diameter" in picture.text and picture.text.rstrip().endswith("</svg>")
    assert p.engineer.get(f"{QUALITY}/spc/chart", 422, params={**key, "chart": "p"})["details"] == {
        "chart": ["one of imr"]}
    p.engineer.get(f"{QUALITY}/spc/chart", 404, params={**key, "characteristic": 9})

    freeze = {**key, "baseline": 20, "reason": "initial study"}
    p.inspector.post(f"{QUALITY}/spc/limits", 403, json=freeze)
    frozen = p.engineer.post(f"{QUALITY}/spc/limits", 201, json=freeze)
    assert frozen["frozen"] is True and frozen["baseline"]["points"] == 20

    p.inspector.post(results, json={"results": [{"characteristic": 1, "sample": 21, "value": 3.009}]})
    found = p.engineer.get(f"{QUALITY}/spc/violations", params={"plan_number": "IP-PIN-3"})["items"]
    point = f"{inspection['id']}:21"   # the jump breaks the individuals' 3 sigma and the moving range's limit
    assert sorted((v["rule"], v["series"], v["point_key"], v["ncr_id"]) for v in found) == [
        ("mr_beyond_limits", "mr", point, None), ("nelson_1", "x", point, None)]   # no opens_ncr: no NCR
    chart = p.engineer.get(f"{QUALITY}/spc/chart", params=key)
    assert chart["limits"]["id"] == frozen["id"]
    assert sorted(chart["points"][-1]["rules"]) == ["mr_beyond_limits", "nelson_1"]


def test_qif_documents_go_in_and_out_over_http_and_what_is_unsafe_is_refused(shop):
    """A CMM's QIF plan uploaded by the quality engineer, its results by the
    integration account's API token; the plan and the inspection downloaded as
    files. Attacks: a DOCTYPE with an external entity, a wrong namespace, a
    50 MB upload, invalid XML: each 4xx, nothing stored."""
    p, engine = shop.people, shop.engines["quality_service"]
    samples = Path(os.environ.get("STANDARDS_DIR") or "../shared/standards") / "qif3" / "samples"
    xml_body = {"headers": {"Content-Type": "application/xml"}}
    part = p.admin.post(f"{MATERIAL}/parts", 201, json={"part_number": "QM_X_123456", "name": "Bracket, CMM sample",
                                                         "type": "manufactured", "serial_controlled": True})
    plan_doc = (samples / "QIF_Results_Sample.QIF").read_bytes()
    query = {"plan_number": "IP-QM-X", "part_revision": "A"}      # the part: the document's model number
    p.inspector.post(f"{QUALITY}/qif/plans", 403, params=query, data=plan_doc, **xml_body)
    imported = p.engineer.post(f"{QUALITY}/qif/plans", 201, params=query, data=plan_doc, **xml_body)
    assert (imported["characteristics"], [s["designator"] for s in imported["skipped"]]) == (9, ["1", "-NONE-"])
    plan = p.engineer.get(f"{QUALITY}/plans/{imported['plan_id']}")
    assert (plan["part_id"], plan["status"]) == (part["id"], "draft")
    p.engineer.post(f"{QUALITY}/plans/{plan['id']}/release", json={"signature": p.engineer.signature})

    refused_before = _documents(engine)
    attacks = {
        b'<?xml version="1.0"?><!DOCTYPE QIFDocument [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<QIFDocument xmlns="http://qifstandards.org/xsd/qif3" versionQIF="3.0.0"><QPId>&x;</QPId></QIFDocument>':
            (400, "DOCTYPE"),
        plan_doc.replace(b"http://qifstandards.org/xsd/qif3", b"http://example.com/not-qif"): (400, "not-qif"),
        b"<QIFDocument><QPId>": (400, "line 1"),
        b"<a>" + b"x" * (50 * 1024 * 1024) + b"</a>": (413, "at most"),
    }
    for document, (status, says) in attacks.items():
        answer = p.engineer.post(f"{QUALITY}/qif/plans", status, params={**query, "plan_number": "IP-ATTACK"},
                                 data=document, **xml_body)
        assert says in answer["message"] + str(answer["details"])
    assert _documents(engine) == refused_before

    cmm = hire(shop.system, p.admin, "integration", "CMM cell 4")
    token = cmm.post(f"{API}/auth/me/api-tokens", 201, json={"name": "Calypso", "permissions": ["inspection:record"]})
    machine = Person(shop.system, token["token"], cmm.id, cmm.name)
    serial = p.admin.post(f"{MATERIAL}/serials", 201, json={"part_id": part["id"],
                                                             "serial_numbers": ["QM-0001"]})["serials"][0]
    results = machine.post(f"{QUALITY}/qif/results", 201, params={"plan_number": "IP-QM-X",
                                                                  "serial_id": serial["id"]},
                           data=plan_doc, **xml_body)
    assert (results["characteristics"], results["inspection_status"], results["mismatches"]) == (9, "failed", [])
    inspection = p.engineer.get(f"{QUALITY}/inspections/{results['inspection_id']}")
    assert {r["characteristic"]: r["value"] for r in inspection["results"]}[6] == 9.499476

    download = p.engineer.request("GET", f"{QUALITY}/qif/inspections/{inspection['id']}")
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("application/xml")
    assert download.headers["Content-Disposition"] == f'attachment; filename="{inspection["number"]}.qif"'
    assert b"<CharacteristicStatusEnum>FAIL</CharacteristicStatusEnum>" in download.content
    original = p.engineer.request("GET", f"{QUALITY}/qif/documents/{imported['document_id']}")
    assert original.content == plan_doc


def _documents(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM qif_document")).scalar_one()
