"""Use cases of inspections on one unit of work.

An inspection draws its sampling from the released plan when it opens (one
item per characteristic: sample size, accept and reject numbers, Z1.4
severity of the stream of lots); results are appended, never changed; each
result's conformity and each characteristic's verdict are computed; the
inspection passes or fails by itself when every characteristic is decided;
a failed inspection raises its NCR (of the lot, the serial or the
operation's work in process) in the same transaction; a decided AQL
characteristic moves its stream's switching state; the points the results complete are judged against frozen SPC limits.
"""
import uuid
from decimal import Decimal

from sqlalchemy import func, select

from mes_common import errors, paging
from mes_common.db import fetch
from quality_service import history
from quality_service.contract import events
from quality_service.contract.inspections import InspectionOut, ResultOut
from quality_service.inspections import rules, sampling
from quality_service.models import (INSPECTION_SEQUENCE, Inspection, InspectionItem, InspectionPlan, InspectionResult,
                                    SamplingState)
from quality_service.ncrs import rules as ncr_rules, use_cases as ncrs
from quality_service.plans import use_cases as plans
from quality_service.spc import use_cases as spc

RECORD = "inspection"
inspection_out, result_out = InspectionOut(), ResultOut()
SUBJECT_FIELDS = ("kind", "part_id", "part_number", "lot_id", "lot_number", "serial_id", "serial_number",
                  "work_order_id", "work_order_number", "operation_id", "operation_sequence", "quantity", "supplier")


def _item_view(item, characteristic):
    return {**{c.key: getattr(item, c.key) for c in InspectionItem.__table__.columns},
            "characteristic": item.number, "name": characteristic.name, "kind": characteristic.kind,
            "criticality": characteristic.criticality}


def _result_view(result):
    return {**{c.key: getattr(result, c.key) for c in InspectionResult.__table__.columns},
            "characteristic": result.characteristic_number}


def dump(session, inspection, with_results=False, plan=None):
    plan = plan or plans.get(session, inspection.plan_id)
    by_id = {c.id: c for c in plan.characteristics}
    out = {**{c.key: getattr(inspection, c.key) for c in Inspection.__table__.columns},
           "items": [_item_view(i, by_id[i.characteristic_id]) for i in inspection.items]}
    if with_results:
        out["results"] = [_result_view(r) for r in session.execute(
            select(InspectionResult).where(InspectionResult.inspection_id == inspection.id)
            .order_by(InspectionResult.characteristic_number, InspectionResult.sample)).scalars()]
    return inspection_out.dump(out)


def get(session, inspection_id, lock=False):
    return fetch(session, Inspection.id, inspection_id, "inspection", lock)


def by_trigger(session, trigger_key):
    return session.execute(select(Inspection).where(Inspection.trigger_key == trigger_key)).scalar_one_or_none()


def _stream_state(session, plan_number, number, stream):
    row = session.get(SamplingState, (plan_number, number, stream))
    if row is None:
        return sampling.SwitchingState()
    return sampling.SwitchingState(row.severity, list(row.recent), row.score, row.rejected_on_tightened,
                                   row.discontinued)


def _items(session, plan, quantity, stream):
    items = []
    for c in plan.characteristics:
        severity = None
        if c.sampling["method"] == "aql":
            severity = _stream_state(session, plan.plan_number, c.number, stream).severity
        chosen = sampling.plan_for(c.sampling, quantity, severity or "normal")
        items.append(InspectionItem(characteristic_id=c.id, number=c.number, sample_size=chosen.sample_size,
                                    accept=chosen.accept, reject=chosen.reject, severity=severity,
                                    code_letter=chosen.code_letter, measured=0, nonconforming=0))
    return items


def open_(tx, caller, plan, subject, control_point_id=None, trigger_key=None):
    """Open an inspection of `subject` (SUBJECT_FIELDS) under a released plan;
    one opened for the same `trigger_key` (an event's lot or operation at a
    control point) is returned as it is."""
    session = tx.session
    if trigger_key is not None:
        found = by_trigger(session, trigger_key)
        if found is not None:
            return found
    number = f"INS-{session.execute(INSPECTION_SEQUENCE.next_value()).scalar_one():06d}"
    inspection = Inspection(id=uuid.uuid4(), number=number, status=rules.OPEN, plan_id=plan.id,
                            plan_number=plan.plan_number, plan_revision=plan.revision,
                            control_point_id=control_point_id, trigger_key=trigger_key, opened_by=caller.actor,
                            items=_items(session, plan, subject["quantity"], subject.get("supplier") or ""),
                            **{k: subject.get(k) for k in SUBJECT_FIELDS})
    session.add(inspection)
    tx.flush()
    session.refresh(inspection, ["opened_at"])
    out = dump(session, inspection)
    tx.emit(events.INSPECTION("opened"), inspection.id, out)
    history.record(tx, RECORD, inspection.id, None, rules.OPEN)
    tx.audit("open", RECORD, inspection.id, new=out)
    return inspection


def reinspect(tx, caller, inspection_id, quantity, trigger_key):
    """The inspection, again, of what a failed inspection inspected (its
    reworked `quantity`), under the plan's released revision; None when the
    plan has none any more (then the gate says so)."""
    failed = get(tx.session, inspection_id)
    plan = plans.released_or_none(tx.session, failed.plan_number)
    if plan is None:
        return None
    subject = {**{k: getattr(failed, k) for k in SUBJECT_FIELDS}, "quantity": whole_quantity(quantity)}
    return open_(tx, caller, plan, subject, control_point_id=failed.control_point_id, trigger_key=trigger_key)


def cancel(tx, inspection_id, reason):
    inspection = get(tx.session, inspection_id, lock=True)
    rules.INSPECTION.check(inspection.status, rules.CANCELLED, inspection.number)
    inspection.status, inspection.status_reason = rules.CANCELLED, reason
    _decided(tx, inspection, "cancelled", reason)
    return inspection


def _decided(tx, inspection, verb, reason=None):
    tx.flush()
    out = dump(tx.session, inspection)
    tx.emit(events.INSPECTION(verb), inspection.id, out)
    history.record(tx, RECORD, inspection.id, rules.OPEN, inspection.status, reason)
    tx.audit(verb if verb != "cancelled" else "cancel", RECORD, inspection.id, old={"status": rules.OPEN},
             new={"status": inspection.status}, reason=reason)
    return out


# ------------------------------------------------------------------ results

def check_open(session, inspection_id):
    """The inspection and its plan, if results can be recorded on it."""
    inspection = get(session, inspection_id)
    if inspection.status != rules.OPEN:
        raise errors.RuleViolated(f"inspection {inspection.number} is {inspection.status}: no more results",
                                  {"status": [f"is {inspection.status}"]})
    return inspection, plans.get(session, inspection.plan_id)


def check_results(plan, inspection, results, gauges):
    """Refuse a request's results for every problem, each named by its place in
    it (`results.3.sample`): 422 when they only break rules of the plan (no such
    characteristic, a sample beyond the sampling, a gauge of another type), else 400."""
    problems = _problems(plan, inspection, results, gauges)
    if problems:
        relations = {k for k in problems if k.rsplit(".", 1)[-1] in ("characteristic", "sample", "gauge_id")}
        error = errors.RuleViolated if set(problems) <= relations else errors.ValidationFailed
        raise error(f"results refused: {', '.join(sorted(problems))}", problems)


def check_not_recorded(session, inspection, results):
    """409 naming each sample of `results` that has a result already (results are never overwritten)."""
    taken = {(n, s) for n, s in session.execute(
        select(InspectionResult.characteristic_number, InspectionResult.sample)
        .where(InspectionResult.inspection_id == inspection.id))}
    again = [f"results.{i}.sample" for i, r in enumerate(results) if (r["characteristic"], r["sample"]) in taken]
    if again:
        raise errors.Conflict("a result of this sample is recorded already (results are never overwritten)",
                              {key: ["recorded already"] for key in again})


def _problems(plan, inspection, results, gauges):
    """Every problem of a request's results, each named by its place in it."""
    characteristics = {c.number: c for c in plan.characteristics}
    items = {i.number: i for i in inspection.items}
    problems = {}
    for index, result in enumerate(results):
        where = f"results.{index}"
        characteristic = characteristics.get(result["characteristic"])
        if characteristic is None:
            problems[f"{where}.characteristic"] = [
                f"plan {plan.plan_number} revision {plan.revision} has no characteristic {result['characteristic']}"]
            continue
        for field, message in rules.check_result(characteristic, result, items[characteristic.number].sample_size):
            problems.setdefault(f"{where}.{field}", []).append(message)
        gauge = gauges.get(result["gauge_id"]) if result["gauge_id"] else None
        if gauge is not None and characteristic.gauge_type and not rules.gauge_fits(characteristic.gauge_type,
                                                                                     gauge["type"]):
            problems.setdefault(f"{where}.gauge_id", []).append(
                f"gauge {gauge['asset_number']} is a {gauge['type']}, not a {characteristic.gauge_type}")
    return problems


def _conforming(characteristic, result):
    """(value in the characteristic's unit, conforming?) of one result."""
    if characteristic.kind != "variable":
        return None, bool(result["passed"])
    value = rules.convert(result["value"], result["unit"], characteristic.unit)
    lower, upper = rules.limits(characteristic.nominal, characteristic.lower_tolerance, characteristic.upper_tolerance)
    return value, rules.in_tolerance(value, lower, upper)


def record(tx, caller, inspection_id, results, gauges):
    """Append results (all or none); decide what they decide. `gauges`:
    {gauge id: AssetOut} of the gauges named (already checked fit for use and
    their use recorded)."""
    session = tx.session
    inspection = get(session, inspection_id, lock=True)
    if inspection.status != rules.OPEN:
        raise errors.RuleViolated(f"inspection {inspection.number} is {inspection.status}: no more results",
                                  {"status": [f"is {inspection.status}"]})
    plan = plans.get(session, inspection.plan_id)
    check_results(plan, inspection, results, gauges)
    characteristics = {c.number: c for c in plan.characteristics}
    check_not_recorded(session, inspection, results)
    rows, items = [], {i.number: i for i in inspection.items}
    for index, result in enumerate(results):
        characteristic = characteristics[result["characteristic"]]
        try:
            value, conforming = _conforming(characteristic, result)
        except errors.MesError as exc:   # a unit that does not convert, named by its place
            raise type(exc)(exc.message, {f"results.{index}.unit": list(exc.details.values())[0]}) from None
        gauge = gauges.get(result["gauge_id"]) if result["gauge_id"] else None
        rows.append(InspectionResult(
            id=uuid.uuid4(), inspection_id=inspection.id, characteristic_id=characteristic.id,
            plan_number=plan.plan_number, characteristic_number=characteristic.number,
            opened_at=inspection.opened_at, sample=result["sample"], value=value, entered_value=result["value"],
            entered_unit=(result["unit"] or characteristic.unit) if characteristic.kind == "variable" else None,
            passed=result["passed"], defects=result["defects"], conforming=conforming,
            gauge_id=result["gauge_id"], gauge_number=gauge["asset_number"] if gauge else None,
            inspector_id=caller.user_id, inspector=caller.name, note=result["note"]))
        item = items[characteristic.number]
        item.measured += 1
        item.nonconforming += 0 if conforming else 1
    session.add_all(rows)
    for item in inspection.items:
        item.verdict = rules.verdict(item.sample_size, item.measured, item.nonconforming, item.accept, item.reject)
    tx.flush()
    recorded = [result_out.dump(_result_view(r)) for r in rows]
    out = dump(session, inspection, plan=plan)
    tx.emit_chunked(events.INSPECTION("results_recorded"), inspection.id, "results", recorded,
                    inspection={k: out[k] for k in out if k != "items"}, characteristics=out["items"])
    spc.watch(tx, caller, inspection, plan, rows)
    tx.audit("record_results", RECORD, inspection.id,
             new={"results": len(rows), "characteristics": sorted({r.characteristic_number for r in rows})})
    status = rules.outcome([i.verdict for i in inspection.items])
    if status is not None:
        _conclude(tx, caller, inspection, plan, status)
    return inspection, recorded


def _conclude(tx, caller, inspection, plan, status):
    inspection.status, inspection.completed_at = status, func.now()
    _switch_streams(tx.session, inspection, plan)
    if status == rules.FAILED:
        ncr = ncrs.from_inspection(tx, caller, inspection, plan, [i for i in inspection.items
                                                                   if i.verdict == rules.FAIL])
        inspection.ncr_id, inspection.ncr_number = ncr.id, ncr.number
    tx.flush()
    tx.session.refresh(inspection, ["completed_at"])
    _decided(tx, inspection, status)


def _switch_streams(session, inspection, plan):
    """Each AQL characteristic's verdict moves its stream (Z1.4 §8.3)."""
    stream = inspection.supplier or ""
    characteristics = {c.id: c for c in plan.characteristics}
    for item in inspection.items:
        c = characteristics[item.characteristic_id]
        if c.sampling["method"] != "aql":
            continue
        state = _stream_state(session, plan.plan_number, c.number, stream)
        tighter = sampling.tighter_accept(inspection.quantity, c.sampling["aql"], c.sampling.get("level") or "II")
        new = sampling.switch(state, item.verdict == rules.PASS,
                              sampling.Plan(item.sample_size, item.accept, item.reject),
                              tighter_accept=tighter is not None and item.nonconforming <= tighter,
                              reduced_allowed=c.sampling.get("reduced_allowed", False))
        session.merge(SamplingState(plan_number=plan.plan_number, characteristic_number=c.number, stream=stream,
                                    severity=new.severity, recent=new.recent, score=new.score,
                                    rejected_on_tightened=new.rejected_on_tightened, discontinued=new.discontinued))


# ------------------------------------------------------------------ queries

def list_page(session, query):
    stmt = paging.where_equal(select(Inspection), Inspection, query,
                              ("status", "kind", "lot_id", "work_order_id", "operation_id", "plan_number"))
    if query.get("opened_since") is not None:
        stmt = stmt.where(Inspection.opened_at >= query["opened_since"])
    keys = [(Inspection.opened_at, paging.time_key), (Inspection.id, paging.uuid_key)]

    def dump_page(rows):   # the plans of a page read at once, not one per inspection
        by_id = {p.id: p for p in session.execute(
            select(InspectionPlan).where(InspectionPlan.id.in_({r.plan_id for r in rows}))).scalars()}
        return [dump(session, r, plan=by_id[r.plan_id]) for r in rows]
    return paging.page(session, stmt, keys, query, dump_page, descending=True)


def gate(session, query):
    """Whether an operation may report good units: no NCR holds its work in
    process, and every gating control point at it has its latest inspection of
    this operation passed, or failed with an NCR whose signed disposition lets
    the units go on (use as is, regrade, scrap; after rework or repair the
    re-inspection opened at its end is the latest)."""
    holding = ncrs.holding_operation(session, query["operation_id"])
    if holding:
        return {"open": False, "plan_number": None, "inspections": [],
                "reason": f"{', '.join(holding)} holds the work in process of operation "
                          f"{query['operation_sequence']} until the MRB's disposition"}
    points = [p for p in plans.control_points_at(session, query["part_id"], query["part_revision"],
                                                 operation_sequence=query["operation_sequence"])
              if p.kind != "receiving" and p.gates]
    seen = []
    for point in points:
        latest = session.execute(select(Inspection).where(Inspection.operation_id == query["operation_id"],
                                                          Inspection.plan_number == point.plan_number,
                                                          Inspection.status != rules.CANCELLED)
                                 .order_by(Inspection.opened_at.desc(), Inspection.id.desc()).limit(1)).scalar()
        if latest is None:
            return {"open": False, "plan_number": point.plan_number, "inspections": [],
                    "reason": f"the {point.kind.replace('_', '-')} inspection of plan {point.plan_number} at "
                              f"operation {query['operation_sequence']} is required and not opened yet"}
        seen.append({"id": latest.id, "number": latest.number, "status": latest.status})
        refusal = None if latest.status == rules.PASSED else _still_shut(session, latest)
        if refusal is not None:
            return {"open": False, "plan_number": point.plan_number, "inspections": seen,
                    "reason": f"inspection {latest.number} (plan {point.plan_number}) is {latest.status}{refusal}"}
    return {"open": True, "plan_number": None, "inspections": seen, "reason": None}


def _still_shut(session, inspection):
    """Why a gate stays shut on an inspection that did not pass (None: the
    MRB's disposition of its NCR lets the units go on)."""
    if inspection.status != rules.FAILED or inspection.ncr_id is None:
        return ""
    ncr = ncrs.get(session, inspection.ncr_id)
    if ncr.status == ncr_rules.CANCELLED:
        return f" and its NCR {ncr.number} was cancelled: inspect again"
    if ncr.status not in (ncr_rules.DISPOSITIONED, ncr_rules.CLOSED):
        return f": NCR {ncr.number} awaits the MRB's disposition"
    rework = [d.rework_number or d.decision for d in ncr.dispositions if d.decision in ncr_rules.REWORKED]
    if rework:
        return (f": NCR {ncr.number} sent the units to {', '.join(rework)}; they are inspected again when "
                "it is done")
    return None


def whole_quantity(quantity):
    """The units a lot of `quantity` counts for sampling: a fraction counts as a unit."""
    return max(1, int(Decimal(str(quantity)).to_integral_value(rounding="ROUND_CEILING")))
