"""The read model's tables: applying facts, and computing buckets from them.

Facts are written by pages of SQL (psycopg2 execute_values) into the
generation they are for; a record several events describe keeps the newest
event's version (`stamp`), marks and reports only add. Buckets are derived:
each hour a batch touches (its "dirty" hours) is computed again from every fact
that touches it (domain.buckets), so late and out-of-order events re-open the
hour they belong to, and an hour's numbers do not depend on event order.
"""
import datetime as dt
import json
from collections import defaultdict
from zoneinfo import ZoneInfo

from psycopg2.extras import execute_values
from sqlalchemy import text

from mes_common.readmodel import ReadModel
from reporting_service import domain
from reporting_service.models import GENERATIONS, MODEL_SCHEMA, OPEN_END, ModelState
from resource_service.contract import worktime

FACT_TABLES = ("equipment", "calendar", "calendar_exception", "equipment_state", "operation", "operation_mark",
               "quantity_report", "downtime", "inspection", "ncr", "work_order")
DERIVED_TABLES = ("operation_interval", "bucket", "bucket_day", "shift_instance", "clock")
MODEL = ReadModel(ModelState, MODEL_SCHEMA, GENERATIONS, lock_key=0x7265706f7274,   # pg advisory lock: "report"
                  tables={t: t for t in FACT_TABLES + DERIVED_TABLES})
state, active, clear = MODEL.state, MODEL.active, MODEL.clear
MAX_CATCH_UP = dt.timedelta(days=31)   # an open interval dirties at most this far back
REOPEN_LIMIT = dt.timedelta(days=400)  # a fact older than this is kept, but its buckets are final (a rebuild
                                       # computes them again): a holiday typed for the year 1 costs nothing


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


def _rows(session, sql, params=None):
    return session.execute(text(sql), params or {}).all()


def _run(session, sql, params=None):
    session.execute(text(sql), params or {})


def _values(session, sql, template, rows):
    """One statement per page of 1,000 rows, in the session's transaction."""
    if rows:
        with session.connection().connection.cursor() as cursor:
            execute_values(cursor, sql, rows, template=template, page_size=1000)


def _fetch(session, sql, params):
    """Rows as plain tuples, straight from the driver (%(name)s parameters): the
    fact loads of a batch read thousands of rows, and a Row apiece costs."""
    with session.connection().connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# ------------------------------------------------------------------ facts

# table -> (columns, conflict clause): how a row that is there already merges
_UPSERT = {
    "equipment": (("id", "level", "code", "name", "parent_id", "created_at", "stamp"), "newest"),
    "operation": (("id", "work_order_id", "work_center_id", "part_id", "part_number", "run_time", "stamp"), "newest"),
    "inspection": (("id", "part_id", "operation_id", "passed", "at", "stamp"), "newest"),
    "ncr": (("id", "number", "part_id", "operation_id", "defect_codes", "raised_at", "cancelled", "stamp"), "newest"),
    "work_order": (("id", "number", "part_id", "due_date", "status", "completed_at", "stamp"), "newest"),
    "calendar": (("node_id", "version", "valid_from", "timezone", "shifts"), "keep"),
    "calendar_exception": (("id", "node_id", "starts_at", "ends_at"), "keep"),
    "operation_mark": (("operation_id", "at", "kind"), "keep"),
    "quantity_report": (("id", "operation_id", "work_center_id", "part_id", "at", "good", "scrap", "rework",
                         "reason_code", "unit_seconds"), "keep"),
    # an end, once known, stays (the open state's event says null; its successor's says when)
    "downtime": (("id", "work_center_id", "reason_code", "started_at", "ended_at"), "ended"),
    "equipment_state": (("id", "node_id", "state", "started_at", "ended_at"), "ended"),
}
_CONFLICT_COLUMNS = {"calendar": ("node_id", "version"), "operation_mark": ("operation_id", "at", "kind")}
_CASTS = {"shifts": "jsonb", "defect_codes": "jsonb"}


def _merge(rows, table):
    """One row per key within a batch, merged as the database will merge them."""
    columns, rule = _UPSERT[table]
    keys = _CONFLICT_COLUMNS.get(table, ("id",))
    merged = {}
    for row in rows:
        key = tuple(str(row[k]) for k in keys)
        seen = merged.get(key)
        if seen is None:
            merged[key] = row
        elif rule == "newest" and row["stamp"] > seen["stamp"]:
            merged[key] = row
        elif rule == "ended" and row["ended_at"] is not None:
            merged[key] = {**seen, "ended_at": max(filter(None, (seen["ended_at"], row["ended_at"])))}
    return [merged[k] for k in sorted(merged)]


def _write(session, schema, table, rows):
    columns, rule = _UPSERT[table]
    keys = _CONFLICT_COLUMNS.get(table, ("id",))
    quoted = ", ".join(f'"{c}"' for c in columns)
    if rule == "keep":
        conflict = "DO NOTHING"
    elif rule == "newest":
        sets = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in keys)
        conflict = f"DO UPDATE SET {sets} WHERE t.stamp < excluded.stamp"
    else:
        conflict = "DO UPDATE SET ended_at = GREATEST(t.ended_at, excluded.ended_at)"
    template = "(" + ", ".join(f"%s::{_CASTS[c]}" if c in _CASTS else "%s" for c in columns) + ")"
    _values(session, f"INSERT INTO {schema}.{table} AS t ({quoted}) VALUES %s "
                     f"ON CONFLICT ({', '.join(keys)}) {conflict}", template,
            [tuple(json.dumps(r[c]) if c in _CASTS else _plain(r[c]) for c in columns) for r in rows])


def _plain(value):
    return str(value) if hasattr(value, "hex") and not isinstance(value, (bytes, str)) else value


def apply_facts(session, generation, facts_list):
    """Write a batch's facts; returns {table: [rows]} as merged (for the dirty hours)."""
    by_table = defaultdict(list)
    for facts in facts_list:
        for table, rows in facts.rows.items():
            by_table[table].extend(rows)
    merged = {table: _merge(rows, table) for table, rows in by_table.items()}
    for table in FACT_TABLES:
        if merged.get(table):
            _write(session, generation.schema, table, merged[table])
    return merged


def apply(session, generation, facts_list, now=None):
    """Live: write the facts and compute again every bucket they touch. The dirty hours."""
    now = now or utcnow()
    moved = _placed(session, generation.schema, facts_list)
    merged = apply_facts(session, generation, facts_list)
    tree = Tree.load(session, generation.schema)
    dirty = dirty_hours(session, generation, merged, now, moved, tree)
    compute(session, generation, dirty, now, tree)
    return dirty


def apply_rebuilding(session, generation, facts_list):
    """A rebuild's pages: facts only; `finish` computes every bucket once at the end."""
    apply_facts(session, generation, facts_list)


# ------------------------------------------------------------------ which hours a batch touches

def _time(value):
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _span_hours(start, end, now):
    start, end = _time(start), _time(end) or now
    start = max(start, now - MAX_CATCH_UP) if end >= now else max(start, now - REOPEN_LIMIT)
    return domain.hours_between(start, min(end, now)) if start < now else []


def _placed(session, schema, facts_list):
    """The equipment nodes a batch adds to the hierarchy or moves in it (their
    work centers' calendars may change: a calendar set on a site before its
    work center's event arrived applies once it has)."""
    nodes = {str(r["id"]): r for f in facts_list for r in f.rows.get("equipment", [])}
    if not nodes:
        return []
    known = {str(i): str(p) if p else None for i, p in _rows(
        session, f"SELECT id, parent_id FROM {schema}.equipment WHERE id = ANY(CAST(:ids AS uuid[]))",
        {"ids": sorted(nodes)})}
    return [(i, r["created_at"]) for i, r in sorted(nodes.items())
            if i not in known or known[i] != (str(r["parent_id"]) if r["parent_id"] else None)]


def dirty_hours(session, generation, merged, now, placed=(), tree=None):
    """{work center id: {hour}} of a batch's facts."""
    schema, dirty = generation.schema, defaultdict(set)
    tree = tree or Tree.load(session, schema)
    for row in merged.get("quantity_report", []):
        dirty[str(row["work_center_id"])].add(domain.floor_hour(min(_time(row["at"]), now)))
    for row in merged.get("downtime", []):
        dirty[str(row["work_center_id"])].update(_span_hours(row["started_at"], None, now))
    for row in merged.get("equipment_state", []):
        wc = tree.work_center_of(str(row["node_id"]))
        if wc and row["state"] in ("setup", "planned_maintenance"):
            dirty[wc].update(_span_hours(row["started_at"], None, now))
    for row in merged.get("calendar", []):
        for wc in tree.work_centers_under(str(row["node_id"])):
            dirty[wc].update(_span_hours(row["valid_from"], None, now))
    for row in merged.get("calendar_exception", []):
        for wc in tree.work_centers_under(str(row["node_id"])):
            dirty[wc].update(_span_hours(row["starts_at"], row["ends_at"], now))
    for node, created in placed:
        for wc in tree.work_centers_under(node):
            dirty[wc].update(_span_hours(created, None, now))
    operations = {str(r["operation_id"]) for r in merged.get("operation_mark", [])}
    operations |= {str(r["id"]) for r in merged.get("operation", [])}   # a move to another work center
    for wc, hours in recompute_intervals(session, schema, sorted(operations), now).items():
        dirty[wc].update(hours)
    return dirty


def recompute_intervals(session, schema, operation_ids, now):
    """Derive the operations' running and busy intervals from their marks
    again; {work center id: {hour}} of the old and the new intervals."""
    dirty = defaultdict(set)
    if not operation_ids:
        return dirty
    ids = {"ids": operation_ids}
    for wc, start, end in _fetch(session, f"DELETE FROM {schema}.operation_interval WHERE operation_id = "
                                          "ANY(CAST(%(ids)s AS uuid[])) RETURNING work_center_id::text, start, \"end\"",
                                 ids):
        dirty[wc].update(_span_hours(start, end, now))
    marks = defaultdict(list)
    for op, at, kind in _fetch(session, f"SELECT operation_id::text, at, kind FROM {schema}.operation_mark "
                                        "WHERE operation_id = ANY(CAST(%(ids)s AS uuid[]))", ids):
        marks[op].append((at, kind))
    rows = []
    for op, wc, part in _fetch(session, f"SELECT id::text, work_center_id::text, part_id::text FROM {schema}.operation "
                                        "WHERE id = ANY(CAST(%(ids)s AS uuid[]))", ids):
        runs, spans = domain.operation_intervals(marks.get(op, []))
        for kind, intervals in (("run", runs), ("span", spans)):
            for start, end in intervals:
                rows.append((op, kind, start, end, wc, part))
                dirty[wc].update(_span_hours(start, end, now))
    _values(session, f'INSERT INTO {schema}.operation_interval (operation_id, kind, start, "end", work_center_id, '
                     "part_id) VALUES %s", None, rows)
    return dirty


# ------------------------------------------------------------------ the hierarchy

class Tree:
    """The equipment hierarchy as the model knows it."""

    def __init__(self, nodes):
        self.nodes = nodes   # id -> (level, parent id, created_at, code, name)

    @classmethod
    def load(cls, session, schema):
        return cls({str(i): (level, str(parent) if parent else None, created, code, name) for
                    i, level, parent, created, code, name in
                    _rows(session, f"SELECT id, level, parent_id, created_at, code, name FROM {schema}.equipment")})

    def lineage(self, node_id):
        """The node's ancestors and itself, top down."""
        out, seen = [], set()
        while node_id is not None and node_id in self.nodes and node_id not in seen:
            seen.add(node_id)
            out.append(node_id)
            node_id = self.nodes[node_id][1]
        return list(reversed(out)) or [node_id]

    def work_center_of(self, node_id):
        return next((n for n in reversed(self.lineage(node_id)) if self.level(n) == "work_center"), None)

    def level(self, node_id):
        return self.nodes.get(node_id, (None,))[0]

    def work_centers(self):
        return sorted(n for n, v in self.nodes.items() if v[0] == "work_center")

    def work_centers_under(self, node_id):
        """The work centers at or below a node (every one when node_id is None)."""
        return [wc for wc in self.work_centers() if node_id is None or node_id in self.lineage(wc)]

    def ancestor_at(self, node_id, level):
        return next((n for n in self.lineage(node_id) if self.level(n) == level), None)

    def describe(self, node_id):
        if node_id is None or node_id not in self.nodes:
            return {"id": node_id, "level": None, "code": None, "name": None}
        level, _, _, code, name = self.nodes[node_id]
        return {"id": node_id, "level": level, "code": code, "name": name}


# ------------------------------------------------------------------ buckets

def compute(session, generation, dirty, now, tree=None):
    """Compute the dirty hours of each work center again, with the daily sums."""
    dirty = {wc: hours for wc, hours in dirty.items() if hours}
    if not dirty:
        return
    schema = generation.schema
    # two streams (and the clock) may compute one work center at once: one at a
    # time, in a fixed order; the later reads what the earlier committed
    _run(session, "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT hashtextextended(w, :ns) AS k "
                  "FROM unnest(CAST(:wcs AS text[])) AS w ORDER BY w) AS locks", {"wcs": sorted(dirty), "ns": 7})
    tree = tree or Tree.load(session, schema)
    start = min(min(h) for h in dirty.values())
    end = max(max(h) for h in dirty.values()) + domain.HOUR
    facts = load_facts(session, schema, tree, sorted(dirty), start, end, now)
    rows, days, instances = [], defaultdict(set), []
    for wc, hours in dirty.items():
        wc_facts, zone = facts[wc]
        seen = {}
        for (hour, label), c in domain.buckets(wc_facts, hours, now, seen).items():
            rows.append((wc, hour, label, c["PBT"], c["APT"], c["AUBT"], c["AUST"], c["ADET"], c["PQ"], c["GQ"],
                         c["SQ"], c["RQ"], c["PRI_PQ"]))
        instances += [(wc, label, a, b) for label, (a, b) in seen.items()]
        for hour in hours:
            days[wc].add(hour.astimezone(ZoneInfo(zone)).date())
    for wc, hours in sorted(dirty.items()):   # one index probe a work center (a join would hash the whole table)
        _run(session, f"DELETE FROM {schema}.bucket WHERE work_center_id = :wc AND start = ANY(:hours)",
             {"wc": wc, "hours": sorted(hours)})
    _values(session, f"INSERT INTO {schema}.bucket (work_center_id, start, shift, pbt, apt, aubt, aust, adet, pq, gq, "
                     "sq, rq, pri_pq) VALUES %s", None, rows)
    _values(session, f"INSERT INTO {schema}.shift_instance AS s (work_center_id, label, start, \"end\") VALUES %s "
                     "ON CONFLICT (work_center_id, label) DO UPDATE SET start = excluded.start, \"end\" = excluded.end",
            None, sorted(set(instances)))
    days_of(session, schema, {wc: (facts[wc][1], sorted(d)) for wc, d in days.items()})


def days_of(session, schema, days):
    """bucket_day again for {wc: (zone, [local days])}: the sums of the day's
    buckets, each day read by an index range of its own (LATERAL: a join would
    hash every bucket of the year)."""
    rows = []
    for wc, (zone, local_days) in sorted(days.items()):
        tz = ZoneInfo(zone)
        for day in local_days:
            lo = dt.datetime.combine(day, dt.time(), tzinfo=tz)
            rows.append((wc, day, zone, lo, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)))
    if not rows:
        return
    params = {"wcs": [r[0] for r in rows], "days": [r[1] for r in rows], "zones": [r[2] for r in rows],
              "los": [r[3] for r in rows], "his": [r[4] for r in rows]}
    pick = ("SELECT * FROM unnest(CAST(:wcs AS uuid[]), CAST(:days AS date[]), CAST(:zones AS text[]), "
            "CAST(:los AS timestamptz[]), CAST(:his AS timestamptz[])) AS d(wc, day, zone, lo, hi)")
    for wc, day_list in _by_work_center(rows).items():
        _run(session, f"DELETE FROM {schema}.bucket_day WHERE work_center_id = :wc AND day = ANY(:days)",
             {"wc": wc, "days": day_list})
    _run(session, f"""
        INSERT INTO {schema}.bucket_day (work_center_id, day, timezone, pbt, apt, aubt, aust, adet, pq, gq, sq, rq,
                                         pri_pq)
        SELECT d.wc, d.day, d.zone, s.* FROM ({pick}) AS d
        CROSS JOIN LATERAL (SELECT sum(b.pbt), sum(b.apt), sum(b.aubt), sum(b.aust), sum(b.adet), sum(b.pq),
                                   sum(b.gq), sum(b.sq), sum(b.rq), sum(b.pri_pq)
                            FROM {schema}.bucket b
                            WHERE b.work_center_id = d.wc AND b.start >= d.lo AND b.start < d.hi
                            HAVING count(*) > 0) AS s""", params)


def _by_work_center(rows):
    out = {}
    for wc, day, *_ in rows:
        out.setdefault(wc, []).append(day)
    return out


def _calendar(row):
    return domain.CalendarVersion(row[2], row[3], worktime.shifts_of({"shifts": row[4]}))


def load_facts(session, schema, tree, wcs, start, end, now):
    """{wc: (WorkCenterFacts over [start, end), its time zone)}: one query per kind of fact for all of them
    (ids read as text: they are dictionary keys, not values)."""
    params = {"wcs": wcs, "start": start, "end": end}
    versions = defaultdict(list)
    for row in _fetch(session, f"SELECT node_id::text, version, valid_from, timezone, shifts FROM {schema}.calendar",
                      params):
        versions[row[0]].append(_calendar(row))
    exceptions = defaultdict(list)
    for node, a, b in _fetch(session, f"SELECT node_id::text, starts_at, ends_at FROM {schema}.calendar_exception "
                                      "WHERE ends_at > %(start)s AND starts_at < %(end)s", params):
        exceptions[node].append((a, b))
    out = {}
    for wc in wcs:
        lineage = tree.lineage(wc)
        calendars = domain.effective_calendars(lineage, versions)
        created = tree.nodes.get(wc, (None, None, None))[2]
        out[wc] = (domain.WorkCenterFacts(created_at=created, calendars=calendars,
                                          exceptions=[e for n in lineage for e in exceptions.get(n, [])]),
                   calendars[-1].timezone if calendars else "UTC")
    window = "AND {a} < %(end)s AND " + OPEN_END + " > %(start)s"   # the index on (work center, end) finds them
    in_scope = "WHERE work_center_id = ANY(CAST(%(wcs)s AS uuid[])) "
    for node, state, a, b in _fetch(session, f"SELECT node_id::text, state, started_at, ended_at FROM {schema}."
                                             "equipment_state WHERE state IN ('setup', 'planned_maintenance') "
                                             + window.format(a="started_at", end="ended_at"), params):
        wc = node if state == "planned_maintenance" else tree.work_center_of(node)
        if wc in out:
            (out[wc][0].maintenance if state == "planned_maintenance" else out[wc][0].setups).append((a, b or now))
    for wc, kind, a, b in _fetch(session, f'SELECT work_center_id::text, kind, start, "end" FROM {schema}.'
                                          "operation_interval " + in_scope + window.format(a="start", end='"end"'),
                                 params):
        (out[wc][0].runs if kind == "run" else out[wc][0].spans).append((a, b or now))
    for wc, a, b in _fetch(session, f"SELECT work_center_id::text, started_at, ended_at FROM {schema}.downtime "
                                    + in_scope + window.format(a="started_at", end="ended_at"), params):
        out[wc][0].downtimes.append((a, b or now))
    for wc, *report in _fetch(session, f"SELECT work_center_id::text, at, good, scrap, rework, unit_seconds "
                                       f"FROM {schema}.quantity_report " + in_scope + "AND at >= %(start)s "
                                       "AND at < %(end)s", params):
        out[wc][0].reports.append(tuple(report))   # numeric columns come as Decimal
    return out


# ------------------------------------------------------------------ the clock and a rebuild's end

def computed_through(session, generation):
    return session.execute(text(f"SELECT computed_through FROM {generation.schema}.clock WHERE id = 1")).scalar()


def _set_clock(session, generation, at):
    session.execute(text(f"INSERT INTO {generation.schema}.clock (id, computed_through) VALUES (1, :at) "
                         "ON CONFLICT (id) DO UPDATE SET computed_through = excluded.computed_through"), {"at": at})


def tick(session, generation, now=None):
    """Time passing: every work center's hours since the last tick (planned
    time accrues, open intervals grow) are computed again. Returns the dirty set."""
    now = now or utcnow()
    last = computed_through(session, generation) or now
    hours = set(domain.hours_between(max(last, now - MAX_CATCH_UP), now)) | {domain.floor_hour(now)}
    dirty = {wc: set(hours) for wc in Tree.load(session, generation.schema).work_centers()}
    compute(session, generation, dirty, now)
    _set_clock(session, generation, now)
    return dirty


def finish(session, generation, now=None, chunk=dt.timedelta(days=31)):
    """After a rebuild's facts: every operation's intervals and every bucket,
    from each work center's creation (or first fact) to now, a month at a time."""
    now = now or utcnow()
    schema = generation.schema
    operations = [str(r[0]) for r in _rows(session, f"SELECT id FROM {schema}.operation")]
    for i in range(0, len(operations), 5000):
        recompute_intervals(session, schema, operations[i:i + 5000], now)
    tree = Tree.load(session, schema)
    first = _rows(session, f"""SELECT least((SELECT min(created_at) FROM {schema}.equipment
                                             WHERE level = 'work_center'),
                                            (SELECT min(start) FROM {schema}.operation_interval),
                                            (SELECT min(started_at) FROM {schema}.downtime),
                                            (SELECT min(started_at) FROM {schema}.equipment_state),
                                            (SELECT min(at) FROM {schema}.quantity_report))""")[0][0]
    wcs = tree.work_centers()
    if first is not None and wcs:
        start = domain.floor_hour(first)
        while start < now:
            end = min(start + chunk, now)
            hours = set(domain.hours_between(start, end))
            compute(session, generation, {wc: hours for wc in wcs}, now)
            start = end
    _set_clock(session, generation, now)
