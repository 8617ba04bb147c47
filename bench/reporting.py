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
  service (each batch computes its hours again and evaluates the alert rules).

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

from _common import BenchEnv, goal, log, machine_line, parse_args, publish_all, ratio, summary_ms, table
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


def timed(http, path, rounds):
    http(path)   # warm
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        answer = http(path)
        times.append(time.perf_counter() - t0)
    return summary_ms(times), answer


def operation_events(wcs, count, seed):
    """Envelopes of operations running now on the bench's work centers: started,
    a partial and a final completion each, with a pause on every fifth."""
    rng, events = random.Random(seed), []
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=50)
    while len(events) < count:
        wc, op, part = rng.choice(wcs), str(uuid.uuid4()), str(uuid.uuid4())
        start = now + dt.timedelta(seconds=rng.randint(0, 1800))
        base = {"id": op, "work_center_id": wc, "part_id": part, "part_number": "P-BENCH",
                "work_order_id": str(uuid.uuid4()), "run_time": 0.9}

        def emit(verb, at, **data):
            events.append({"specversion": "1.0", "id": str(uuid.uuid4()), "source": "work_order_service",
                           "type": f"mes.work_order.operation.{verb}", "subject": op,
                           "time": at.isoformat(timespec="microseconds"), "datacontenttype": "application/json",
                           "actor": "bench", "correlationid": op,
                           "data": {**base, "at": at.isoformat(timespec="microseconds"), **data}})
        emit("started", start, status="running")
        if rng.random() < 0.2:
            emit("paused", start + dt.timedelta(minutes=3), status="paused", reason="bench")
            emit("resumed", start + dt.timedelta(minutes=5), status="running")
        for minutes, status in ((8, "running"), (15, "completed")):
            emit("completed", start + dt.timedelta(minutes=minutes), status=status,
                 report={"id": str(uuid.uuid4()), "good": 8.0, "scrap": 1.0 if rng.random() < 0.1 else 0.0,
                         "rework": 0.0, "reason_codes": ["DIM"]})
    return events[:count]


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

        def http(path):
            request = urllib.request.Request(f"{base}/api/v1/reports{path}", headers={"Authorization": authorization})
            with urllib.request.urlopen(request, timeout=300) as response:
                return json.loads(response.read())

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
            summary, answer = timed(http, path, args.rounds)
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
        service.stop()
        env.processes.remove(service)
        events = operation_events(wcs, args.events, 15)
        publish_all(env.amqp_uri, events)
        log(f"{len(events):,} events waiting in the stream's queue")
        with engine.connect() as conn:
            before = conn.execute(text("SELECT count(*) FROM inbox")).scalar()
        env.start("reporting_service", SERVICES["reporting_service"], env.write_config("services"))
        env.wait_rpc("reporting_service")
        t0 = time.monotonic()
        while True:
            with engine.connect() as conn:
                applied = conn.execute(text("SELECT count(*) FROM inbox")).scalar() - before
            if applied >= len(events):
                break
            time.sleep(0.05)
        intake_s = time.monotonic() - t0
        engine.dispose()
        table(["intake", "events", "seconds", "events/s"],
              [("operation events drained (buckets and alerts computed)", len(events), intake_s,
                len(events) / intake_s)])

        print()
        goal("OEE per work center per day for a month, p99", results["month, per work center per day"]["p99"],
             "<=", 100, " ms")
        goal("a year rolled up to the site (per month), p99", results["year, site per month"]["p99"], "<=", 100, " ms")
        goal("fact intake", len(events) / intake_s, ">=", 2000, " events/s")


if __name__ == "__main__":
    main()
