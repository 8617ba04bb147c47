"""Use cases of QIF 3.0 documents on one unit of work.

An import is validated against the official schema before anything else
(400 with the schema's line and message), then fitted to the MES (422 naming
what does not fit), applied in one transaction with the document stored
verbatim beside what it made; a document (its QPId) is applied once to a
plan number, its second import answers what the first did. A plan import makes or revises a
draft (its release is a person's signature, as for any plan); a results
import opens an inspection of the lot or serial and records the values, the
verdicts computed by the MES; where the file's own status differs, the
answer says so.
"""
import hashlib
import re
import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from mes_common import errors, xml
from mes_common.db import fetch
from mes_common.schemas import load
from quality_service.contract.plans import PlanCreate
from quality_service.contract.qif import QifImportOut
from quality_service.inspections import rules as inspection_rules, use_cases as inspections
from quality_service.models import InspectionPlan, InspectionResult, QifDocument
from quality_service.plans import use_cases as plans
from quality_service.qif import reader, writer

RECORD = "qif_document"
SCHEMA = "qif3/QIFDocument.xsd"
import_out = QifImportOut()
MAX_NUMBER = 99_999


def parse(raw, standards_dir):
    """The schema-valid QIF tree of `raw` (400 otherwise; 413 when too large)."""
    tree = xml.parse(raw)
    return xml.validate(tree, xml.schema(Path(standards_dir) / SCHEMA), namespace=reader.NS)


def dimension(unit):
    return str(inspection_rules.check_unit(unit).dimensionality)


def _stored(session, kind, qpid, plan_number):
    return session.execute(select(QifDocument).where(QifDocument.kind == kind, QifDocument.qpid == qpid,
                                                     QifDocument.plan_number == plan_number)).scalar_one_or_none()


def _keep(tx, caller, kind, qpid, raw, summary, plan_id, inspection_id=None):
    text = raw if isinstance(raw, str) else raw.decode("utf-8")
    row = QifDocument(id=uuid.uuid4(), kind=kind, qpid=qpid, plan_number=summary["plan_number"],
                      sha256=hashlib.sha256(text.encode()).hexdigest(), size=len(text.encode()), document=text,
                      plan_id=plan_id, inspection_id=inspection_id, summary={}, created_by=caller.actor)
    out = import_out.dump({**summary, "document_id": row.id, "kind": kind, "qpid": qpid, "replayed": False})
    row.summary = out
    tx.session.add(row)
    tx.audit(f"import_qif_{kind}", RECORD, row.id, new={k: v for k, v in out.items() if k != "skipped"})
    return out


def replayed(session, kind, tree, plan_number):
    """What the first import of this document to this plan number answered (None when it is new)."""
    found = _stored(session, kind, _qpid(tree), plan_number)
    return {**found.summary, "replayed": True} if found is not None else None


def check_same_subject(session, summary, query):
    """A results document imported again names what it named the first time (409 otherwise)."""
    inspection = inspections.get(session, summary["inspection_id"])
    named = query["lot_id"] or query["serial_id"]
    if named is not None and str(named) not in (str(inspection.lot_id), str(inspection.serial_id)):
        measured = inspection.serial_number or inspection.lot_number
        raise errors.Conflict(f"this document was imported for {measured} (inspection {inspection.number})",
                              {"body": [f"imported already, for {measured}"]})


def _qpid(tree):
    qpid = reader.qpid(tree)
    if not qpid:
        raise errors.ValidationFailed("the document has no QPId", {"body": ["QPId is empty"]})
    return qpid


# ------------------------------------------------------------------ plans

def plan_characteristics(read):
    """The plan's characteristics (CharacteristicIn) of the document's: the
    balloon is the designator when it is a number, else the next free one
    (the designator kept as written)."""
    taken = {int(c["designator"]) for c in read if _balloon(c["designator"])}
    free = (n for n in range(1, MAX_NUMBER + 1) if n not in taken)
    out = []
    for c in read:
        numeric = _balloon(c["designator"])
        number = int(c["designator"]) if numeric else next(free)
        row = {"number": number, "name": c["name"][:200], "kind": c["kind"], "criticality": c["criticality"],
               "designator": None if numeric and str(number) == c["designator"] else c["designator"],
               "drawing_zone": c["drawing_zone"], "external_id": c["external_id"],
               "sampling": {"method": "all"}}
        if c["kind"] == "variable":
            row.update(nominal=c["nominal"], lower_tolerance=c["lower_tolerance"],
                       upper_tolerance=c["upper_tolerance"], unit=c["unit"])
        out.append(row)
    return out


KEPT = ("sampling", "gauge_type", "subgroup_size", "spc", "description")   # the MES's own, not the document's


def _kept(characteristics, current):
    """A revision imported over a plan keeps what the MES adds to a characteristic the document
    also has (same balloon): its sampling, gauge type, SPC and description."""
    if current is None:
        return characteristics
    before = {c.number: c for c in current.characteristics}
    return [{**c, **{k: getattr(before[c["number"]], k) for k in KEPT}} if c["number"] in before else c
            for c in characteristics]


def _balloon(designator):
    """A designator that is a balloon number as the plan takes it (ASCII digits, 1 to 99,999)."""
    return bool(designator and re.fullmatch(r"[0-9]{1,5}", designator) and int(designator) >= 1)


def _fit(data, schema):
    """`data` loaded by the plan's contract; what does not fit is 422 naming it."""
    try:
        return load(schema, data)
    except errors.ValidationFailed as exc:
        raise errors.RuleViolated(f"the document does not fit an inspection plan: {exc.message}",
                                  exc.details) from None


def import_plan(tx, caller, query, tree, raw, part):
    """Create or revise the draft of `query["plan_number"]` from the document's characteristics."""
    session = tx.session
    qpid = _qpid(tree)
    read, skipped = reader.characteristics(tree)
    if not read:
        raise errors.RuleViolated("the document has no characteristic the MES can inspect",
                                  {"characteristics": ["none with a tolerance or pass/fail"], "skipped": skipped})
    current = session.execute(select(InspectionPlan).where(InspectionPlan.plan_number == query["plan_number"])
                              .order_by(InspectionPlan.revision.desc()).limit(1)).scalar()
    characteristics = _kept(plan_characteristics(read), current)
    title = query["title"] or (current.title if current else f"QIF plan {qpid}")
    sequence = query["operation_sequence"] or (current.operation_sequence if current else None)
    data = _fit({"plan_number": query["plan_number"], "title": title, "part_id": str(part["id"]),
                 "part_revision": query["part_revision"], "operation_sequence": sequence,
                 "characteristics": characteristics}, PlanCreate())
    if current is None:
        plan = plans.create(tx, caller, data, part)
    else:
        if current.part_id != data["part_id"] or current.part_revision != data["part_revision"]:
            raise errors.RuleViolated(f"plan {current.plan_number} is of part {current.part_number} revision "
                                      f"{current.part_revision}", {"plan_number": ["of another part revision"]})
        if current.status != plans.DRAFT:
            current = plans.revise(tx, caller, current.plan_number, f"QIF plan {qpid} imported")
        plan = plans.update(tx, current.id, {"title": title, "characteristics": data["characteristics"],
                                             "operation_sequence": data["operation_sequence"]})
    return _keep(tx, caller, "plan", qpid, raw, {
        "plan_id": plan.id, "plan_number": plan.plan_number, "plan_revision": plan.revision,
        "inspection_id": None, "inspection_number": None, "inspection_status": None,
        "characteristics": len(characteristics), "skipped": skipped, "mismatches": []}, plan.id)


# ------------------------------------------------------------------ results

def results_of(session, query, tree):
    """(the released plan, the document's results instances, for each its
    matched measurements {number: [measurement]}, skipped) or 422 naming what
    does not fit: no results, a measurement of no characteristic. Each
    instance (`MeasurementResults`: one part) is one sample."""
    plan = plans.released(session, query["plan_number"])
    instances = reader.measurements(tree)
    if not instances:
        raise errors.RuleViolated("the document holds no results", {"Results": ["no MeasurementResults"]})
    by_designator = {c.designator or str(c.number): c for c in plan.characteristics}
    by_external = {c.external_id: c for c in plan.characteristics if c.external_id}
    _, not_inspected = reader.characteristics(tree)
    reference = {s["designator"] for s in not_inspected} | {s["external_id"] for s in not_inspected}
    matched, skipped, problems = [], {}, {}
    for sample, instance in enumerate(instances, start=1):
        found = {}
        for index, m in enumerate(instance["measured"]):
            characteristic = by_designator.get(m["designator"]) or by_external.get(m["item_id"])
            where = f"measurements.{index}" if len(instances) == 1 else f"results.{sample}.measurements.{index}"
            if characteristic is None and (m["designator"] in reference or m["item_id"] in reference):
                skipped[m["designator"]] = {"designator": m["designator"], "type": None, "external_id": m["item_id"],
                                            "reason": "a reference dimension: not a characteristic of the plan"}
            elif characteristic is None:
                problems[where] = [f"designator {m['designator']} (item {m['item_id']}) is not a characteristic of "
                                   f"plan {plan.plan_number}"]
            elif characteristic.kind == "variable" and m["value"] is None:
                problems[where] = [f"characteristic {characteristic.number} is measured: no value"]
            else:
                found.setdefault(characteristic.number, []).append(m)
        matched.append(found)
    if problems:
        shown = sorted(problems)[:20]
        raise errors.RuleViolated(f"the results do not fit plan {plan.plan_number}: {', '.join(shown)}",
                                  {k: problems[k] for k in shown})
    if not any(matched):
        raise errors.RuleViolated("the document measures no characteristic of the plan", {"measurements": ["none"]})
    return plan, instances, matched, list(skipped.values())


def _worst(characteristic, measurements):
    """One result of a characteristic measured several times (a pattern, a
    re-measure): the measurement closest to, or furthest beyond, a limit; the
    values all go in the note."""
    if characteristic.kind != "variable":
        failed = [m for m in measurements if m["passed"] == "FAIL"]
        return (failed or measurements)[0]
    lower, upper = inspection_rules.limits(characteristic.nominal, characteristic.lower_tolerance,
                                           characteristic.upper_tolerance)

    def margin(m):
        value = inspection_rules.convert(m["value"], m["unit"], characteristic.unit)
        return min(value - lower if lower is not None else Decimal("Infinity"),
                   upper - value if upper is not None else Decimal("Infinity"))
    return min(measurements, key=margin)


def _result(characteristic, sample, measurements):
    worst = _worst(characteristic, measurements)
    devices = sorted({d for m in measurements for d in m["devices"]})
    note = f"QIF: {', '.join(devices) or 'device not named'}"
    if len(measurements) > 1:
        note += (f"; {len(measurements)} measurements (" + ", ".join(str(m["value"]) for m in measurements)
                 + "), the one nearest its limit recorded")
    result = {"characteristic": characteristic.number, "sample": sample, "value": None, "unit": None,
              "passed": None, "defects": None, "gauge_id": None, "note": note[:2000]}
    if characteristic.kind == "variable":
        return {**result, "value": worst["value"], "unit": worst["unit"]}
    # a pass/fail characteristic passes on PASS only (REWORK, NOT_ANALYZED, SYSERROR... are no pass)
    return {**result, "passed": all(m["passed"] == "PASS" for m in measurements)}


def _file_status(measurements):
    statuses = {m["passed"] or "OTHER" for m in measurements}
    return "FAIL" if "FAIL" in statuses else "PASS" if statuses == {"PASS"} else "/".join(sorted(statuses))


def import_results(tx, caller, query, tree, raw, subject):
    """An inspection of `subject` (inspections.SUBJECT_FIELDS) under the plan:
    each results instance of the document is a sample, with one result per
    characteristic it measures."""
    session = tx.session
    qpid = _qpid(tree)
    plan, _, matched, skipped = results_of(session, query, tree)
    by_number = {c.number: c for c in plan.characteristics}
    inspection = inspections.open_(tx, caller, plan, {**subject, "kind": query["kind"]})
    results = [_result(by_number[number], sample, measured)
               for sample, found in enumerate(matched, start=1) for number, measured in sorted(found.items())]
    inspection, recorded = inspections.record(tx, caller, inspection.id, results, {})
    conforming = {(r["characteristic"], r["sample"]): r["conforming"] for r in recorded}
    mismatches = []
    for sample, found in enumerate(matched, start=1):
        for number, measured in sorted(found.items()):
            file_status, verdict = _file_status(measured), "PASS" if conforming[number, sample] else "FAIL"
            if file_status in ("PASS", "FAIL") and file_status != verdict:
                mismatches.append({"characteristic": number, "sample": sample, "file_status": file_status,
                                   "verdict": verdict})
    return _keep(tx, caller, "results", qpid, raw, {
        "plan_id": plan.id, "plan_number": plan.plan_number, "plan_revision": plan.revision,
        "inspection_id": inspection.id, "inspection_number": inspection.number,
        "inspection_status": inspection.status, "characteristics": len(set().union(*matched)),
        "results": len(results), "skipped": skipped, "mismatches": mismatches}, plan.id, inspection.id)


# ------------------------------------------------------------------ exports and the record

def _plan_document(plan, qpid=None):
    view = plans.dump(plan)
    return writer.plan(qpid, view, view["characteristics"], inspection_rules.convert, dimension)


def export_plan(session, plan_id):
    plan = plans.get(session, plan_id)
    root, _, _ = _plan_document(plan, str(uuid.uuid5(uuid.NAMESPACE_URL, f"mes:plan:{plan.id}")))
    return {"filename": f"{plan.plan_number}-rev{plan.revision}.qif", "content": writer.to_bytes(root).decode()}


def export_inspection(session, inspection_id):
    """The inspection's plan and results: one results instance per sample."""
    inspection = inspections.get(session, inspection_id)
    plan = plans.get(session, inspection.plan_id)
    root, item_ids, ids = _plan_document(plan)
    units = {c.number: c.unit for c in plan.characteristics}
    samples = {}
    for r in session.execute(select(InspectionResult).where(InspectionResult.inspection_id == inspection.id)
                             .order_by(InspectionResult.sample, InspectionResult.characteristic_number)).scalars():
        samples.setdefault(r.sample, {}).setdefault(r.characteristic_number, []).append(
            (r.value, units[r.characteristic_number], r.conforming))
    out = inspections.dump(session, inspection, plan=plan)
    root = writer.results(str(uuid.uuid5(uuid.NAMESPACE_URL, f"mes:inspection:{inspection.id}")), root, item_ids,
                          ids, out, [samples[k] for k in sorted(samples)], inspection_rules.convert)
    return {"filename": f"{inspection.number}.qif", "content": writer.to_bytes(root).decode()}


def stored(session, document_id):
    """An imported document as it came in."""
    row = fetch(session, QifDocument.id, document_id, "QIF document")
    return {"filename": f"{row.kind}-{row.qpid}.qif", "content": row.document}
