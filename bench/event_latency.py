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
import os
import threading
import time
from collections import defaultdict

import psycopg2

from _common import (BackingCpu, BenchEnv, MachineCpu, backing_line, cpu_line, cpu_seconds, goal,
                     log, machine_line, parse_args, percentile, summary_ms, table, wait_quiet)
from mes_common.infra import pg_connect_kwargs

HAPPENED = "mes.probe.thing.happened"
CONSUMER_QUEUE = f"evt-probe_emitter-{HAPPENED}--probe_consumer.on_happened"
SENDERS = 8
POLL_INTERVAL = 0.005


def query(url, sql):
    """Run one statement on its own connection (autocommit); rows, or [] when it returns none."""
    conn = psycopg2.connect(**pg_connect_kwargs(url))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


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
    args = parse_args(__doc__.splitlines()[0], quick={"duration": 10.0},
                      rate=(float, 200.0, "events per second"),
                      duration=(float, 60.0, "seconds of load"))
    total = int(args.rate * args.duration)
    print(f"bench/event_latency.py — commit -> consumer effect ({machine_line()})")
    print(f"{args.rate:g} events/s for {args.duration:g} s = {total} events, one emit RPC (one transaction) each")

    from mes_common.rpc import ClusterRpcProxy

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

        wait_quiet(max_wait=10 if args.quick else 30)
        # warm-up (not counted): 100 events, then clear the tables
        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=30) as cluster:
            for i in range(100):
                cluster.probe_emitter.emit([f"warm-{i}"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and query(consumer_url, "SELECT count(*) FROM effect")[0][0] < 100:
            time.sleep(0.1)
        for url in (emitter_url, consumer_url):
            query(url, "TRUNCATE outbox, inbox, effect RESTART IDENTITY")
        log("warm-up done")

        poller = Poller(consumer_url)
        poller.start()
        calls = {}           # i -> (scheduled, sent, replied, event id or error)
        lag = [0.0]
        cpu_before = {n: cpu_seconds(p.pid) for n, p in procs.items()}
        machine = MachineCpu().start().track([p.pid for p in procs.values()])
        backing = BackingCpu().start()
        driver_cpu = sum(os.times()[:2])
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
        busy, ours = machine.stop()
        backing_usage = backing.stop()
        driver_cpu = sum(os.times()[:2]) - driver_cpu
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

        outbox = {e: (float(c), float(p) if p is not None else None) for e, c, p in query(
            emitter_url, "SELECT event_id::text, extract(epoch FROM created_at), "
                         "extract(epoch FROM published_at) FROM outbox")}
        inbox = {e: float(r) for e, r in query(
            consumer_url, "SELECT event_id::text, extract(epoch FROM received_at) FROM inbox")}
        effects = dict(query(consumer_url, "SELECT event_id::text, count(*) FROM effect GROUP BY event_id"))

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
    span = max(1, round(args.duration / 6))
    buckets = defaultdict(list)
    for e in applied:
        if e in inbox:
            buckets[int((outbox[e][0] - start) // span)].append(inbox[e] - outbox[e][0])
    table(["window", "events", "p50 ms", "p99 ms", "max ms"],
          [(f"{k * span:.0f}-{(k + 1) * span:.0f} s", len(v), percentile(v, 50) * 1000, percentile(v, 99) * 1000,
            max(v) * 1000) for k, v in sorted(buckets.items())],
          title="commit -> consumer txn start, by time window")

    # relay passes: rows published by one relay transaction share its now() (published_at)
    passes = defaultdict(int)
    for c, p in outbox.values():
        if p is not None:
            passes[p] += 1
    pass_times = sorted(passes)
    gaps = [b - a for a, b in zip(pass_times, pass_times[1:])]
    sizes = [passes[t] for t in pass_times]
    if sizes:
        table(["relay", "value"], [
            ("relay passes (distinct published_at)", len(sizes)),
            ("rows per pass: mean", sum(sizes) / len(sizes)),
            ("rows per pass: p99 / max", f"{percentile(sizes, 99)} / {max(sizes)}"),
            ("time between passes ms: p50 / p99 / max",
             f"{percentile(gaps, 50) * 1000:.1f} / {percentile(gaps, 99) * 1000:.1f} / {max(gaps or [0]) * 1000:.1f}"),
            ("busy-pass time per row ms (gap / rows, passes of >= 5 rows): p50",
             percentile([g / passes[t] for t, g in zip(pass_times, gaps) if passes[t] >= 5], 50) * 1000),
        ], title="Outbox relay of the emitter (from published_at)")

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
        ("load generator + poller CPU (ms per event)", driver_cpu / max(1, len(committed)) * 1000),
    ], title="Counts")
    if failed_calls:
        print(f"first failure: {failed_calls[0]!r}")
    print(cpu_line(busy, ours, "load"))
    print(backing_line(backing_usage))
    print()
    s = summary_ms(e2e)
    goal("event commit -> consumer effect p99 (ms)", s["p99"], "<=", 25)
    goal("events lost", len(lost), "==", 0)
    print(f"INFO p50 {s['p50']:.2f} ms, max {s['max']:.2f} ms, {len(applied)}/{len(committed)} applied, "
          f"visible-to-poller p99 {summary_ms(visible)['p99']:.2f} ms")


if __name__ == "__main__":
    main()
