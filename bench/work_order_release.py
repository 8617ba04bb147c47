"""(issue 4) Release of a work order end to end: a 20-operation routing, a 30-component BOM.

Processes (each a real `nameko run`, throwaway databases built by the
migrations): the resource, material and work order services. Through their
RPCs the benchmark builds a plant (site, area, 5 work centers), 30 purchased
component parts each with a released lot in stock, an assembly whose BOM
has the 30 components, and a released routing of 20 operations; then it
creates work orders and times `work_order_service.release_work_order`, one
release at a time, from this process (standalone RPC proxy):

    resource.get_released_routing                 1 RPC
    material.explode_bom (one level × quantity)   1 RPC
    material.reserve, one per component          30 RPCs (FEFO allocation, each its own transaction)
    + the saga row written before each step (lease renewed) and the final
      transaction: 20 operation rows, status, event, audit.

The first releases warm up the caches and connection pools (not counted).
A shortage release (material compensated) is timed too, for comparison.
"""
import time

from _common import (BenchEnv, MachineCpu, cpu_line, cpu_seconds, log, machine_line, parse_args, summary_ms,
                     table, wait_quiet)

SERVICES = {"resource_service": "resource_service.service:ResourceService",
            "material_service": "material_service.service:MaterialService",
            "work_order_service": "work_order_service.service:WorkOrderService"}
COMPONENTS = 30
OPERATIONS = 20
WORK_CENTERS = 5


def build(cluster, stock):
    r, m = cluster.resource_service, cluster.material_service
    ent = r.create_node({"level": "enterprise", "code": "ACME", "name": "Acme Aero"})
    site = r.create_node({"level": "site", "code": "TLS", "name": "Toulouse", "parent_id": ent["id"]})
    area = r.create_node({"level": "area", "code": "ASSY", "name": "Assembly", "parent_id": site["id"]})
    wcs = [r.create_node({"level": "work_center", "code": f"WC-{i + 1:02d}", "name": f"Cell {i + 1}",
                          "parent_id": area["id"]}) for i in range(WORK_CENTERS)]
    stores = m.create_location({"code": "STORES", "name": "Stores"})
    components = []
    for i in range(COMPONENTS):
        part = m.create_part({"part_number": f"C-{i + 1:03d}", "name": f"Component {i + 1}", "type": "purchased",
                              "lot_controlled": True})
        lot = m.receive_lot({"part_id": part["id"], "quantity": stock, "location_id": stores["id"]})
        m.set_lot_status(lot["id"], {"status": "released", "reason": "bench stock"})
        components.append(part)
    top = m.create_part({"part_number": "A-100", "name": "Wing rib assembly", "type": "assembly",
                         "serial_controlled": True})
    m.set_bom(top["id"], {"components": [{"part_id": c["id"], "quantity": 1 + i % 3}
                                         for i, c in enumerate(components)]})
    routing = r.create_routing({"part_id": top["id"], "part_revision": "A", "operations": [
        {"sequence": 10 * (i + 1), "name": f"Operation {10 * (i + 1)}", "work_center_id": wcs[i % WORK_CENTERS]["id"],
         "setup_time": 15, "run_time": 1.5} for i in range(OPERATIONS)]})
    r.release_routing(routing["id"])
    return site, top


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"orders": 3, "warmup": 1},
                      orders=(int, 12, "work orders released (timed)"),
                      warmup=(int, 2, "releases before the timed ones"))
    print(f"bench/work_order_release.py — release saga end to end ({machine_line()})")
    print(f"routing: {OPERATIONS} operations; BOM: {COMPONENTS} components; {args.orders} timed releases "
          f"after {args.warmup} warm-up release(s), one at a time")
    from mes_common.rpc import ClusterRpcProxy

    with BenchEnv("work_order_release", keep=args.keep) as env:
        for name in SERVICES:
            env.create_database(name, name)
        cfg = env.write_config("services")
        procs = {name: env.start(name, target, cfg) for name, target in SERVICES.items()}
        for name in SERVICES:
            env.wait_rpc(name)
        log("resource, material and work order services up")

        total = args.orders + args.warmup
        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=60) as cluster:
            wo = cluster.work_order_service
            site, top = build(cluster, stock=3 * (total + 1) * 10)
            log(f"plant, {COMPONENTS} components in stock, BOM and {OPERATIONS}-operation routing released")
            orders = [wo.create_work_order({"part_id": top["id"], "quantity": 10, "due_date": "2027-01-31",
                                            "site_id": site["id"]}) for _ in range(total)]
            short = wo.create_work_order({"part_id": top["id"], "quantity": 10_000, "due_date": "2027-01-31",
                                          "site_id": site["id"]})
            wait_quiet(max_wait=5 if args.quick else 30)

            seconds = []
            machine = MachineCpu().start().track([p.pid for p in procs.values()])
            for i, order in enumerate(orders):
                if i == args.warmup:
                    cpu = {name: cpu_seconds(p.pid) for name, p in procs.items()}
                t0 = time.perf_counter()
                released = wo.release_work_order(order["id"])
                elapsed = time.perf_counter() - t0
                assert released["status"] == "released" and len(released["operations"]) == OPERATIONS
                if i >= args.warmup:
                    seconds.append(elapsed)
            busy, ours = machine.stop()
            cpu = {name: (cpu_seconds(p.pid) - cpu[name]) / len(seconds) * 1000 for name, p in procs.items()}
            reservations = cluster.material_service.list_reservations(
                {"work_order_id": orders[-1]["id"], "status": "active", "limit": 500})["items"]
            assert len(reservations) == COMPONENTS, len(reservations)

            t0 = time.perf_counter()
            try:
                wo.release_work_order(short["id"])
                raise AssertionError("the shortage release was not refused")
            except Exception as exc:  # RuleViolated, rebuilt by nameko
                refused = time.perf_counter() - t0
                message = str(exc)

        s = summary_ms(seconds)
        table(["release_work_order", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms"],
              [["released (30 reservations)", s["n"], s["p50"], s["p90"], s["p99"], s["max"], s["mean"]],
               ["refused, all 30 short (compensated)", 1, refused * 1000, refused * 1000, refused * 1000,
                refused * 1000, refused * 1000]],
              title="End-to-end release time (client RPC call to reply)")
        table(["process", "CPU ms per release"], [[name, ms] for name, ms in cpu.items()],
              title="Where the CPU goes (per timed release)")
        print(f"refusal message starts: {message[:110]}…")
        print(cpu_line(busy, ours, "timed releases"))
        print(f"RESULT release of a work order ({OPERATIONS} operations, {COMPONENTS} components): "
              f"p50 {s['p50']:.0f} ms, p99 {s['p99']:.0f} ms over {s['n']} releases")


if __name__ == "__main__":
    main()
