"""10,000 serials created through the RPC (issue 4 goal: <= 2 s).

One material_service process (`nameko run`, config.yml as deployed) on its
own vhost and database; this process calls `create_serials` with a pattern
(`SN<run>-{00001..10000}`) through a standalone ClusterRpcProxy and times
each call end to end: validation, the bulk INSERT, one audit entry, ten
`serial.created` outbox rows, the commit and the 10,000-item answer. A queue
bound to the service's events stands in for their consumers (traceability),
so the outbox relay publishes them once instead of retrying unroutable ones.
"""
import statistics
import time

from _common import BenchEnv, goal, log, machine_line, parse_args, table, wait_quiet

COUNT = 10_000


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"runs": 2},
                      runs=(int, 5, "measured runs (after one warm-up)"))
    print(f"bench/material_serials.py — {COUNT:,} serials per create_serials call ({machine_line()})")

    from kombu import Connection, Exchange, Queue
    from mes_common.rpc import ClusterRpcProxy

    with BenchEnv("material_serials", keep=args.keep) as env:
        env.create_database("material_service", "material_service")
        config = env.write_config("material")
        env.start("material_service", "material_service.service:MaterialService", config)
        env.wait_rpc("material_service")
        with Connection(env.amqp_uri) as conn:  # the events' consumer stand-in
            exchange = Exchange("material_service.events", type="topic", durable=True)
            Queue("bench-sink", exchange=exchange, routing_key="mes.material.#", durable=False)(conn.channel()).declare()
        log("material_service up")

        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=120,
                             context_data={"actor": "bench"}) as cluster:
            material = cluster.material_service
            part = material.create_part({"part_number": "BENCH-ENGINE", "name": "bench engine",
                                         "type": "assembly", "serial_controlled": True})
            wait_quiet(max_wait=10 if args.quick else 30)
            timings = []
            for run in range(args.runs + 1):
                started = time.perf_counter()
                created = material.create_serials({"part_id": part["id"], "pattern": f"SN{run}-{{00001..{COUNT}}}"})
                elapsed = time.perf_counter() - started
                assert created["count"] == COUNT
                if run:  # the first call warms the process (imports, pools, plans)
                    timings.append(elapsed)
                log(f"{'warm-up' if not run else f'run {run}/{args.runs}'}: {elapsed:.3f} s")

    p50 = statistics.median(timings)
    table(["metric", "value"], [
        ("runs", len(timings)),
        ("p50 (s)", p50),
        ("min (s)", min(timings)),
        ("max (s)", max(timings)),
        ("per serial at p50 (us)", p50 / COUNT * 1e6),
        ("serials per second at p50", COUNT / p50),
    ], title=f"create_serials({COUNT:,} from a pattern) through RPC, end to end")
    print()
    goal(f"material_serials {COUNT:,} serials p50", p50, "<=", 2.0, " s")


if __name__ == "__main__":
    main()
