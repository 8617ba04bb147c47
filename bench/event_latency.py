"""(c) Business commit -> consumer effect committed, at a steady event rate.

Processes: the probe emitter and the probe consumer of mes_common's own tests
(mes_common/tests/probe), each with its throwaway database built by the probe
migrations, run with `nameko run` and the deployed EVENTS settings. The
driver (this process, 8 threads each with its own standalone ClusterRpcProxy)
calls `probe_emitter.emit([subject])` on a fixed schedule (default 200
calls/s for 60 s; one event per call, one transaction per call). The emitter
commits the event in its outbox, the relay publishes it (confirm, mandatory,
persistent) to the consumer's quorum queue, and the consumer's inbox handler
commits the inbox row and the effect row in one transaction.

What is measured (nothing is added to platform code; all timestamps are
PostgreSQL's `now()` on the one server, so no clock skew):

    created_at   outbox row of the emitter   = start of the business transaction
    published_at outbox row, set by relay    = start of the relay transaction that published it
    received_at  inbox row of the consumer   = start of the consumer transaction (inbox + effect)

    latency = inbox.received_at - outbox.created_at

It slightly overstates the business commit side (the emitter transaction's
own insert + commit, ~1 ms, is inside the interval) and understates the
consumer side (the consumer's insert + effect + commit, ~1 ms, is outside).
As a cross-check, a poller thread reads the consumer's `effect` table every
5 ms and records when each effect became visible (committed):
`visible - created_at` is an upper bound (error <= one poll interval).

Goals (issue 2): p99 <= 25 ms; 0 lost.
"""
import threading
import time
from collections import defaultdict

import psycopg2

from _common import (BenchEnv, cpu_seconds, goal, log, machine_line, parse_args, percentile, summary_ms,
                     table)
from mes_common.infra import pg_connect_kwargs

HAPPENED = "mes.probe.thing.happened"
CONSUMER_QUEUE = f"evt-probe_emitter-{HAPPENED}--probe_consumer.on_happened"
SENDERS = 8
POLL_INTERVAL = 0.005


class Poller(threading.Thread):
    """Records when each effect row becomes visible in the consumer database."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.conn = psycopg2.connect(**pg_connect_kwargs(url))
        self.conn.autocommit = True
        self.seen = {}
        self.stop_flag = threading.Event()

    def run(self):
        # Concurrent consumer transactions commit out of id order, so a row
        # with a lower id can appear after a higher one: poll everything above
        # the highest id below which every id has been seen.
        watermark, ids = 0, set()
        with self.conn.cursor() as cur:
            while not self.stop_flag.is_set():
                cur.execute("SELECT id, event_id::text FROM effect WHERE id > %s", (watermark,))
                now = time.time()
                for row_id, event_id in cur.fetchall():
                    self.seen.setdefault(event_id, now)
                    ids.add(row_id)
                while watermark + 1 in ids:
                    watermark += 1
                    ids.discard(watermark)
                time.sleep(POLL_INTERVAL)
        self.conn.close()


def main():
    args = parse_args(__doc__.splitlines()[0],
                      rate=(float, 200.0, "events per second"),
                      duration=(float, 60.0, "seconds of load"))
    if args.quick:
        args.duration = 10.0
    total = int(args.rate * args.duration)
    print(f"bench/event_latency.py — commit -> consumer effect ({machine_line()})")
    print(f"{args.rate:g} events/s for {args.duration:g} s = {total} events, one emit RPC (one transaction) each")

    from nameko.standalone.rpc import ClusterRpcProxy

    with BenchEnv("event_latency", keep=args.keep) as env:
        probe = "mes_common.tests.probe"
        emitter_url = env.create_database("probe_emitter", probe)
        consumer_url = env.create_database("probe_consumer", probe)
        cfg = env.write_config("probe")
        procs = {
            "probe_consumer": env.start("probe_consumer", "mes_common.tests.probe.services:ProbeConsumer", cfg),
            "probe_emitter": env.start("probe_emitter", "mes_common.tests.probe.services:ProbeEmitter", cfg),
        }
        env.wait_rpc("probe_emitter")
        env.wait_rpc("probe_consumer")
        env.wait_queue_consumers(CONSUMER_QUEUE)
        log("emitter and consumer up, consumer queue bound")

        # warm-up (not counted): 100 events, then clear the tables
        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=30) as cluster:
            for i in range(100):
                cluster.probe_emitter.emit([f"warm-{i}"])
        deadline = time.monotonic() + 30
        with psycopg2.connect(**pg_connect_kwargs(consumer_url)) as conn, conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT count(*) FROM effect")
                if cur.fetchone()[0] >= 100:
                    break
                conn.commit()
                time.sleep(0.1)
        for url in (emitter_url, consumer_url):
            with psycopg2.connect(**pg_connect_kwargs(url)) as conn, conn.cursor() as cur:
                cur.execute("TRUNCATE outbox, inbox, effect RESTART IDENTITY")
        log("warm-up done")

        poller = Poller(consumer_url)
        poller.start()
        calls = {}           # i -> (scheduled, sent, replied, event id or error)
        lag = [0.0]
        cpu_before = {n: cpu_seconds(p.pid) for n, p in procs.items()}
        start = time.time() + 0.5

        def sender(k):
            with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=30) as cluster:
                emit = cluster.probe_emitter.emit
                for i in range(k, total, SENDERS):
                    scheduled = start + i / args.rate
                    delay = scheduled - time.time()
                    if delay > 0:
                        time.sleep(delay)
                    sent = time.time()
                    lag[0] = max(lag[0], sent - scheduled)
                    try:
                        result = emit([f"s{i}"])[0]
                    except Exception as exc:  # counted, not fatal
                        result = exc
                    calls[i] = (scheduled, sent, time.time(), result)

        threads = [threading.Thread(target=sender, args=(k,)) for k in range(SENDERS)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        load_end = time.time()
        log(f"load done: {total} emit calls in {load_end - start:.1f} s (max send lag {lag[0] * 1000:.1f} ms)")

        emitted_ids = {r for *_, r in calls.values() if isinstance(r, str)}
        failed_calls = [r for *_, r in calls.values() if not isinstance(r, str)]
        # drain: wait until every emitted event has its effect (or 30 s)
        drain_deadline = time.monotonic() + 30
        while time.monotonic() < drain_deadline and not emitted_ids <= poller.seen.keys():
            time.sleep(0.1)
        time.sleep(0.5)  # late duplicates, if any
        poller.stop_flag.set()
        poller.join()
        cpu_used = {n: cpu_seconds(p.pid) - cpu_before[n] for n, p in procs.items()}

        with psycopg2.connect(**pg_connect_kwargs(emitter_url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT event_id::text, extract(epoch FROM created_at), extract(epoch FROM published_at) "
                        "FROM outbox")
            outbox = {e: (float(c), float(p) if p is not None else None) for e, c, p in cur.fetchall()}
        with psycopg2.connect(**pg_connect_kwargs(consumer_url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT event_id::text, extract(epoch FROM received_at) FROM inbox")
            inbox = {e: float(r) for e, r in cur.fetchall()}
            cur.execute("SELECT event_id::text, count(*) FROM effect GROUP BY event_id")
            effects = dict(cur.fetchall())

    committed = set(outbox)
    applied = committed & set(effects)
    lost = committed - set(effects)
    duplicates = sum(n - 1 for n in effects.values() if n > 1)
    unpublished = sum(1 for c, p in outbox.values() if p is None)
    e2e = [inbox[e] - outbox[e][0] for e in applied if e in inbox]
    relay_wait = [outbox[e][1] - outbox[e][0] for e in applied if outbox[e][1] is not None]
    to_consumer = [inbox[e] - outbox[e][1] for e in applied if e in inbox and outbox[e][1] is not None]
    visible = [poller.seen[e] - outbox[e][0] for e in applied if e in poller.seen]
    rpc = [replied - sent for _, sent, replied, r in calls.values() if isinstance(r, str)]

    rows = []
    for label, values in (("commit -> consumer txn start (inbox.received_at - outbox.created_at)", e2e),
                          ("  of which commit -> relay txn start (published_at - created_at)", relay_wait),
                          ("  of which relay txn start -> consumer txn start", to_consumer),
                          ("commit -> effect visible to a poller (upper bound, 5 ms poll)", visible),
                          ("emit RPC round trip seen by the driver", rpc)):
        s = summary_ms(values)
        rows.append((label, s["n"], s["p50"], s["p90"], s["p99"], s["max"], s["mean"]))
    table(["latency (ms)", "n", "p50", "p90", "p99", "max", "mean"], rows,
          title=f"Event latency at {args.rate:g} events/s for {args.duration:g} s")

    # latency over time: is it stable or growing (backlog)?
    buckets = defaultdict(list)
    for e in applied:
        if e in inbox:
            buckets[int((outbox[e][0] - start) // max(1.0, args.duration / 6))].append(inbox[e] - outbox[e][0])
    span = max(1.0, args.duration / 6)
    table(["window", "events", "p50 ms", "p99 ms", "max ms"],
          [(f"{k * span:.0f}-{(k + 1) * span:.0f} s", len(v), percentile(v, 50) * 1000, percentile(v, 99) * 1000,
            max(v) * 1000) for k, v in sorted(buckets.items())],
          title="commit -> consumer txn start, by time window")

    achieved = len(committed) / max(1e-9, (load_end - start))
    table(["count", "value"], [
        ("emit calls scheduled", total),
        ("emit calls failed", len(failed_calls)),
        ("events committed (emitter outbox rows)", len(committed)),
        ("events applied (consumer effect rows, distinct)", len(applied)),
        ("lost (committed, no effect after 30 s drain)", len(lost)),
        ("duplicate effects", duplicates),
        ("outbox rows never published", unpublished),
        ("achieved rate (events/s)", achieved),
        ("emitter CPU (ms per event)", cpu_used["probe_emitter"] / max(1, len(committed)) * 1000),
        ("consumer CPU (ms per event)", cpu_used["probe_consumer"] / max(1, len(committed)) * 1000),
    ], title="Counts")
    if failed_calls:
        print(f"first failure: {failed_calls[0]!r}")
    print()
    s = summary_ms(e2e)
    goal("event commit -> consumer effect p99 (ms)", s["p99"], "<=", 25)
    goal("events lost", len(lost), "==", 0)
    print(f"INFO p50 {s['p50']:.2f} ms, max {s['max']:.2f} ms, {len(applied)}/{len(committed)} applied, "
          f"visible-to-poller p99 {summary_ms(visible)['p99']:.2f} ms")


if __name__ == "__main__":
    main()
