"""Synthetic production history, written as facts into the model that answers
(benchmarks and demos: `mes reporting generate`). A site with one area per ten
work centers, a two-shift calendar (Monday to Friday, 06:00–14:00 and
14:00–22:00 Europe/Paris, 30 min breaks); each work center runs operations of
10 to 40 minutes through its shifts, some paused, with partial and final
reports, scrap and rework with reason codes, and downtime with reasons. The
same seed gives the same history."""
import datetime as dt
import json
import random
import time
import uuid
from decimal import Decimal

from sqlalchemy import text

from mes_common.db import utcnow
from reporting_service import domain, store
from resource_service.contract import worktime

ZONE = "Europe/Paris"
SHIFTS = [{"weekday": d, "name": name, "starts": a, "ends": b, "breaks": [{"starts": bs, "ends": be}]}
          for d in range(5) for name, a, b, bs, be in (("early", "06:00", "14:00", "10:00", "10:30"),
                                                      ("late", "14:00", "22:00", "18:00", "18:30"))]
DOWNTIME_REASONS = ("JAM", "TOOL", "MATERIAL", "ELECTRICAL", "WAITING", "SETUP-OVERRUN")
SCRAP_REASONS = ("DIM", "BURR", "SURFACE", "MATERIAL")


def _id(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def generate(sessionmaker, work_centers, days, seed=1, progress=print):
    rng = random.Random(seed)
    now = utcnow()
    start = domain.floor_hour(now - dt.timedelta(days=days))
    stamp = f"{start.isoformat()}|{uuid.UUID(int=0)}"
    site, enterprise = _id(rng), _id(rng)
    nodes = [(enterprise, "enterprise", "ENT", "Enterprise", None), (site, "site", "SITE-B", "Bench site", enterprise)]
    wcs = []
    for i in range(work_centers):
        if i % 10 == 0:
            area = _id(rng)
            nodes.append((area, "area", f"AREA-{i // 10 + 1}", f"Area {i // 10 + 1}", site))
        wc = _id(rng)
        wcs.append(wc)
        nodes.append((wc, "work_center", f"WC-B{i + 1:03d}", f"Work center {i + 1}", area))
    started = time.monotonic()
    with sessionmaker() as session, session.begin():
        generation = store.active(session, lock="exclusive")
        store.clear(session, generation)
        schema = generation.schema
        store._values(session, f"INSERT INTO {schema}.equipment (id, level, code, name, parent_id, created_at, stamp) "
                               "VALUES %s", None, [(str(n), level, code, name, str(p) if p else None, start, stamp)
                                                   for n, level, code, name, p in nodes])
        store._values(session, f"INSERT INTO {schema}.calendar (node_id, version, valid_from, timezone, shifts) "
                               "VALUES %s", "(%s, %s, %s, %s, %s::jsonb)",
                      [(str(site), 1, start, ZONE, json.dumps(SHIFTS))])
    shifts = worktime.shifts_of({"shifts": SHIFTS})
    totals = {"operations": 0, "reports": 0, "downtimes": 0, "events": 0}
    for index, wc in enumerate(wcs):
        rows = _work_center(rng, wc, shifts, start, now, totals)
        with sessionmaker() as session, session.begin():
            schema = store.active(session).schema
            for table, columns, template, values in rows:
                store._values(session, f"INSERT INTO {schema}.{table} ({columns}) VALUES %s", template, values)
        if progress and index % 10 == 9:
            progress(f"  {index + 1} work centers, {totals['events']} events, {time.monotonic() - started:.0f} s")
    facts_seconds = round(time.monotonic() - started, 1)
    started = time.monotonic()
    with sessionmaker() as session, session.begin():
        generation = store.active(session, lock="exclusive")
        store.finish(session, generation, now)
        for table in store.FACT_TABLES + store.DERIVED_TABLES:   # fresh statistics: the planner sees a year, not 0 rows
            session.execute(text(f"ANALYZE {generation.schema}.{table}"))
    return {**totals, "site_id": str(site), "facts_seconds": facts_seconds,
            "buckets_seconds": round(time.monotonic() - started, 1)}


def _work_center(rng, wc, shifts, start, now, totals):
    """The fact rows of one work center's history."""
    operations, marks, reports, downtimes = [], [], [], []
    part = uuid.UUID(int=rng.getrandbits(128), version=4)
    for _, a, b, working in worktime.shift_instances(shifts, ZONE, start, now):
        at = a + dt.timedelta(minutes=rng.randint(0, 10))
        while at < b - dt.timedelta(minutes=15):
            op, minutes = _id(rng), rng.randint(10, 40)
            run_time = Decimal(rng.choice(("0.5", "0.8", "0.9", "1.2", "1.5")))
            end = min(at + dt.timedelta(minutes=minutes), b)
            operations.append((str(op), str(_id(rng)), str(wc), str(part), "P-BENCH", run_time, f"{at.isoformat()}|x"))
            marks.append((str(op), at, "start"))
            if rng.random() < 0.2:   # a pause of 1 to 4 minutes in the middle
                pause = at + (end - at) / 3
                resume = min(pause + dt.timedelta(minutes=rng.randint(1, 4)), at + (end - at) * 2 / 3)
                marks += [(str(op), pause, "stop"), (str(op), resume, "start")]
                totals["events"] += 2
            if rng.random() < 0.1:   # downtime during the operation
                down = at + (end - at) / 3
                downtimes.append((str(_id(rng)), str(wc), rng.choice(DOWNTIME_REASONS), down,
                                  down + dt.timedelta(minutes=rng.randint(2, 15))))
            produced = int(Decimal(minutes) / run_time * Decimal("0.85"))
            for share, report_at in ((Decimal("0.5"), at + (end - at) / 2), (Decimal("0.5"), end)):
                quantity = int(produced * share)
                scrap = 1 if rng.random() < 0.15 else 0
                rework = 1 if rng.random() < 0.05 else 0
                reports.append((str(_id(rng)), str(op), str(wc), str(part), report_at,
                                max(quantity - scrap - rework, 0),
                                scrap, rework, rng.choice(SCRAP_REASONS) if scrap or rework else None,
                                run_time * 60))
            marks.append((str(op), end, "stop"))
            totals["events"] += 4   # started, completed (partial), completed, with the pause's two above
            totals["operations"] += 1
            totals["reports"] += 2
            at = end + dt.timedelta(minutes=rng.randint(1, 5))
            if not any(x <= at < y for x, y in working):
                at = next((x for x, y in working if x > at), b)
    totals["downtimes"] += len(downtimes)
    return [("operation", "id, work_order_id, work_center_id, part_id, part_number, run_time, stamp", None, operations),
            ("operation_mark", "operation_id, at, kind", None, marks),
            ("quantity_report", "id, operation_id, work_center_id, part_id, at, good, scrap, rework, reason_code, "
                                "unit_seconds", None, reports),
            ("downtime", "id, work_center_id, reason_code, started_at, ended_at", None, downtimes)]
