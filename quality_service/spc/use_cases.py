"""Use cases of statistical process control on one unit of work.

A characteristic's chart reads its results across the plan's revisions (the
released revision says the subgroup size, tolerances and rule set), in the
order their inspections opened. Limits are trial limits of the points shown
until a quality engineer freezes them from a baseline window; from then on
every recorded result is judged against the frozen limits in the transaction
that records it: each run rule broken at one of its points is stored once,
announced (`spc.violation`) and, when the characteristic says so, raises an
NCR on the inspected lot or serial.
"""
import uuid
from decimal import Decimal

import numpy as np
from sqlalchemy import Float, case, cast, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from mes_common import errors, paging, svg
from quality_service.contract import events
from quality_service.contract.inspections import InspectedOut
from quality_service.contract.spc import FrozenLimitsOut, ViolationEvent, ViolationOut
from quality_service.inspections import rules as inspection_rules
from quality_service.models import ControlLimits, Inspection, InspectionItem, InspectionResult, SpcViolation
from quality_service.ncrs import use_cases as ncrs
from quality_service.plans import use_cases as plans
from quality_service.spc import capability, charts, run_rules

RECORD = "control_limits"
R, I = InspectionResult, Inspection
frozen_out, violation_out, violation_event = FrozenLimitsOut(), ViolationOut(), ViolationEvent()
INSPECTED = tuple(InspectedOut().fields)   # what a violation's event says was inspected


def characteristic_of(session, plan_number, number):
    """(plan revision, characteristic): the released revision's, else the newest's; 404 naming it."""
    plan = plans.by_number(session, plan_number)
    found = next((c for c in plan.characteristics if c.number == number), None)
    if found is None:
        raise errors.NotFound(f"plan {plan_number} revision {plan.revision} has no characteristic {number}",
                              {"characteristic": number})
    return plan, found


def chart_of(characteristic, asked):
    """The chart asked for (or the characteristic's default), if it fits the characteristic (422)."""
    allowed = charts.charts_for(characteristic.kind, characteristic.subgroup_size)
    chart = asked or charts.default_chart(characteristic.kind, characteristic.subgroup_size)
    if chart not in allowed:
        raise errors.RuleViolated(
            f"characteristic {characteristic.number} ({characteristic.kind}, subgroups of "
            f"{characteristic.subgroup_size}) is charted as {', '.join(allowed)}, not {chart}",
            {"chart": [f"one of {', '.join(allowed)}"]})
    return chart


def rule_set(characteristic):
    return (characteristic.spc or {}).get("rules", "nelson")


# ------------------------------------------------------------------ reading a chart's points

def _inspections(session, plan_number, characteristic, limit, since, before, through):
    """The inspections with results of the characteristic, newest first (at
    most `limit`: each gives a point at least once complete), from their
    items' running counts: (id, number, opened_at, measured, nonconforming,
    sample size)."""
    item = InspectionItem
    stmt = (select(I.id, I.number, I.opened_at, item.measured, item.nonconforming, item.sample_size)
            .join(item, item.inspection_id == I.id)
            .where(I.plan_number == plan_number, item.number == characteristic.number, item.measured > 0)
            .order_by(I.opened_at.desc(), I.id.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(I.opened_at >= since)
    if before is not None:
        stmt = stmt.where(I.opened_at < before)
    if through is not None:
        stmt = stmt.where(tuple_(I.opened_at, I.id) <= tuple_(through[0], through[1]))
    return session.execute(stmt).all()


def _samples(session, plan_number, characteristic, chart, floors):
    """{inspection id: (samples, values)} of the characteristic, in sample order,
    of the inspections `floors` names ({id: only samples above this, or None}):
    one row of two arrays per inspection (50,000 results are a few rows, not
    50,000), aggregated unordered (no sort in the database) and ordered here."""
    value = cast(R.value, Float) if chart in charts.VARIABLE else \
        func.coalesce(R.defects, case((R.conforming, 0), else_=1))
    bounded = [(R.inspection_id == i) & (R.sample > floor) for i, floor in floors.items() if floor is not None]
    unbounded = [i for i, floor in floors.items() if floor is None]
    stmt = (select(R.inspection_id, func.array_agg(R.sample), func.array_agg(value))
            .where(R.plan_number == plan_number, R.characteristic_number == characteristic.number,
                   or_(*bounded, R.inspection_id.in_(unbounded)))
            .group_by(R.inspection_id))
    if chart in charts.VARIABLE:
        stmt = stmt.where(R.value.isnot(None))
    arrays = {}
    for inspection_id, samples, values in session.execute(stmt):
        samples, values = np.asarray(samples, dtype=np.int64), np.asarray(values, dtype=float)
        order = np.argsort(samples, kind="stable")
        arrays[inspection_id] = samples[order], values[order]
    return arrays


def read(session, plan_number, characteristic, chart, limit, since=None, before=None, through=None):
    """The chart's latest `limit` points in chart order, as (Series, [(inspection id,
    number, opened at)]). `since`/`before`: inspections opened in that time;
    `through`: (opened_at, inspection id, position) of the last point to read,
    and then only the samples of the last `limit` positions of each inspection
    are read (judging one point of a chart of 10,000 reads ~15 subgroups).
    A subgroup counts once all its n samples are recorded (samples k*n+1 ..
    k*n+n of one inspection); a p point once its inspection has every sample
    of the characteristic."""
    inspections = _inspections(session, plan_number, characteristic, limit, since, before, through)
    inspections.reverse()
    if chart == charts.P:
        complete = [row for row in inspections if row[3] == row[5]]
        return (charts.proportion_series([str(row[0]) for row in complete], [row[4] for row in complete],
                                         [row[3] for row in complete]),
                [row[:3] for row in complete])
    size = characteristic.subgroup_size if chart in (charts.XBAR_R, charts.XBAR_S) else 1
    floors = {row[0]: None for row in inspections}
    if through is not None:
        for row in inspections:
            top = through[2] * size if row[0] == through[1] and through[2] is not None else row[5]
            floors[row[0]] = max(0, top - limit * size)
    arrays = _samples(session, plan_number, characteristic, chart, floors)
    keys, meta, blocks = [], [], []
    for row in inspections:
        samples, values = arrays.get(row[0], (np.empty(0, dtype=np.int64), np.empty(0)))
        positions = (samples - 1) // size + 1
        found, counts = np.unique(positions, return_counts=True)
        whole = found[counts == size]
        if through is not None and row[0] == through[1] and through[2] is not None:
            whole = whole[whole <= through[2]]
        blocks.append(values[np.isin(positions, whole)].reshape(-1, size))
        keys += [f"{row[0]}:{p}" for p in whole.tolist()]
        meta += [row[:3]] * len(whole)
    data = np.concatenate(blocks)[-limit:] if blocks else np.empty((0, size))
    keys, meta = keys[-limit:], meta[-limit:]
    if chart in (charts.XBAR_R, charts.XBAR_S):
        return charts.subgroup_series(chart, keys, data), meta
    if chart == charts.C:
        return charts.count_series(keys, data[:, 0]), meta
    return charts.individual_series(keys, data[:, 0]), meta


def frozen_by_chart(session, plan_number, characteristic):
    """{chart: its frozen limits in force} of a characteristic: the latest of
    each chart, for the current subgroup size (one query for all its charts)."""
    rows = session.execute(
        select(ControlLimits).where(ControlLimits.plan_number == plan_number,
                                    ControlLimits.characteristic_number == characteristic.number,
                                    ControlLimits.subgroup_size == characteristic.subgroup_size)
        .distinct(ControlLimits.chart)
        .order_by(ControlLimits.chart, ControlLimits.computed_at.desc(), ControlLimits.id.desc())).scalars()
    return {row.chart: row for row in rows}


def _frozen_view(row):
    return {"id": row.id, "frozen": True, "chart": row.chart, "subgroup_size": row.subgroup_size, **row.limits,
            "baseline": row.baseline, "computed_by": row.computed_by, "computed_at": row.computed_at,
            "reason": row.reason}


def _trial_view(chart, size, limits, series):
    return {"id": None, "frozen": False, "chart": chart, "subgroup_size": size, **limits,
            "baseline": _baseline(series), "computed_by": None, "computed_at": None, "reason": None}


def _baseline(series):
    return {"points": len(series), "first": series.keys[0] if len(series) else None,
            "last": series.keys[-1] if len(series) else None}


def _floats(values):
    """Plain floats for JSON: NaN (no moving range before the first point) as None."""
    return [None if v != v else v for v in np.asarray(values, dtype=float).tolist()]


def _spec_limits(characteristic):
    lower, upper = inspection_rules.limits(characteristic.nominal, characteristic.lower_tolerance,
                                           characteristic.upper_tolerance)
    return (float(lower) if lower is not None else None), (float(upper) if upper is not None else None)


def chart(session, query):
    """A characteristic's chart (ChartOut): its points, the frozen limits (else
    trial limits of the points shown), every rule the points break against
    them, and the capability of the measurements shown."""
    plan, characteristic = characteristic_of(session, query["plan_number"], query["characteristic"])
    name = chart_of(characteristic, query.get("chart"))
    series, meta = read(session, plan.plan_number, characteristic, name, query["limit"], since=query.get("since"))
    return _chart_view(session, plan, characteristic, name, series, meta)


def _chart_view(session, plan, characteristic, name, series, meta):
    size, rules = characteristic.subgroup_size, rule_set(characteristic)
    row = frozen_by_chart(session, plan.plan_number, characteristic).get(name)
    trial = charts.compute_limits(series, size) if len(series) else None   # also the capability's sigma within
    limits = row.limits if row is not None else trial
    out = {"plan_number": plan.plan_number, "plan_revision": plan.revision, "characteristic": characteristic.number,
           "name": characteristic.name, "unit": characteristic.unit, "chart": name, "subgroup_size": size,
           "rule_set": rules, "series": [s for s in charts.SERIES[name] if s], "points": [], "findings": [],
           "limits": None, "capability": None}
    if limits is None:
        return out
    out["limits"] = _frozen_view(row) if row is not None else _trial_view(name, size, trial, series)
    found = charts.violations(series, limits, rules)
    by_point = {}
    for index, series_name, rule in found:
        by_point.setdefault(index, []).append(rule)
    _, lcl, ucl = charts.point_limits(series, limits)
    spread = _floats(series.dispersion) if series.dispersion is not None else [None] * len(series)
    sizes = series.sizes.astype(int).tolist() if series.sizes is not None else [None] * len(series)
    # JSON-ready here: a schema's dump of 10,000 points would take longer than the chart
    out["points"] = [
        {"key": key, "inspection_id": str(m[0]), "inspection_number": m[1], "at": m[2].isoformat(), "value": value,
         "spread": s, "size": n, "lcl": low, "ucl": high, "rules": by_point.get(i, [])}
        for i, (key, m, value, s, n, low, high) in enumerate(zip(
            series.keys, meta, series.location.tolist(), spread, sizes, _floats(lcl), _floats(ucl)))]
    out["findings"] = [{"key": series.keys[i], "series": s, "rule": rule, "description": _describe(rule)}
                       for i, s, rule in found]
    if name in charts.VARIABLE and len(series):
        lower, upper = _spec_limits(characteristic)
        out["capability"] = {**capability.capability(series.values, lower, upper, trial["sigma_within"]),
                             "lsl": lower,
                             "usl": upper}
    return out


def _describe(rule):
    if rule in run_rules.DESCRIPTIONS:
        return run_rules.DESCRIPTIONS[rule]
    return f"{rule.split('_')[0].upper()} point beyond its control limits"


def chart_svg(session, query):
    """The chart as an SVG picture: location and dispersion panels with their
    limits, the points that break a rule in red (their rules in the tooltip)."""
    out = chart(session, query)
    title = (f"{out['plan_number']} #{out['characteristic']} {out['name']}: "
             f"{out['chart'].replace('_', ' ').upper()} chart")
    limits = out["limits"]
    if limits is None:
        return svg.line_chart(title, [svg.Panel(out["series"][0], [])], subtitle="no points yet")
    points = out["points"]
    tips = [f"{p['inspection_number']} {p['key'].split(':')[-1]}"
            + (f" ({', '.join(p['rules'])})" if p["rules"] else "") for p in points]
    flagged = {i for i, p in enumerate(points) if p["rules"]}
    band = limits["location"]
    bounds = ([("UCL", [p["ucl"] for p in points]), ("CL", band["centre"]), ("LCL", [p["lcl"] for p in points])]
              if out["chart"] == charts.P else [("UCL", band["ucl"]), ("CL", band["centre"]), ("LCL", band["lcl"])])
    panels = [svg.Panel(out["series"][0], [p["value"] for p in points], bounds, flagged, tips)]
    if limits["dispersion"] is not None:
        spread = limits["dispersion"]
        panels.append(svg.Panel(out["series"][1], [p["spread"] for p in points],
                                [("UCL", spread["ucl"]), ("CL", spread["centre"]), ("LCL", spread["lcl"])],
                                {i for i, p in enumerate(points) if any(r.endswith("beyond_limits")
                                                                        for r in p["rules"])}, tips))
    state = "frozen limits" if limits["frozen"] else "trial limits"
    capable = out["capability"]
    subtitle = f"{len(points)} points, {state}, {out['rule_set'].replace('_', ' ')} rules" + (
        f", Cpk {capable['cpk']:.3f}" if capable and capable["cpk"] is not None else "")
    return svg.line_chart(title, panels, subtitle=subtitle)


# ------------------------------------------------------------------ freezing limits

def freeze(tx, caller, data):
    """Compute the chart's limits from its latest `baseline` points (opened
    before `until`) and keep them until the next freeze (422 with fewer than
    charts.MIN_BASELINE points)."""
    session = tx.session
    plan, characteristic = characteristic_of(session, data["plan_number"], data["characteristic"])
    name = chart_of(characteristic, data.get("chart"))
    series, _ = read(session, plan.plan_number, characteristic, name, data["baseline"], before=data.get("until"))
    if len(series) < charts.MIN_BASELINE:
        raise errors.RuleViolated(
            f"the {name} chart of {plan.plan_number} #{characteristic.number} has {len(series)} points: limits need "
            f"{charts.MIN_BASELINE} at least", {"baseline": [f"{len(series)} points, {charts.MIN_BASELINE} needed"]})
    limits = charts.compute_limits(series, characteristic.subgroup_size)
    row = ControlLimits(id=uuid.uuid4(), plan_number=plan.plan_number, characteristic_number=characteristic.number,
                        chart=name, subgroup_size=characteristic.subgroup_size, limits=limits,
                        baseline=_baseline(series), computed_by=caller.actor, reason=data["reason"])
    session.add(row)
    tx.flush()
    session.refresh(row, ["computed_at"])
    out = frozen_out.dump({**_frozen_view(row), "plan_number": plan.plan_number,
                           "characteristic": characteristic.number})
    tx.emit(events.SPC_LIMITS_FROZEN, row.id, out)
    tx.audit("freeze_limits", RECORD, row.id, new=out, reason=data["reason"])
    return out


# ------------------------------------------------------------------ watching recorded results

def watch(tx, caller, inspection, plan, rows):
    """Judge the points that `rows` (results just recorded) complete against
    the frozen limits of each charted characteristic; store, announce and (by
    the characteristic's configuration) raise an NCR for each rule newly broken."""
    by_number = {}
    for row in rows:
        by_number.setdefault(row.characteristic_number, []).append(row.sample)
    for characteristic in plan.characteristics:
        if characteristic.spc is None or characteristic.number not in by_number:
            continue
        for limits in frozen_by_chart(tx.session, plan.plan_number, characteristic).values():
            _judge(tx, caller, inspection, plan, characteristic, limits, by_number[characteristic.number])


def _judge(tx, caller, inspection, plan, characteristic, limits, samples):
    size = characteristic.subgroup_size
    if limits.chart in (charts.XBAR_R, charts.XBAR_S):
        touched = {(s - 1) // size + 1 for s in samples}
    elif limits.chart == charts.P:
        touched = {None}
    else:
        touched = set(samples)
    last = max(touched) if None not in touched else None
    span = 1 if last is None else last - min(touched) + 1
    series, _ = read(tx.session, plan.plan_number, characteristic, limits.chart, span + run_rules.LONGEST_PATTERN,
                     through=(inspection.opened_at, inspection.id, last))
    keys = {f"{inspection.id}:{p}" if p is not None else str(inspection.id) for p in touched}
    found = [(i, s, rule) for i, s, rule in charts.violations(series, limits.limits, rule_set(characteristic))
             if series.keys[i] in keys]
    if not found:
        return
    values = {charts.SERIES[limits.chart][0]: series.location, charts.SERIES[limits.chart][1]: series.dispersion}
    new = tx.session.execute(insert(SpcViolation).values([
        {"id": uuid.uuid4(), "plan_number": plan.plan_number, "characteristic_number": characteristic.number,
         "chart": limits.chart, "series": s, "rule": rule, "point_key": series.keys[i], "inspection_id": inspection.id,
         "limits_id": limits.id, "value": Decimal(repr(float(values[s][i])))} for i, s, rule in found])
        .on_conflict_do_nothing(constraint="uq_spc_violation").returning(SpcViolation)).scalars().all()
    if not new:
        return
    ncr = _raise_ncr(tx, caller, inspection, plan, characteristic, new) if characteristic.spc.get("opens_ncr") \
        else None
    for violation in new:
        violation.ncr_id = ncr.id if ncr is not None else None
        tx.emit(events.SPC_VIOLATION, violation.id, violation_event.dump({
            **violation_view(violation), "limits": limits.limits, "ncr_number": ncr.number if ncr else None,
            "inspection_number": inspection.number,
            **{k: getattr(inspection, k) for k in INSPECTED}}))
    tx.audit("spc_violation", "spc_violation", new[0].id, new={
        "chart": limits.chart, "characteristic": characteristic.number, "inspection": inspection.number,
        "rules": sorted({v.rule for v in new}), "points": sorted({v.point_key for v in new}),
        "ncr": ncr.number if ncr else None})


def _raise_ncr(tx, caller, inspection, plan, characteristic, violations):
    """The NCR of an inspection's out-of-control points of a characteristic
    (once), holding what it inspected (an operation's inspection: the
    operation's work in process, held at its gate)."""
    broken = "; ".join(f"{rule} ({_describe(rule)})" for rule in sorted({v.rule for v in violations}))
    points = ", ".join(sorted({v.point_key for v in violations}))
    data = {"source": "spc", "severity": "critical" if characteristic.criticality == "critical" else "major",
            "title": f"SPC: {characteristic.number} {characteristic.name} out of control in {inspection.number}"[:200],
            "defect_codes": [f"SPC-{characteristic.number}"]}
    return ncrs.for_inspection(
        tx, caller, inspection, [characteristic], data, lambda target: (
            f"The {violations[0].chart} chart of plan {plan.plan_number} characteristic {characteristic.number} "
            f"({characteristic.name}) broke {broken} at {points} of inspection {inspection.number} of {target}."),
        trigger_key=f"spc:{inspection.id}:{characteristic.number}")


# ------------------------------------------------------------------ violations found

def violation_view(row):
    return {"id": row.id, "plan_number": row.plan_number, "characteristic": row.characteristic_number,
            "chart": row.chart, "series": row.series, "rule": row.rule, "description": _describe(row.rule),
            "point_key": row.point_key, "value": float(row.value), "inspection_id": row.inspection_id,
            "limits_id": row.limits_id, "detected_at": row.detected_at, "ncr_id": row.ncr_id}


def list_violations(session, query):
    stmt = select(SpcViolation)
    if query.get("characteristic") is not None:
        stmt = stmt.where(SpcViolation.characteristic_number == query["characteristic"])
    stmt = paging.where_equal(stmt, SpcViolation, query, ("plan_number", "rule"))
    keys = [(SpcViolation.detected_at, paging.time_key), (SpcViolation.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda rows: violation_out.dump(
        [violation_view(r) for r in rows], many=True), descending=True)
