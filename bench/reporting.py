"""(issue 15) Reporting: KPI queries over a year of history, and fact intake.

Processes (each a real `nameko run`, a throwaway database built by the
migrations): the reporting service and the gateway. One year of history for
50 work centers (about 2 million operation events: starts, pauses,
resumes, partial and final completions) is generated straight into the model
(reporting_service/history.py, the code of `mes reporting generate`), with its
hour and day buckets. Then, through the gateway:

- OEE per work center per day for a month (50 × 30 rows, each with its
  components), and for one work center;
- the same KPIs for a year rolled up to the site (one row per month), and the
  same query over one month: cost(year) / cost(month);
- a month and a year of the site by hour buckets (an interval that is not
  whole days reads the hours);
- fact intake: operation events waiting in the streams' queues, drained by the
  service (each batch computes its hours again and evaluates the alert rules):
  a backlog of days (each work center's operations one after the other, as
  after an outage) and a crowded hour (the worst case: every batch computes
  the same hours, tens of operations deep, again).

Goals (issue 15): p99 <= 100 ms for the month per work center per day and for
the year at the site; intake >= 2,000 events/s.
"""
import datetime as dt
import json
import random
import time
import urllib.parse
import urllib.request
import uuid

from _common import (BenchEnv, drain_seconds, goal, inbox_count, log, machine_line, parse_args, publish_all, ratio,
                     summary_ms, table)
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from auth_service.testing import bearer
from mes_common.db import make_engine
from reporting_service import history
from resource_service.contract import worktime

SERVICES = {"reporting_service": "reporting_service.service:ReportingService"}
ZONE = worktime.ZoneInfo(history.ZONE)


def local_midnight(days_ago):
    day = dt.datetime.now(ZONE).date() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(), tzinfo=ZONE).astimezone(dt.timezone.utc)


def timed(fetch, path, rounds):
    """Latency to the answer's last byte (as HTTP benchmarks count it); the
    client parses it after the clock stops, so its own collector, busy with
    a megabyte of JSON, does not count as the server's time."""
    fetch(path)   # warm
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        body = fetch(path)
        times.append(time.perf_counter() - t0)
    return summary_ms(times), json.loads(body)


def operation_events(wcs, count, seed, backlog=False):
    """Envelopes of operations on the bench's work centers: started, a partial
    and a final completion each, with a pause on every fifth.

    backlog=False: all of them running within the last hour (tens of operations
    at once on each work center: the worst case, every batch computes the same
    crowded hours again). backlog=True: each work center's operations one after
    the other (10 to 40 minutes) back from now, as a plant makes them: the
    queue a service finds after days down, in the order they were published."""
    rng, events = random.Random(seed), []
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=50)
    clock = {wc: dt.datetime.now(dt.timezone.utc) for wc in wcs}
    while len(events) < count:
        wc, op, part = rng.choice(wcs), str(uuid.uuid4()), str(uuid.uuid4())
        if backlog:
            length = dt.timedelta(minutes=rng.randint(10, 40))
            clock[wc] -= length
            start, at = clock[wc], lambda fraction: start + length * fraction
        else:
            start = now + dt.timedelta(seconds=rng.randint(0, 1800))
            at = lambda fraction: start + dt.timedelta(minutes=15) * fraction   # noqa: E731
        base = {"id": op, "work_center_id": wc, "part_id": part, "part_number": "P-BENCH",
                "work_order_id": str(uuid.uuid4()), "run_time": 0.9}

        def emit(verb, when, **data):
            events.append({"specversion": "1.0", "id": str(uuid.uuid4()), "source": "work_order_service",
                           "type": f"mes.work_order.operation.{verb}", "subject": op,
                           "time": when.isoformat(timespec="microseconds"), "datacontenttype": "application/json",
                           "actor": "bench", "correlationid": op,
                           "data": {**base, "at": when.isoformat(timespec="microseconds"), **data}})
        emit("started", start, status="running")
        if rng.random() < 0.2:
            emit("paused", at(0.2), status="paused", reason="bench")
            emit("resumed", at(1 / 3), status="running")
        for fraction, status in ((8 / 15, "running"), (1, "completed")):
            emit("completed", at(fraction), status=status,
                 report={"id": str(uuid.uuid4()), "good": 8.0, "scrap": 1.0 if rng.random() < 0.1 else 0.0,
                         "rework": 0.0, "reason_codes": ["DIM"]})
    events = events[:count]
    return sorted(events, key=lambda e: e["time"]) if backlog else events


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"work_centers": 10, "days": 60, "rounds": 20,
                                                      "events": 3000},
                      work_centers=(int, 50, "work centers of the site"),
                      days=(int, 365, "days of history"),
                      rounds=(int, 200, "requests of each query"),
                      events=(int, 40_000, "events in the intake run"))
    print(f"bench/reporting.py — ISO 22400 KPIs over a year of history ({machine_line()})")
    with BenchEnv("reporting", keep=args.keep) as env:
        base = env.start_behind_gateway(SERVICES)
        url = env.databases["reporting_service"]
        authorization = bearer(env.config())
        service = next(p for p in env.processes if p.name == "reporting_service")

        def fetch(path):
            request = urllib.request.Request(f"{base}/api/v1/reports{path}", headers={"Authorization": authorization})
            with urllib.request.urlopen(request, timeout=300) as response:
                return response.read()

        engine = make_engine(url, pool_size=2)
        sessions = sessionmaker(engine)
        t0 = time.monotonic()
        done = history.generate(sessions, args.work_centers, args.days, progress=log)
        log(f"history: {done['events']:,} operation events ({done['operations']:,} operations, "
            f"{done['reports']:,} reports, {done['downtimes']:,} downtimes); facts {done['facts_seconds']} s, "
            f"buckets {done['buckets_seconds']} s ({time.monotonic() - t0:.0f} s in all)")
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT coalesce((SELECT active FROM model_state), 'report_a')")).scalar()
            sizes = {t: conn.execute(text(f"SELECT count(*) FROM {schema}.{t}")).scalar()
                     for t in ("operation", "operation_mark", "quantity_report", "bucket", "bucket_day")}
            wcs = [str(i) for (i,) in conn.execute(text(f"SELECT id FROM {schema}.equipment "
                                                        "WHERE level = 'work_center' ORDER BY code"))]
        log("model: " + ", ".join(f"{v:,} {k}" for k, v in sizes.items()))

        site = done["site_id"]
        month = (local_midnight(30), local_midnight(0))
        year = (local_midnight(min(args.days, 365) - 1), local_midnight(0))
        hour_now = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)

        def q(start, end, **params):
            return "/kpis?" + urllib.parse.urlencode({"from": start.isoformat(), "to": end.isoformat(), **params},
                                                     doseq=True)
        oee = {"kpis": ["oee_index", "availability", "effectiveness", "quality_ratio"]}
        shapes = [
            ("month, per work center per day", q(*month, node_id=site, by="work_center", period="day", **oee)),
            ("month, one work center per day", q(*month, node_id=wcs[0], period="day", **oee)),
            ("month, site total", q(*month, node_id=site, **oee)),
            ("year, site per month", q(*year, node_id=site, period="month", **oee)),
            ("year, site total", q(*year, node_id=site, **oee)),
            ("year, site total, every KPI", q(*year, node_id=site)),
            ("month, site by hour buckets", q(month[0] + dt.timedelta(hours=1), month[1], node_id=site, **oee)),
            ("year, site by hour buckets", q(year[0] + dt.timedelta(hours=1), year[1], node_id=site, **oee)),
            ("last 24 h, site per hour", q(hour_now - dt.timedelta(hours=23), hour_now + dt.timedelta(hours=1),
                                           node_id=site, period="hour", **oee)),
        ]
        results = {}
        for name, path in shapes:
            summary, answer = timed(fetch, path, args.rounds)
            results[name] = summary
            rows = len(answer["rows"])
            log(f"{name}: {rows} rows, OEE {answer['total']['kpis'].get('oee_index', {}).get('display')}")
        table(["query (through the gateway)", "n", "p50 ms", "p99 ms", "max ms"],
              [(name, s["n"], s["p50"], s["p99"], s["max"]) for name, s in results.items()],
              title=f"{args.work_centers} work centers, {args.days} days")
        table(["cost(year) / cost(month), same query", "p50 month ms", "p50 year ms", "ratio"],
              [(label, results[m]["p50"], results[y]["p50"], ratio(results[y]["p50"], results[m]["p50"]))
               for label, m, y in (("site total (day buckets)", "month, site total", "year, site total"),
                                   ("site total (hour buckets)", "month, site by hour buckets",
                                    "year, site by hour buckets"))])

        # intake: operation events waiting in the stream's queue, drained by the service
        intake = []
        for label, backlog, seed in (("a backlog: days of 50 work centers, in time order", True, 15),
                                     ("a crowded hour: tens of operations at once on each", False, 16)):
            service.stop()
            env.processes.remove(service)
            events = operation_events(wcs, args.events, seed, backlog=backlog)
            publish_all(env.amqp_uri, events)
            log(f"{len(events):,} events waiting in the stream's queue ({label})")
            before = inbox_count(engine)
            service = env.start("reporting_service", SERVICES["reporting_service"], env.write_config("services"))
            env.wait_rpc("reporting_service")
            seconds = drain_seconds(engine, before, len(events))
            intake.append((label, len(events), seconds, len(events) / seconds))
        engine.dispose()
        table(["operation events drained (buckets and alerts computed)", "events", "seconds", "events/s"], intake)

        print()
        goal("OEE per work center per day for a month, p99", results["month, per work center per day"]["p99"],
             "<=", 100, " ms")
        goal("a year rolled up to the site (per month), p99", results["year, site per month"]["p99"], "<=", 100, " ms")
        for label, _, _, rate in intake:
            goal(f"fact intake, {label.split(':')[0]}", rate, ">=", 2000, " events/s")


if __name__ == "__main__":
    main()
