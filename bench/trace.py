"""(issue 14) Traceability: traces, recall, intake and rebuild on a plant of a million nodes.

Processes (each a real `nameko run`, a throwaway database built by the
migrations): the traceability service and the gateway. The plant's history is
generated straight into the model (bench/trace_data.py, COPY): one program
(about 15,000 nodes) in one generation, N programs (about a million nodes and
five million edges at N=67) in the other; the same query shapes run on both
(the service answers from the generation `model_state` names), through the
service's RPC and through the gateway:

- backward and forward traces, depth 10, of random detail serials (the bar,
  heat, coatings, order, operations and inspection behind each; the
  assemblies above each) and of random first-level assemblies;
- the recall of a heat lot that reaches about 12,000 serials, with its CSV;
- event intake while traces run: events waiting in the streams' queues
  (stories of bench/trace_data-like shop floors), drained by the service;
- the rebuild of the large model from its event log (the apply path of
  `mes traceability rebuild`, in this process, into the other generation).

Goals (issue 14): trace p99 <= 25 ms; cost(1M)/cost(10k) <= 1.5; recall of a
heat lot reaching 10,000 serials <= 1 s with the CSV; intake >= 2,000 events/s.
"""
import json
import random
import threading
import time
import urllib.request

import psycopg2
from _common import (BenchEnv, drain_seconds, goal, inbox_count, log, machine_line, parse_args, publish_all, ratio,
                     summary_ms, table)
from sqlalchemy.orm import sessionmaker

import trace_data
from auth_service.testing import bearer
from mes_common import readmodel
from mes_common.db import make_engine
from mes_common.rpc import ClusterRpcProxy
from traceability_service import rebuild, store
from traceability_service.testing import shop_floor_story

SERVICES = {"traceability_service": "traceability_service.service:TraceabilityService"}


def dsn(url):
    return url.replace("postgresql+psycopg2://", "postgresql://")


def pick(summaries, rng, count):
    """Query shapes: (shape, method, node id) on random programs."""
    shapes = []
    for _ in range(count):
        program = rng.choice(summaries)
        shapes.append(("detail serial, backward", "trace_backward", rng.choice(program["details"])))
        shapes.append(("detail serial, forward", "trace_forward", rng.choice(program["details"])))
        shapes.append(("assembly (level 1), backward", "trace_backward", rng.choice(program["assemblies"])))
        shapes.append(("assembly (level 1), forward", "trace_forward", rng.choice(program["assemblies"])))
    return shapes


def run_shapes(rpc, http, shapes, via):
    timings, sizes = {}, {}
    for shape, method, node in shapes:
        started = time.perf_counter()
        if via == "rpc":
            answer = getattr(rpc, method)(str(node), {"depth": 10, "limit": 500})
        else:
            answer = http(f"/trace/nodes/{node}/{method.removeprefix('trace_')}?depth=10&limit=500")
        timings.setdefault(shape, []).append(time.perf_counter() - started)
        sizes.setdefault(shape, []).append(answer["total"])
    return timings, sizes


def measure(rpc, http, summaries, rng, rounds, label):
    shapes = pick(summaries, rng, rounds)
    run_shapes(rpc, http, shapes[:30], "rpc")   # warm
    results = {}
    for via in ("rpc", "http"):
        timings, sizes = run_shapes(rpc, http, shapes, via)
        for shape, values in timings.items():
            results[(shape, via)] = (summary_ms(values), sum(sizes[shape]) / len(sizes[shape]))
    table(["shape", "via", "n", "nodes (mean)", "p50 ms", "p99 ms", "max ms"],
          [(shape, via, s["n"], size, s["p50"], s["p99"], s["max"])
           for (shape, via), (s, size) in sorted(results.items())], title=f"traces, depth 10: {label}")
    return results


def story_events(count, seed):
    """Envelopes of shop-floor stories (about 40 events each) until `count`."""
    events, index = [], 0
    while len(events) < count:
        story, _ = shop_floor_story(f"B{seed}{index:05d}", serials=5)
        events.extend(story.events)
        index += 1
    return events[:count]


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"programs": 3, "rounds": 20, "events": 3000},
                      programs=(int, 67, "programs of the large model (67: about 1M nodes, 5M edges)"),
                      rounds=(int, 200, "random queries of each shape"),
                      events=(int, 40_000, "events in the intake run"))
    print(f"bench/trace.py — traceability at scale ({machine_line()})")
    rng = random.Random(14)
    with BenchEnv("trace", keep=args.keep) as env:
        base = env.start_behind_gateway(SERVICES)
        url = env.databases["traceability_service"]
        authorization = bearer(env.config())
        service = next(p for p in env.processes if p.name == "traceability_service")

        def http(path):
            request = urllib.request.Request(f"{base}/api/v1{path}", headers={"Authorization": authorization})
            with urllib.request.urlopen(request, timeout=120) as response:
                body = response.read()
            return json.loads(body) if response.headers.get_content_type() == "application/json" else body

        connection = psycopg2.connect(dsn(url))
        with ClusterRpcProxy(env.config(), timeout=120) as cluster:
            rpc = cluster.traceability_service
            started = time.monotonic()
            nodes, edges, small = trace_data.load(connection, "trace_a", 1, progress=None)
            log(f"small model: {nodes:,} nodes, {edges:,} edges in trace_a ({time.monotonic() - started:.1f} s)")
            small_results = measure(rpc, http, small, rng, args.rounds, f"{nodes:,} nodes, {edges:,} edges")

            started = time.monotonic()
            big_nodes, big_edges, large = trace_data.load(connection, "trace_b", args.programs, progress=log)
            load_s = time.monotonic() - started
            with connection.cursor() as cursor:
                cursor.execute("UPDATE model_state SET active = 'trace_b'")
            connection.commit()
            log(f"large model: {big_nodes:,} nodes, {big_edges:,} edges in trace_b, generated in {load_s:.0f} s")
            large_results = measure(rpc, http, large, rng, args.rounds,
                                    f"{big_nodes:,} nodes, {big_edges:,} edges")

            rows = []
            for key, (s, size) in sorted(large_results.items()):
                small_p50 = small_results[key][0]["p50"]
                rows.append((*key, s["p50"], small_p50, ratio(s["p50"], small_p50), s["p99"]))
            table(["shape", "via", "p50 1M ms", "p50 10k ms", "ratio", "p99 1M ms"], rows,
                  title="cost(1M) / cost(10k), same shapes")

            heat = large[0]["heat"]
            recall_times, http_times = [], []
            for _ in range(5):
                t0 = time.perf_counter()
                answer = rpc.recall_csv({"node_id": str(heat)})
                recall_times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                http(f"/trace/nodes/{heat}/recall.csv")
                http_times.append(time.perf_counter() - t0)
            serials = sum(1 for line in answer["content"].splitlines()[1:] if ",serial," in line)
            r, h = summary_ms(recall_times), summary_ms(http_times)
            table(["recall of one heat lot", "serials", "rows", "p50 ms", "max ms"],
                  [("RPC recall_csv", serials, len(answer["content"].splitlines()) - 1, r["p50"], r["max"]),
                   ("GET /trace/nodes/…/recall.csv", serials, len(answer["content"].splitlines()) - 1, h["p50"], h["max"])])

            # intake: events waiting in the streams' queues, drained while traces run
            service.stop()
            env.processes.remove(service)
            events = story_events(args.events, 1)
            publish_all(env.amqp_uri, events)
            log(f"{len(events):,} events waiting in the streams' queues")
            engine = make_engine(url, pool_size=1)
            before = inbox_count(engine)
            env.start("traceability_service", SERVICES["traceability_service"], env.write_config("services"))
            stop, query_times = threading.Event(), []

            def querying():
                with ClusterRpcProxy(env.config(), timeout=120) as side:
                    q = side.traceability_service
                    while not stop.is_set():
                        shape = rng.choice(pick(large, rng, 1))
                        t0 = time.perf_counter()
                        try:
                            getattr(q, shape[1])(str(shape[2]), {"depth": 10, "limit": 500})
                        except Exception:   # noqa: BLE001 - the service is starting
                            time.sleep(0.05)
                            continue
                        query_times.append(time.perf_counter() - t0)
            env.wait_rpc("traceability_service")
            worker = threading.Thread(target=querying, daemon=True)
            worker.start()
            intake_s = drain_seconds(engine, before, len(events))
            stop.set()
            worker.join()
            q = summary_ms(query_times)
            table(["intake while tracing", "events", "seconds", "events/s", "traces", "trace p50 ms", "trace p99 ms"],
                  [("streams drained", len(events), intake_s, len(events) / intake_s, q["n"], q["p50"], q["p99"])])

            # rebuild of the large model from its event log
            sessions = sessionmaker(engine)
            target = store.MODEL.generation("trace_a")
            with sessions() as session, session.begin():
                store.clear(session, target)
            t0 = time.monotonic()
            pages = ({"events": page, "last": 0} for page in trace_data.events(args.programs))
            replayed = readmodel.replay(rebuild.PROJECTOR, sessions, target, pages)
            rebuild_s = time.monotonic() - t0
            with sessions() as session:
                counts = store.counts(session, target)
            engine.dispose()
            table(["rebuild from the event log", "events", "nodes", "edges", "seconds", "events/s"],
                  [(f"{args.programs} programs", replayed, counts["nodes"], counts["edges"], rebuild_s,
                    replayed / rebuild_s)])
        connection.close()

        print()
        worst = max(s["p99"] for (shape, via), (s, _) in large_results.items())
        goal("trace p99, depth 10, 1M model (worst shape)", worst, "<=", 25, " ms")
        goal("cost(1M)/cost(10k) p50 (worst shape)", max(row[4] for row in rows), "<=", 1.5)
        goal("recall of a heat lot with its CSV, p50", r["p50"], "<=", 1000, " ms")
        goal("intake while tracing", len(events) / intake_s, ">=", 2000, " events/s")
        log(f"rebuild of the {big_nodes:,}-node model: {rebuild_s:.0f} s ({replayed:,} events)")


if __name__ == "__main__":
    main()
