"""Reporting rules. Pure: no I/O, plain values in and out, unit-tested alone.

- Time model: a work center's hour buckets, split at shift boundaries, from its
  facts (calendars, operations' running intervals, downtime, states, reports).
  A bucket is computed from the whole set of facts that touch it, so its
  numbers do not depend on the order the events came in.
- KPIs: exact fractions of summed components (ISO 22400-2), rounded once, for
  display only.
- Alerts: a threshold with hysteresis.
"""
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from math import gcd

from reporting_service.contract import KPIS, RATIO_UNITS, SUMMED_DENOMINATORS
from resource_service.contract import worktime

UTC = dt.timezone.utc
HOUR = dt.timedelta(hours=1)
TIME_COMPONENTS = ("PBT", "APT", "AUBT", "AUST", "ADET")
QUANTITY_COMPONENTS = ("PQ", "GQ", "SQ", "RQ", "PRI_PQ")
BUCKET_COMPONENTS = TIME_COMPONENTS + QUANTITY_COMPONENTS
VALUE_PLACES = Decimal("1e-10")


def floor_hour(instant):
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hours_between(start, end):
    """The hour starts covering [start, end)."""
    out, hour = [], floor_hour(start)
    while hour < end:
        out.append(hour)
        hour += HOUR
    return out


# ------------------------------------------------------------------ intervals

def union(intervals):
    """Sorted, disjoint [(start, end)] covering the same instants."""
    out = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def intersect(a, b):
    """Intersection of two sorted disjoint interval lists."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a, b):
    return worktime.subtract(a, b) if b else list(a)


def seconds(intervals):
    """Whole seconds (event times carry microseconds: each interval is rounded
    to the second it ends in, so adjacent pieces add up)."""
    return sum(int(e.timestamp()) - int(s.timestamp()) for s, e in intervals)


def clip(intervals, start, end):
    return [(max(a, start), min(b, end)) for a, b in intervals if a < end and b > start]


def operation_intervals(marks):
    """(running intervals, busy span) of an operation from its marks [(at, kind)]
    (kind "start": started or resumed; "stop": paused or completed): running
    from a start to the next stop, pauses excluded; busy from the first start
    to the last stop. An end None: still open (running now). The same set of
    marks gives the same answer whatever order it came in."""
    runs, opened, first, last_stop = [], None, None, None
    for at, kind in sorted(marks, key=lambda m: (m[0], m[1] != "stop")):
        if kind == "start":
            first = at if first is None else first
            if opened is None:
                opened = at
        elif opened is not None:
            runs.append((opened, at))
            opened, last_stop = None, at
        elif first is not None:
            last_stop = at
    if first is None:
        return [], []
    if opened is not None:
        return runs + [(opened, None)], [(first, None)]
    return runs, [(first, last_stop)]


# ------------------------------------------------------------------ the time model

@dataclass
class CalendarVersion:
    valid_from: dt.datetime
    timezone: str
    shifts: list           # worktime.Shift


@dataclass
class WorkCenterFacts:
    """Everything that touches one work center's buckets, as intervals and instants."""
    created_at: dt.datetime | None = None
    calendars: list = field(default_factory=list)    # CalendarVersion, the effective one by valid_from
    exceptions: list = field(default_factory=list)   # (start, end): holidays, shutdowns of its lineage
    maintenance: list = field(default_factory=list)  # (start, end): planned maintenance of the work center
    runs: list = field(default_factory=list)         # (start, end): its operations running
    spans: list = field(default_factory=list)        # (start, end): its operations from start to end
    setups: list = field(default_factory=list)       # (start, end): it or its units in setup
    downtimes: list = field(default_factory=list)    # (start, end): downtime recorded
    reports: list = field(default_factory=list)      # (at, good, scrap, rework, planned seconds per unit)


def effective_calendars(lineage, versions):
    """The calendar in force at a work center over time: at each instant, the
    latest version of the deepest node of its lineage (top down) that had one.
    `versions`: {node id: [CalendarVersion]}. Returns [CalendarVersion] by valid_from."""
    depth = {node: i for i, node in enumerate(lineage)}
    changes = sorted({v.valid_from for node in lineage for v in versions.get(node, [])})
    out = []
    for at in changes:
        candidates = [(depth[node], v.valid_from, v) for node in lineage for v in versions.get(node, [])
                      if v.valid_from <= at]
        _, _, chosen = max(candidates, key=lambda c: (c[0], c[1]))
        if not out or (out[-1].timezone, out[-1].shifts) != (chosen.timezone, chosen.shifts):
            out.append(CalendarVersion(at, chosen.timezone, chosen.shifts))
    return out


def planned(facts, start, end, instances=None):
    """[(shift label, [intervals])] of planned busy time in [start, end): the
    calendar in force at each instant (none: all time is planned, label ""),
    less exceptions and planned maintenance; from the work center's creation
    on. `instances` ({label: (start, end)}) collects the shifts met."""
    if facts.created_at is not None:
        start = max(start, facts.created_at)
    if start >= end:
        return []
    versions = sorted(facts.calendars, key=lambda c: c.valid_from)
    pieces, edges = [], [start] + [c.valid_from for c in versions if start < c.valid_from < end] + [end]
    for a, b in zip(edges, edges[1:]):
        in_force = [c for c in versions if c.valid_from <= a]
        if not in_force:
            pieces.append(("", [(a, b)]))
            continue
        calendar = in_force[-1]
        for label, shift_start, shift_end, working in worktime.shift_instances(calendar.shifts, calendar.timezone,
                                                                              a, b):
            pieces.append((label, working))
            if instances is not None:
                instances[label] = (shift_start, shift_end)
    holes = union(facts.exceptions + facts.maintenance)
    out = {}
    for label, intervals in pieces:
        left = subtract(intervals, holes)
        if left:
            out.setdefault(label, []).extend(left)
    return [(label, union(intervals)) for label, intervals in out.items()]


def by_hour(intervals):
    """{hour start: [pieces]} of sorted disjoint intervals cut at whole hours."""
    out = {}
    for start, end in intervals:
        hour = floor_hour(start)
        while hour < end:
            a, b = max(start, hour), min(end, hour + HOUR)
            if a < b:
                out.setdefault(hour, []).append((a, b))
            hour += HOUR
    return out


def buckets(facts, hours, now, instances=None):
    """{(hour, shift label): {component: value}} of the given hours, through
    `now`. Each hour is cut into its shifts' planned time and the rest (label
    ""), and each piece gets the time and quantities that fall into it."""
    hours = sorted(h for h in hours if h < now)
    if not hours:
        return {}
    start, end = hours[0], min(hours[-1] + HOUR, now)

    def hourly(intervals):
        return by_hour(clip(union(intervals), start, end))

    downtime = union(facts.downtimes)
    producing = hourly(subtract(union(facts.runs), downtime))
    spans, setups, delays = hourly(facts.spans), hourly(facts.setups), hourly(downtime)
    shifts = [(label, by_hour(intervals)) for label, intervals in planned(facts, start, end, instances)]
    reports = {}
    for report in facts.reports:
        reports.setdefault(floor_hour(report[0]), []).append(report)
    out = {}
    for hour in hours:
        hour_end = min(hour + HOUR, now)
        pieces = {}
        for label, hourly_planned in shifts:
            if hour in hourly_planned:
                pieces.setdefault(label, ([], []))
                pieces[label][0].extend(hourly_planned[hour])
                pieces[label][1].extend(hourly_planned[hour])
        rest = subtract([(hour, hour_end)], union([i for p, _ in pieces.values() for i in p]))
        if rest:
            pieces.setdefault("", ([], []))[0].extend(rest)
        for label, (piece, planned_part) in pieces.items():
            row = _piece(union(piece), planned_part, producing.get(hour, []), spans.get(hour, []),
                         setups.get(hour, []), delays.get(hour, []), reports.get(hour, []))
            if any(row.values()):
                out[(hour, label)] = row
    return out


def _piece(piece, planned_part, producing, spans, setups, downtime, reports):
    row = {"PBT": seconds(union(planned_part)), "APT": seconds(intersect(piece, producing)),
           "AUBT": seconds(intersect(piece, spans)), "AUST": seconds(intersect(piece, setups)),
           "ADET": seconds(intersect(piece, downtime))}
    pq = gq = sq = rq = pri = Decimal(0)
    for at, good, scrap, rework, per_unit in reports:
        if any(a <= at < b for a, b in piece):
            produced = good + scrap + rework
            pq, gq, sq, rq = pq + produced, gq + good, sq + scrap, rq + rework
            pri += per_unit * produced
    row.update(PQ=pq, GQ=gq, SQ=sq, RQ=rq, PRI_PQ=pri)
    return row


# ------------------------------------------------------------------ periods

def period_start(instant, period, zone):
    """The start (UTC) of the hour, day, week (Monday) or month containing
    `instant`, in `zone` (a ZoneInfo)."""
    if period == "hour":
        return floor_hour(instant)
    local = instant.astimezone(zone)
    day = local.date()
    if period == "week":
        day -= dt.timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC)


def next_period(start, period, zone):
    if period == "hour":
        return start + HOUR
    local = start.astimezone(zone).date()
    if period == "day":
        local += dt.timedelta(days=1)
    elif period == "week":
        local += dt.timedelta(days=7)
    else:
        local = (local.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return dt.datetime.combine(local, dt.time(), tzinfo=zone).astimezone(UTC)


def periods(start, end, period, zone):
    """[(from, to, label)] of the periods covering [start, end), clipped to it."""
    if period == "none":
        return [(start, end, "total")]
    out, at = [], period_start(start, period, zone)
    while at < end:
        following = next_period(at, period, zone)
        local = at.astimezone(zone)
        label = (local.strftime("%Y-%m-%d %H:00") if period == "hour" else
                 local.strftime("%G-W%V") if period == "week" else
                 local.strftime("%Y-%m") if period == "month" else local.date().isoformat())
        out.append((max(at, start), min(following, end), label))
        at = following
    return out


def split_seconds(intervals, edges):
    """Whole seconds of `intervals` within each [edges[i], edges[i+1])."""
    out = [0] * (len(edges) - 1)
    for a, b in intervals:
        for i in range(len(edges) - 1):
            lo, hi = max(a, edges[i]), min(b, edges[i + 1])
            if lo < hi:
                out[i] += seconds([(lo, hi)])
    return out


# ------------------------------------------------------------------ KPIs

def fraction(value):
    """Exact: from an int, a Decimal, a Fraction or a text ("0.85", "342/405")."""
    return Fraction(value)


class KpiRule:
    """A definition taken apart once (its formula's terms, scale, bands and
    rounding), for the thousands of rows of a report. Integer arithmetic."""

    def __init__(self, definition):
        kpi = KPIS[definition["formula"]]
        self.numerator, self.denominator = kpi.numerator, kpi.denominator
        self.summed = definition["formula"] in SUMMED_DENOMINATORS
        self.scale = Fraction(kpi.scale).as_integer_ratio()
        self.unit, self.percent = kpi.unit, kpi.unit in RATIO_UNITS
        self.decimals = definition.get("decimals", 10)
        # (is "below", edge numerator, edge denominator, colour)
        self.bands = [("below" in b, *Decimal(b.get("below", b.get("from"))).as_integer_ratio(), b["colour"])
                      for b in definition.get("bands") or ()]
        self.banded = bool(definition.get("bands"))

    def terms(self, components):
        """(numerator, denominator) as coprime integers, or None (no denominator)."""
        n, d = self.scale
        for key in self.numerator:
            p, q = _ratio(components.get(key, 0))
            n, d = n * p, d * q
        if self.summed:
            p, q = 0, 1
            for key in self.denominator:
                a, b = _ratio(components.get(key, 0))
                p, q = p * b + a * q, q * b
            n, d = n * q, d * p
        else:
            for key in self.denominator:
                p, q = _ratio(components.get(key, 0))
                n, d = n * q, d * p
        if not d:
            return None
        if d < 0:
            n, d = -n, -d
        g = gcd(n, d)
        return n // g, d // g

    def value(self, components):
        """{value, exact, display, band} over summed components."""
        terms = self.terms(components)
        if terms is None:
            return {"value": None, "exact": None, "display": "—", "band": None}
        n, d = terms
        shown = rounded(n * 100 if self.percent else n, d, self.decimals)
        return {"value": rounded(n, d, 10), "exact": f"{n}/{d}" if d != 1 else str(n),
                "display": f"{shown} {self.unit}", "band": self.band(n, d)}

    def band(self, n, d):
        """The colour of the first band n / d is in (by cross-multiplication); amber when in none."""
        if not self.banded:
            return None
        for below, p, q, colour in self.bands:
            if (n * q < p * d) if below else (n * q >= p * d):
                return colour
        return "amber"


def _ratio(value):
    return (value, 1) if type(value) is int else value.as_integer_ratio()


def kpi_terms(formula, components):
    """(numerator, denominator) of the KPI as coprime integers, or None (no denominator)."""
    return KpiRule({"formula": formula}).terms(components)


def kpi_fraction(formula, components):
    """The KPI's exact value from summed components, or None (no denominator)."""
    terms = kpi_terms(formula, components)
    return None if terms is None else Fraction(*terms)


def rounded(n, d, places):
    """n / d (d > 0) as a decimal text of `places` places, rounded once, half even."""
    q, r = divmod(n * 10 ** places, d)
    if 2 * r > d or (2 * r == d and q % 2):
        q += 1
    digits = str(abs(q)).rjust(places + 1, "0")
    text = f"{digits[:-places]}.{digits[-places:]}" if places else digits
    return f"-{text}" if q < 0 else text


def decimal_of(value, places=VALUE_PLACES):
    """An exact fraction as a decimal rounded once, half even."""
    with localcontext() as ctx:
        ctx.prec = 60
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(places, rounding=ROUND_HALF_EVEN)


def kpi_value(definition, components):
    """{value, exact, display, band} of a definition over summed components."""
    return KpiRule(definition).value(components)


def json_components(components):
    """Times as whole seconds, quantities as decimal strings."""
    out = {}
    for key, value in sorted(components.items()):
        if type(value) is int:
            out[key] = value
            continue
        if isinstance(value, Fraction):
            value = decimal_of(value) if value.denominator != 1 else value.numerator
        out[key] = _decimal_text(value) if isinstance(value, Decimal) else int(value)
    return out


def _decimal_text(value):
    whole = int(value)
    return str(whole) if whole == value else str(_plain(value))


def _plain(value):
    """A decimal without exponent or trailing zeros (380.000 → 380)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


# ------------------------------------------------------------------ Paretos

def pareto(totals, title, unit):
    """Items by value, largest first, with their share and the cumulative share."""
    total = sum(totals.values(), Decimal(0))
    items, running = [], Decimal(0)
    for key, value in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])):
        running += value
        items.append({"key": key, "value": str(_plain(Decimal(value))),
                      "share": str(decimal_of(Fraction(value) / Fraction(total))) if total else "0",
                      "cumulative": str(decimal_of(Fraction(running) / Fraction(total))) if total else "0"})
    return {"title": title, "unit": unit, "total": str(_plain(Decimal(total))), "items": items}


# ------------------------------------------------------------------ alerts

def alert_transition(raised, value, condition, threshold, hysteresis):
    """"raise", "clear" or None: a rule raises when the value crosses its
    threshold and clears only once it is `hysteresis` past it the other way,
    so a KPI hovering at the threshold does not flap. No value (no planned
    time yet): no change."""
    if value is None:
        return None
    threshold, hysteresis = fraction(threshold), fraction(hysteresis)
    if condition == "below":
        bad, good = value < threshold, value >= threshold + hysteresis
    else:
        bad, good = value > threshold, value <= threshold - hysteresis
    if not raised and bad:
        return "raise"
    if raised and good:
        return "clear"
    return None
