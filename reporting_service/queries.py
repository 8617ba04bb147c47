"""Reports: KPIs with their components by period and member, and Paretos, as
the contract's KpiReport and ParetoOut give them (JSON-ready: a report of
1,500 rows is built once, not dumped again).

Time and quantities come from the buckets (whole local days from `bucket_day`
when the interval is made of them, else from the hour buckets); counts that are
few (NCRs, inspections, failures, work orders due) from the facts, placed into
the same rows. Every ratio is computed once from the summed components
(domain.KpiRule): a month's OEE is not an average of daily ones.
"""
import datetime as dt
import functools
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text

from mes_common import errors
from reporting_service import domain, store
from reporting_service.contract import COMPONENTS
from reporting_service.contract.schemas import DefinitionOut
from reporting_service.domain import UTC

definitions_out = DefinitionOut()
# times summed as integers (sum(bigint) is numeric), quantities as numeric: the driver gives int and Decimal
SUMS = ("sum(pbt)::bigint, sum(apt)::bigint, sum(aubt)::bigint, sum(aust)::bigint, sum(adet)::bigint, sum(pq), "
        "sum(gq), sum(sq), sum(rq), sum(pri_pq)")
SQL_PERIOD = {"hour": "b.start", "none": "NULL::timestamptz",
              "day": "(b.start AT TIME ZONE :zone)::date", "shift": "b.shift",
              "week": "date_trunc('week', b.start AT TIME ZONE :zone)::date",
              "month": "date_trunc('month', b.start AT TIME ZONE :zone)::date"}
DAY_PERIOD = {"none": "NULL::date", "day": "b.day", "week": "date_trunc('week', b.day)::date",
              "month": "date_trunc('month', b.day)::date"}


def _rows(session, sql, params):
    return session.execute(text(sql), params).all()


class Context:
    """What a report reads: the generation that answers, the hierarchy, the scope."""

    def __init__(self, session, query):
        self.session = session
        self.schema = store.active(session).schema
        self.tree = store.Tree.load(session, self.schema)
        self.start, self.end = query["start"], query["end"]
        self.node = str(query["node_id"]) if query.get("node_id") else None
        self.part = str(query["part_id"]) if query.get("part_id") else None
        if self.node is not None:
            if self.node not in self.tree.nodes:
                raise errors.NotFound(f"equipment node {self.node} is not known to reporting",
                                      {"node_id": self.node})
            if self.tree.level(self.node) not in ("enterprise", "site", "area", "work_center"):
                raise errors.RuleViolated("node_id: a work center, area, site or enterprise",
                                          {"node_id": ["a work center or a level above"]})
        self.work_centers = self.tree.work_centers_under(self.node)
        self.zone_name = query.get("timezone") or self._scope_zone()
        try:
            self.zone = ZoneInfo(self.zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise errors.RuleViolated(f"timezone: unknown time zone {self.zone_name!r}",
                                      {"timezone": ["an IANA time zone such as Europe/Paris"]}) from None

    def rows(self, sql, **params):
        return _rows(self.session, sql.replace("{s}", self.schema), params)

    def _scope_zone(self):
        zones = {z for (z,) in _rows(self.session, f"SELECT DISTINCT timezone FROM {self.schema}.bucket_day "
                                                    "WHERE work_center_id = ANY(CAST(:wcs AS uuid[])) AND day >= "
                                                    "CAST(:day AS date) - 1",
                                     {"wcs": self.work_centers, "day": self.start.date()})}
        return zones.pop() if len(zones) == 1 else "UTC"

    def member_of(self, wc, by):
        if by in (None, "part"):
            return None
        return self.tree.ancestor_at(wc, by)

    def scope(self):
        return self.tree.describe(self.node) if self.node else {"id": None, "level": "all", "code": None,
                                                                 "name": "all work centers"}


_ZERO = {key: Decimal(0) if key in domain.QUANTITY_COMPONENTS else 0 for key in COMPONENTS}


def _empty():
    """Quantities are decimals; times (seconds) and counts are integers."""
    return dict(_ZERO)


def _add_sums(target, values):
    """Add a row of SUMS (ints and Decimals, as typed there)."""
    for key, value in zip(domain.BUCKET_COMPONENTS, values):
        target[key] += value


class Grid:
    """Rows of components keyed by (period key, member id)."""

    def __init__(self, ctx, period, by):
        self.ctx, self.period, self.by = ctx, period, by
        self.cells = defaultdict(_empty)
        self.slices = domain.periods(ctx.start, ctx.end, period, ctx.zone) if period != "shift" else []
        self.edges = [a for a, _, _ in self.slices] + ([self.slices[-1][1]] if self.slices else [])
        self.shifts = {}
        self.members = {}   # work center -> its member of `by`

    def key_of(self, instant, wc=None):
        """The period key of an instant (None: outside the interval)."""
        if instant is None or not (self.ctx.start <= instant < self.ctx.end):
            return None
        if self.period == "shift":
            for label, (a, b) in self.shifts.get(wc, {}).items():
                if a <= instant < b:
                    return label
            return ""
        if self.period == "none":
            return "total"
        return domain.period_start(instant, self.period, self.ctx.zone)

    def cell(self, key, wc=None, part=None):
        if self.by == "part":
            member = part
        elif wc is None:
            member = None
        else:
            member = self.members.get(wc, self)
            if member is self:
                member = self.members[wc] = self.ctx.member_of(wc, self.by)
        return self.cells[(key, member)]


def kpi_report(session, query, definitions):
    """The KPIs asked (every definition by default), each row with the
    components they are computed from: only those are read and shown."""
    wanted = query.get("kpis") or list(definitions)
    unknown = [k for k in wanted if k not in definitions]
    if unknown:
        raise errors.RuleViolated(f"kpis: no definition {unknown[0]}", {"kpis": [f"unknown: {', '.join(unknown)}"]})
    chosen = {k: definitions[k] for k in wanted}
    needed = {c for d in chosen.values() for c in d["components"]} | set(domain.TIME_COMPONENTS)
    ctx = Context(session, query)
    grid = Grid(ctx, query["period"], query.get("by"))
    if grid.period == "shift":
        _load_shifts(ctx, grid)
    if ctx.part is None and grid.by != "part":
        _bucket_components(ctx, grid)
    else:
        _part_components(ctx, grid)
    _counted_components(ctx, grid, needed)
    return _answer(ctx, grid, chosen, needed)


def _load_shifts(ctx, grid):
    for wc, label, a, b in ctx.rows('SELECT work_center_id, label, start, "end" FROM {s}.shift_instance '
                                    "WHERE work_center_id = ANY(CAST(:wcs AS uuid[])) AND start < :end "
                                    'AND "end" > :start', wcs=ctx.work_centers, start=ctx.start, end=ctx.end):
        grid.shifts.setdefault(str(wc), {})[label] = (a, b)


def _whole_days(ctx, grid):
    """The interval is whole local days of the zone every work center counts its days in."""
    if grid.period not in DAY_PERIOD:
        return False
    local = [t.astimezone(ctx.zone) for t in (ctx.start, ctx.end)]
    if any(t.time() != dt.time() for t in local):
        return False
    zones = {z for (z,) in ctx.rows("SELECT DISTINCT timezone FROM {s}.bucket_day WHERE work_center_id = "
                                    "ANY(CAST(:wcs AS uuid[])) AND day >= :a AND day < :b",
                                    wcs=ctx.work_centers, a=local[0].date(), b=local[1].date())}
    return zones <= {ctx.zone_name}


def _bucket_components(ctx, grid):
    if _whole_days(ctx, grid):
        local = [t.astimezone(ctx.zone).date() for t in (ctx.start, ctx.end)]
        rows = ctx.rows(f"SELECT b.work_center_id::text, {DAY_PERIOD[grid.period]}, {SUMS} FROM {{s}}.bucket_day b "
                        "WHERE b.work_center_id = ANY(CAST(:wcs AS uuid[])) AND b.day >= :a AND b.day < :b "
                        "GROUP BY 1, 2", wcs=ctx.work_centers, a=local[0], b=local[1])
    else:
        rows = ctx.rows(f"SELECT b.work_center_id::text, {SQL_PERIOD[grid.period]}, {SUMS} FROM {{s}}.bucket b "
                        "WHERE b.work_center_id = ANY(CAST(:wcs AS uuid[])) AND b.start >= :a AND b.start < :b "
                        "GROUP BY 1, 2", wcs=ctx.work_centers, a=ctx.start, b=ctx.end, zone=ctx.zone_name)
    keys = {}   # a SQL period key -> the grid's (one conversion a period, not a row)
    for wc, key, *sums in rows:
        period = keys.get(key, keys)
        if period is keys:
            period = keys[key] = _period_key(grid, key)
        _add_sums(grid.cell(period, wc), sums)


def _period_key(grid, key):
    """A SQL period key as Grid.key_of gives it."""
    if grid.period == "none":
        return "total"
    if grid.period == "shift":
        return key
    if isinstance(key, dt.date) and not isinstance(key, dt.datetime):
        return dt.datetime.combine(key, dt.time(), tzinfo=grid.ctx.zone).astimezone(UTC)
    return key


def _part_components(ctx, grid):
    """By part: the reports' quantities and the part's operations' time
    (running less its work center's downtime); planned time is a work
    center's, not a part's, so PBT stays 0 and availability and OEE are null."""
    part_filter = "AND part_id = :part" if ctx.part else ""
    params = {"wcs": ctx.work_centers, "a": ctx.start, "b": ctx.end, "part": ctx.part}
    for wc, part, at, good, scrap, rework, unit in ctx.rows(
            "SELECT work_center_id, part_id, at, good, scrap, rework, unit_seconds FROM {s}.quantity_report "
            f"WHERE work_center_id = ANY(CAST(:wcs AS uuid[])) AND at >= :a AND at < :b {part_filter}", **params):
        cell = grid.cell(grid.key_of(at, str(wc)), str(wc), str(part))
        produced = Decimal(good) + Decimal(scrap) + Decimal(rework)
        for key, value in (("PQ", produced), ("GQ", good), ("SQ", scrap), ("RQ", rework),
                           ("PRI_PQ", produced * Decimal(unit))):
            cell[key] += Decimal(value)
    intervals = defaultdict(lambda: {"run": [], "span": []})
    for wc, part, kind, a, b in ctx.rows(
            'SELECT work_center_id, part_id, kind, start, "end" FROM {s}.operation_interval '
            'WHERE work_center_id = ANY(CAST(:wcs AS uuid[])) AND start < :b AND ("end" IS NULL OR "end" > :a) '
            f"{part_filter}", **params):
        intervals[(str(wc), str(part))][kind].append((a, b or min(ctx.end, store.utcnow())))
    downtime = defaultdict(list)
    for wc, a, b in ctx.rows("SELECT work_center_id, started_at, ended_at FROM {s}.downtime WHERE work_center_id = "
                             "ANY(CAST(:wcs AS uuid[])) AND started_at < :b AND (ended_at IS NULL OR ended_at > :a)",
                             **params):
        downtime[str(wc)].append((a, b or min(ctx.end, store.utcnow())))
    for (wc, part), kinds in intervals.items():
        producing = domain.subtract(domain.union(kinds["run"]), domain.union(downtime[wc]))
        for key, intervals_ in (("APT", producing), ("AUBT", domain.union(kinds["span"]))):
            _spread(ctx, grid, intervals_, key, wc, part)


def _spread(ctx, grid, intervals, key, wc, part=None):
    """Add the seconds of intervals to the rows they fall in."""
    clipped = domain.clip(intervals, ctx.start, ctx.end)
    if grid.period == "shift":
        edges = sorted(grid.shifts.get(wc, {}).items(), key=lambda kv: kv[1][0])
        for label, (a, b) in edges:
            grid.cell(label, wc, part)[key] += domain.seconds(domain.clip(clipped, a, b))
        return
    edges = grid.edges or [ctx.start, ctx.end]
    for (a, _, _), value in zip(grid.slices or [(ctx.start, ctx.end, "total")], domain.split_seconds(clipped, edges)):
        if value:
            grid.cell(grid.key_of(a, wc), wc, part)[key] += value


def _counted_components(ctx, grid, needed):
    """NCRs, inspections, failures and orders due (those `needed`): few rows, read from the facts."""
    everything = ctx.node is None
    params = {"wcs": ctx.work_centers, "a": ctx.start, "b": ctx.end, "part": ctx.part}
    part_filter = "AND {col} = :part" if ctx.part else ""
    in_scope = "" if everything else "AND o.work_center_id = ANY(CAST(:wcs AS uuid[]))"
    for at, wc, part in ctx.rows(
            "SELECT n.raised_at, o.work_center_id, n.part_id FROM {s}.ncr n LEFT JOIN {s}.operation o "
            f"ON o.id = n.operation_id WHERE NOT n.cancelled AND n.raised_at >= :a AND n.raised_at < :b {in_scope} "
            + part_filter.format(col="n.part_id"), **params) if "NCR" in needed else ():
        _count(grid, at, wc, part, "NCR")
    for at, wc, part, passed in ctx.rows(
            "SELECT i.at, o.work_center_id, i.part_id, i.passed FROM {s}.inspection i LEFT JOIN {s}.operation o "
            f"ON o.id = i.operation_id WHERE i.at >= :a AND i.at < :b {in_scope} "
            + part_filter.format(col="i.part_id"), **params) if "IP" in needed else ():
        _count(grid, at, wc, part, "IP")
        if passed:
            _count(grid, at, wc, part, "GP")
    if ctx.part is None and grid.by != "part" and needed & {"FE", "TBF", "TTR"}:
        _failures(ctx, grid)
    if "WO_DUE" in needed:
        _orders(ctx, grid, everything, params, part_filter)


def _count(grid, at, wc, part, key, amount=1):
    wc = str(wc) if wc else None
    period = grid.key_of(at, wc)
    if period is not None and (grid.by not in ("work_center", "area", "site", "enterprise") or wc):
        grid.cell(period, wc, str(part) if part else None)[key] += amount


def _failures(ctx, grid):
    """Equipment states of the scope's work centers and their units: running
    time (TBF), failures begun (FE) and their time down (TTR)."""
    nodes = [n for n in ctx.tree.nodes if ctx.tree.work_center_of(n) in set(ctx.work_centers)]
    for node, state, a, b in ctx.rows(
            "SELECT node_id, state, started_at, ended_at FROM {s}.equipment_state WHERE state IN ('running', 'down') "
            "AND node_id = ANY(CAST(:nodes AS uuid[])) AND started_at < :b AND (ended_at IS NULL OR ended_at > :a)",
            nodes=nodes, a=ctx.start, b=ctx.end):
        wc = ctx.tree.work_center_of(str(node))
        interval = [(a, b or min(ctx.end, store.utcnow()))]
        _spread(ctx, grid, interval, "TBF" if state == "running" else "TTR", wc)
        if state == "down":
            _count(grid, a, wc, None, "FE")


def _orders(ctx, grid, everything, params, part_filter):
    """Work orders due in the interval (their due date, local) and those completed by the end of that day."""
    in_scope = "" if everything else ("AND w.id IN (SELECT work_order_id FROM {s}.operation "
                                      "WHERE work_center_id = ANY(CAST(:wcs AS uuid[])))")
    local = [t.astimezone(ctx.zone).date() for t in (ctx.start, ctx.end)]
    for due, completed, part, wc in ctx.rows(
            "SELECT w.due_date, w.completed_at, w.part_id, (SELECT o.work_center_id FROM {s}.operation o "
            "WHERE o.work_order_id = w.id AND o.work_center_id = ANY(CAST(:wcs AS uuid[])) LIMIT 1) "
            "FROM {s}.work_order w "
            f"WHERE w.status <> 'cancelled' AND w.due_date >= :d0 AND w.due_date <= :d1 {in_scope} "
            + part_filter.format(col="w.part_id"), **params, d0=local[0], d1=local[1]):
        due_end = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(), tzinfo=ctx.zone).astimezone(UTC)
        due_start = dt.datetime.combine(due, dt.time(), tzinfo=ctx.zone).astimezone(UTC)
        at = max(due_start, ctx.start)
        if at >= ctx.end:
            continue
        _count(grid, at, wc, part, "WO_DUE")
        if completed is not None and completed < due_end:
            _count(grid, at, wc, part, "WO_ON_TIME")


def _answer(ctx, grid, chosen, needed):
    labels = {}
    if grid.period == "shift":
        for wc_shifts in grid.shifts.values():
            for label, (a, b) in wc_shifts.items():
                lo, hi = labels.get(label, (b, a))
                labels[label] = (min(lo, a), max(hi, b))
    else:
        labels = {grid.key_of(a) if grid.period != "none" else "total": (a, b, label) for a, b, label in grid.slices}
    rows, rules, shown = [], _signature(chosen), tuple(sorted(needed))
    sort_keys, bounds, members = {}, {}, {}   # once a period or member, not a row
    for key, _ in grid.cells:
        if key not in sort_keys:
            sort_keys[key] = _sort_key(key, labels) if key is not None else ("", "")
    for (key, member), components in sorted(grid.cells.items(), key=lambda kv: (sort_keys[kv[0][0]],
                                                                                str(kv[0][1]))):
        if key is None:
            continue
        if key not in bounds:
            start, end, label = _bounds(ctx, grid, key, labels)
            bounds[key] = (label, _iso(start), _iso(end))
        if member not in members:
            members[member] = _member(ctx, grid, member)
        rows.append(_row(*bounds[key], members[member], components, rules, shown))
    total, cells = _empty(), [c for (key, _), c in grid.cells.items() if key is not None]
    for name in total:   # a column at a time, not a dict update a row
        total[name] = sum((c[name] for c in cells), total[name])
    return {"scope": ctx.scope(), "part_id": ctx.part, "from": _iso(ctx.start), "to": _iso(ctx.end),
            "period": grid.period, "by": grid.by, "timezone": ctx.zone_name,
            "definitions": {k: definitions_out.dump(d) for k, d in chosen.items()},
            "total": _row("total", _iso(ctx.start), _iso(ctx.end), None, total, rules, shown), "rows": rows}


def _iso(instant):
    return instant.astimezone(UTC).isoformat()


def _sort_key(key, labels):
    if isinstance(key, str):
        bounds = labels.get(key)
        return (bounds[0].isoformat() if bounds else "", key)
    return (key.isoformat(), "")


def _bounds(ctx, grid, key, labels):
    if grid.period == "shift":
        a, b = labels.get(key, (ctx.start, ctx.end))
        return max(a, ctx.start), min(b, ctx.end), key or "outside shifts"
    return labels.get(key, (ctx.start, ctx.end, str(key)))


def _member(ctx, grid, member):
    if grid.by is None:
        return None
    if grid.by == "part":
        return {"id": member, "level": "part", "code": None, "name": None}
    return ctx.tree.describe(member)


def _row(label, start, end, member, components, rules, shown):
    """A row (`start` and `end` as text) showing the components named in `shown`."""
    values, kpis = _computed(rules, shown, tuple(map(components.__getitem__, shown)))
    return {"label": label, "from": start, "to": end, "member": member, "components": values, "kpis": kpis}


def _signature(chosen):
    """The definitions asked, as a hashable value (what a row's KPIs depend on besides its components)."""
    return tuple((key, d["formula"], d.get("decimals"), tuple(tuple(sorted(b.items())) for b in d.get("bands") or ()))
                 for key, d in chosen.items())


@functools.lru_cache(maxsize=64)
def _rules(signature):
    return {key: domain.KpiRule({"formula": formula, "decimals": decimals, "bands": [dict(b) for b in bands]})
            for key, formula, decimals, bands in signature}


@functools.lru_cache(maxsize=10_000)
def _computed(signature, names, values):
    """A row's components as shown and its KPIs: a pure function of the two, and
    the same rows come back with every refresh of a dashboard (a past day's
    numbers change only when late events reopen it), so they are kept (shared:
    never changed by a caller). About 1.5 kB a row."""
    components = dict(zip(names, values))
    return domain.json_components(components), {key: rule.value(components)
                                                 for key, rule in _rules(signature).items()}


# ------------------------------------------------------------------ Paretos

PARETO_TITLES = {"downtime": ("Downtime by reason", "min"), "scrap": ("Scrap by reason code", "units"),
                 "ncr": ("NCRs by defect code", "NCRs")}


def pareto(session, kind, query):
    ctx = Context(session, query)
    params = {"wcs": ctx.work_centers, "a": ctx.start, "b": ctx.end, "part": ctx.part}
    totals = defaultdict(Decimal)
    if kind == "downtime":
        now = store.utcnow()
        for reason, a, b in ctx.rows("SELECT reason_code, started_at, ended_at FROM {s}.downtime "
                                     "WHERE work_center_id = ANY(CAST(:wcs AS uuid[])) AND started_at < :b "
                                     "AND (ended_at IS NULL OR ended_at > :a)", **params):
            seconds = domain.seconds(domain.clip([(a, b or now)], ctx.start, ctx.end))
            totals[reason] += Decimal(seconds) / 60
    elif kind == "scrap":
        part = "AND part_id = :part" if ctx.part else ""
        for reason, scrap in ctx.rows("SELECT coalesce(reason_code, '(none)'), sum(scrap) FROM {s}.quantity_report "
                                      "WHERE work_center_id = ANY(CAST(:wcs AS uuid[])) AND at >= :a AND at < :b "
                                      f"AND scrap > 0 {part} GROUP BY 1", **params):
            totals[reason] += Decimal(scrap)
    else:
        in_scope = "" if ctx.node is None else "AND o.work_center_id = ANY(CAST(:wcs AS uuid[]))"
        part = "AND n.part_id = :part" if ctx.part else ""
        for (codes,) in ctx.rows("SELECT n.defect_codes FROM {s}.ncr n LEFT JOIN {s}.operation o ON o.id = "
                                 f"n.operation_id WHERE NOT n.cancelled AND n.raised_at >= :a AND n.raised_at < :b "
                                 f"{in_scope} {part}", **params):
            for code in codes or ["(none)"]:
                totals[code] += 1
    title, unit = PARETO_TITLES[kind]
    return domain.pareto({k: _exact_minutes(v) for k, v in totals.items()}, title, unit)


def _exact_minutes(value):
    """Minutes of whole seconds: exact to 6 places (a second is 0.016667 min), as shown."""
    return value.quantize(Decimal("0.000001")) if isinstance(value, Decimal) else value
