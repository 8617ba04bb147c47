"""(issue 16) ERP integration: a B2MML schedule in, performance documents out.

Processes (each a real `nameko run`, throwaway databases built by the migrations): the resource, material,
quality (asked at each operation's completion), work order and integration services and the gateway; an HTTP receiver in this process stands for the ERP.

- Import: a V0700 ProcessOperationsSchedule of 1,000 OperationsRequests with 10 SegmentRequirements each
  (20 parts, 10 work centers), POSTed to /api/v1/integration/b2mml, timed until the answer: the answer comes
  once the work orders exist (one transaction in the work order service), checked after.
- Latency: orders of a 2-operation schedule run one at a time (release, start, complete, start, complete);
  from the last completion's answer to the receiver holding the order's OperationsPerformance document.
- Throughput: the ERP endpoint paused while N orders complete (their documents queued, not made), then made
  active: documents made (work order, material's ledger), validated against the V0700 XSD and delivered, per
  second until the receiver holds all N.

Goal (issue 16): 1,000 requests × 10 segments imported end to end in <= 10 s.
"""
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _common import BenchEnv, free_port, goal, log, machine_line, parse_args, summary_ms, table, wait_quiet

from auth_service.testing import bearer

SERVICES = {"resource_service": "resource_service.service:ResourceService",
            "material_service": "material_service.service:MaterialService",
            "quality_service": "quality_service.service:QualityService",
            "work_order_service": "work_order_service.service:WorkOrderService",
            "integration_service": "integration_service.service:IntegrationService"}
STANDARDS = (Path(__file__).resolve().parents[1] / "../shared/standards").resolve()
PARTS, WORK_CENTERS = 20, 10
NS = "http://www.mesa.org/xml/B2MML"


class Receiver:
    """The ERP: records when each document arrives (by work order number)."""

    def __init__(self):
        self.port, self.arrived, self.lock = free_port(), {}, threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                start = body.find(b"<ID>", body.find(b"<OperationsPerformance>"))
                number = body[start + 4:body.find(b"</ID>", start)].decode()
                with receiver.lock:
                    receiver.arrived.setdefault(number, time.perf_counter())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, numbers, timeout):
        deadline = time.monotonic() + timeout
        while not all(n in self.arrived for n in numbers):
            if time.monotonic() > deadline:
                missing = [n for n in numbers if n not in self.arrived]
                raise RuntimeError(f"{len(missing)} document(s) never arrived, e.g. {missing[:3]}")
            time.sleep(0.002)
        return max(self.arrived[n] for n in numbers)


def schedule(prefix, orders, segments, bod):
    """A ProcessOperationsSchedule of `orders` requests of `segments` operations each."""
    requests = []
    for i in range(orders):
        ops = "".join(
            f"<SegmentRequirement><ID>{10 * (s + 1):04d}</ID><Description>Operation {10 * (s + 1)}</Description>"
            f"<Duration>PT{6 + s}M</Duration><SegmentParameter><ID>SetupTime</ID><Value><ValueString>PT15M"
            f"</ValueString></Value></SegmentParameter><EquipmentRequirement><EquipmentID>WC-{(i + s) % WORK_CENTERS:02d}"
            f"</EquipmentID></EquipmentRequirement>"
            + (f"<MaterialRequirement><MaterialDefinitionID>P-{i % PARTS:02d}</MaterialDefinitionID><MaterialUse>"
               "Produced</MaterialUse><Quantity><QuantityString>0.1E1</QuantityString></Quantity>"
               "</MaterialRequirement>" if s == segments - 1 else "")
            + "</SegmentRequirement>" for s in range(segments))
        requests.append(f"<OperationsRequest><ID>{prefix}-{i:05d}</ID><StartTime>2027-01-04T06:00:00Z</StartTime>"
                        f"<EndTime>2027-01-29T16:00:00Z</EndTime><Priority>{1 + i % 9}</Priority>{ops}"
                        "</OperationsRequest>")
    return (f'<ProcessOperationsSchedule xmlns="{NS}" releaseID="1.0"><ApplicationArea><Sender><LogicalID>ERP'
            f"</LogicalID></Sender><CreationDateTime>2027-01-01T00:00:00Z</CreationDateTime><BODID>{bod}</BODID>"
            f"</ApplicationArea><DataArea><Process/><OperationsSchedule><ID>{prefix}</ID>{''.join(requests)}"
            "</OperationsSchedule></DataArea></ProcessOperationsSchedule>").encode()


def post(url, body, token):
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/xml", "Authorization": token})
    with urllib.request.urlopen(request, timeout=120) as answer:
        return answer.status, answer.read()


def run_order(wo, work_order_id):
    order = wo.release_work_order(work_order_id)
    for op in order["operations"]:
        wo.start_operation(work_order_id, op["id"], {})
        done = wo.complete_operation(work_order_id, op["id"], {"good": 1})
    return done


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"requests": 100, "latency": 5, "throughput": 20},
                      requests=(int, 1000, "production requests in the import schedule (10 segments each)"),
                      imports=(int, 3, "imports timed (each a new schedule)"),
                      latency=(int, 30, "orders run one at a time for the completion → delivery latency"),
                      throughput=(int, 200, "documents queued while the endpoint is paused, then delivered"))
    print(f"bench/integration.py — B2MML in, performance documents out ({machine_line()})")
    from mes_common.rpc import ClusterRpcProxy

    with BenchEnv("integration", keep=args.keep) as env:
        for name in SERVICES:
            env.create_database(name, name)
        overrides = {"STANDARDS_DIR": str(STANDARDS), "RPC_TIMEOUT": 60,
                     "INTEGRATION": {"SECRETS_KEY_FILE": str(env.tmp / "integration.key"), "GENERATE_KEYS": True,
                                     "RETRY_BASE": 1, "RETRY_MAX": 5, "PARK_AFTER": 3600, "READ_TIMEOUT": 15}}
        cfg = env.write_config("services", **overrides)
        for name, target in SERVICES.items():
            env.start(name, target, cfg)
        for name in SERVICES:
            env.wait_rpc(name)
        port = free_port()
        gateway_cfg = env.write_config("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", **overrides)
        env.start("gateway", "gateway.service:Gateway", gateway_cfg)
        base = f"http://127.0.0.1:{port}"
        env.wait_http(f"{base}/health")
        token = bearer(env.config(), permissions=["integration:write", "integration:read"], name="erp")
        receiver = Receiver()
        log("services, gateway and the receiver up")

        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=120) as cluster:
            r, m, wo, integration = (cluster.resource_service, cluster.material_service,
                                     cluster.work_order_service, cluster.integration_service)
            ent = r.create_node({"level": "enterprise", "code": "ACME", "name": "Acme"})
            site = r.create_node({"level": "site", "code": "TLS", "name": "Toulouse", "parent_id": ent["id"]})
            area = r.create_node({"level": "area", "code": "MACH", "name": "Machining", "parent_id": site["id"]})
            for i in range(WORK_CENTERS):
                r.create_node({"level": "work_center", "code": f"WC-{i:02d}", "name": f"Cell {i}",
                               "parent_id": area["id"]})
            for i in range(PARTS):
                m.create_part({"part_number": f"P-{i:02d}", "name": f"Part {i}", "type": "manufactured"})
            erp = integration.create_endpoint({"name": "ERP", "kind": "b2mml", "nouns": ["OperationsPerformance"],
                                               "url": f"http://127.0.0.1:{receiver.port}/erp"})

            # -- import
            post(f"{base}/api/v1/integration/b2mml", schedule("WARM", 20, 10, "warm"), token)   # warm-up
            wait_quiet(max_wait=5 if args.quick else 20)
            seconds, size = [], 0
            for run in range(args.imports):
                body = schedule(f"S{run}", args.requests, 10, f"bod-{run}")
                size = len(body)
                t0 = time.perf_counter()
                status, answer = post(f"{base}/api/v1/integration/b2mml", body, token)
                seconds.append(time.perf_counter() - t0)
                assert status == 200 and b'actionCode="Accepted"' in answer, answer[:500]
                made = wo.find_work_orders({"numbers": [f"S{run}-{i:05d}" for i in range(args.requests)]})
                assert len(made) == args.requests, len(made)
                log(f"import {run + 1}: {args.requests} orders in {seconds[-1]:.2f} s")
            sample = wo.get_work_order(made[0]["id"])
            assert len(sample["planned_operations"]) == 10

            # -- latency: completion → document delivered
            post(f"{base}/api/v1/integration/b2mml", schedule("L", args.latency + args.throughput, 2, "lat"), token)
            numbers = [f"L-{i:05d}" for i in range(args.latency + args.throughput)]
            ids = {o["number"]: o["id"] for o in wo.find_work_orders({"numbers": numbers})}
            latencies = []
            for number in numbers[:args.latency]:
                run_order(wo, ids[number])
                done = time.perf_counter()
                latencies.append(receiver.wait([number], 30) - done)

            # -- throughput: queued while paused, then delivered
            integration.update_endpoint(erp["id"], {"active": False})
            batch = numbers[args.latency:]
            for number in batch:
                run_order(wo, ids[number])
            deadline = time.monotonic() + 60
            while integration.get_endpoint(erp["id"])["pending"] < len(batch):
                assert time.monotonic() < deadline, "documents not queued"
                time.sleep(0.1)
            wait_quiet(max_wait=5 if args.quick else 20)
            t0 = time.perf_counter()
            integration.update_endpoint(erp["id"], {"active": True})
            last = receiver.wait(batch, 300)
            elapsed = last - t0
            delivered = integration.list_messages({"endpoint_id": erp["id"], "status": "delivered", "limit": 500})

        s = summary_ms(seconds)
        lat = summary_ms(latencies)
        table(["measure", "n", "p50 ms", "p99 ms", "max ms"],
              [[f"import {args.requests} × 10 segments ({size / 1e6:.1f} MB)", s["n"], s["p50"], s["p99"], s["max"]],
               ["completion → performance document delivered", lat["n"], lat["p50"], lat["p99"], lat["max"]]],
              title="ERP integration end to end")
        print(f"throughput: {len(batch)} performance documents made, validated and delivered in {elapsed:.2f} s "
              f"= {len(batch) / elapsed:.0f} documents/s ({len(delivered['items'])} logged delivered)")
        goal(f"import of {args.requests} requests × 10 segments (slowest of {s['n']})", max(seconds), "<=", 10, "s")


if __name__ == "__main__":
    main()
