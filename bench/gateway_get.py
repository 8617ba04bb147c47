"""(b) Gateway GET of one work center at 10 concurrent keep-alive connections.

Processes (each a real `nameko run`): the resource service (throwaway
database built by its migrations), the real Gateway, and a stand-in "plain"
gateway on another port: a stock nameko `@http` handler calling the same
resource service's `get_node` through a stock `RpcProxy` (the baseline of
the RPC path). An enterprise > site > area > work center chain is created
through the real gateway first.

Paths, each loaded for a fixed duration per round, order rotated every round:

    rpc     GET /api/v1/resource/nodes/<wc>           real gateway -> RPC get_node -> PostgreSQL
    cache   GET /api/v1/resource/nodes/<wc>/summary   real gateway -> Redis reference cache (hit)
    health  GET /health                               real gateway, no RPC (same process)
    plain   GET /api/v1/resource/nodes/<wc>           stock nameko @http -> RpcProxy -> get_node

Load generator: wrk (1 thread, 10 connections, keep-alive) when installed,
else a Python client (threads + http.client keep-alive) in its own process.
Every request carries an access token (`Authorization: Bearer`, signed with
the run's key): the real gateway authenticates and authorizes each /api/v1
request (the token's signature once, then its cached principal and a lookup
in the in-memory copy of the revocation list); the plain gateway ignores the
header.

Goals (issue 2): rpc rps / plain rps >= 1.0; cache rps / health rps >= 0.6.
"""
import json
import urllib.request

from _common import (BackingCpu, BenchEnv, MachineCpu, backing_line, combine_loads, cpu_line, free_port, goal,
                     http_load, interleaved_rounds, load_generator, log, machine_line, parse_args, ratio, table,
                     wait_quiet)

from auth_service.testing import bearer

PLAIN_GATEWAY = '''
import json

from nameko.rpc import RpcProxy
from nameko.web.handlers import http


class PlainGateway:
    """The textbook nameko gateway handler: @http -> RpcProxy -> JSON."""
    name = "plain_gateway"
    resource = RpcProxy("resource_service")

    @http("GET", "/api/v1/resource/nodes/<node_id>")
    def get_node(self, request, node_id):
        return 200, {"Content-Type": "application/json"}, json.dumps(self.resource.get_node(node_id))
'''

CONNECTIONS = 10
PATHS = ("rpc", "cache", "health", "plain")
LABELS = {
    "rpc": "gateway RPC path  GET /nodes/<id>",
    "cache": "gateway cache     GET /nodes/<id>/summary",
    "health": "gateway no-RPC    GET /health",
    "plain": "plain nameko @http->RpcProxy /nodes/<id>",
}


def http_json(method, url, authorization, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Authorization": authorization})
    with urllib.request.urlopen(req, timeout=15) as resp:
        return resp.status, json.loads(resp.read() or b"null")


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"duration": 3.0, "rounds": 1},
                      duration=(float, 8.0, "seconds per path per round"),
                      rounds=(int, 3, "interleaved rounds"))
    client = load_generator(CONNECTIONS)
    print(f"bench/gateway_get.py — gateway GET at {CONNECTIONS} connections ({machine_line()})")
    print(f"load generator: {client}; {args.rounds} round(s) x {args.duration:g} s per path")

    with BenchEnv("gateway_get", keep=args.keep) as env:
        env.create_database("resource_service", "resource_service")
        env.write_module("plain_gateway", PLAIN_GATEWAY)
        gw_port, plain_port = free_port(), free_port()
        svc_cfg = env.write_config("resource")
        gw_cfg = env.write_config("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{gw_port}")
        plain_cfg = env.write_config("plain_gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{plain_port}")
        procs = {
            "resource_service": env.start("resource_service", "resource_service.service:ResourceService", svc_cfg),
            "gateway": env.start("gateway", "gateway.service:Gateway", gw_cfg),
            "plain_gateway": env.start("plain_gateway", "plain_gateway:PlainGateway", plain_cfg),
        }
        env.wait_rpc("resource_service")
        gw, plain = f"http://127.0.0.1:{gw_port}", f"http://127.0.0.1:{plain_port}"
        env.wait_http(gw + "/health")
        env.wait_http(plain + "/api/v1/resource/nodes/00000000-0000-0000-0000-000000000000")
        log("resource service, gateway and plain gateway up")

        authorization = bearer(env.config())  # every permission
        parent = None
        for level, code in (("enterprise", "ACME"), ("site", "TLS"), ("area", "MACH"), ("work_center", "WC-10")):
            status, node = http_json("POST", gw + "/api/v1/resource/nodes", authorization,
                                     {"level": level, "code": code, "name": f"{level} {code}",
                                      "parent_id": parent})
            assert status == 201, (status, node)
            parent = node["id"]
        wc = parent
        urls = {
            "rpc": f"{gw}/api/v1/resource/nodes/{wc}",
            "cache": f"{gw}/api/v1/resource/nodes/{wc}/summary",
            "health": f"{gw}/health",
            "plain": f"{plain}/api/v1/resource/nodes/{wc}",
        }
        for path, url in urls.items():  # each answers 200 (and the summary is now cached)
            status, body = http_json("GET", url, authorization)
            assert status == 200, (path, status, body)
        log(f"work center {wc} created; every path answers 200")

        def load(url, duration):
            return http_load(url, duration, CONNECTIONS, [f"Authorization: {authorization}"])

        cpu_pids = {"rpc": ("gateway", "resource_service"), "cache": ("gateway",), "health": ("gateway",),
                    "plain": ("plain_gateway", "resource_service")}
        wait_quiet(max_wait=10 if args.quick else 30)
        log("warm-up")
        for path in PATHS:
            load(urls[path], 2)
        machine = MachineCpu().start().track([p.pid for p in procs.values()])
        backing = BackingCpu().start()
        results, cpu = interleaved_rounds(PATHS, args.rounds, lambda path: load(urls[path], args.duration),
                                          lambda path: {n: procs[n].pid for n in cpu_pids[path]})
        busy, ours = machine.stop()
        backing_usage = backing.stop()

    agg = {}
    for path, runs in results.items():
        agg[path] = combined = combine_loads(runs)
        requests = combined["requests"]
        combined["cpu_gw"] = cpu[path].get(cpu_pids[path][0], 0.0) / requests * 1e6 if requests else float("nan")
        combined["cpu_rs"] = (cpu[path]["resource_service"] / requests * 1e6 if requests else float("nan")) \
            if "resource_service" in cpu[path] else "-"
    rows = [(LABELS[p], agg[p]["rps"], agg[p]["p50"], agg[p]["p99"], agg[p]["max"], agg[p]["requests"],
             agg[p]["errors"], agg[p]["cpu_gw"], agg[p]["cpu_rs"], agg[p]["rounds_rps"]) for p in PATHS]
    table(["path", "req/s", "p50 ms", "p99 ms", "max ms", "requests", "errors", "gw CPU us/req",
           "svc CPU us/req", "req/s per round"],
          rows, title=f"Gateway GET, {CONNECTIONS} connections, {client}")
    print("gw CPU: CPU of the (real or plain) gateway process per request; svc CPU: of the resource service")
    print(cpu_line(busy, ours, "measured rounds"))
    print(backing_line(backing_usage))
    print()
    goal("gateway RPC path rps / plain nameko http->RPC rps", ratio(agg["rpc"]["rps"], agg["plain"]["rps"]), ">=", 1.0)
    goal("gateway cached path rps / no-RPC handler rps", ratio(agg["cache"]["rps"], agg["health"]["rps"]), ">=", 0.6)
    print(f"INFO p50 ratio rpc/plain {ratio(agg['rpc']['p50'], agg['plain']['p50']):.3f}, "
          f"p99 ratio rpc/plain {ratio(agg['rpc']['p99'], agg['plain']['p99']):.3f}; "
          f"p50 ratio cache/health {ratio(agg['cache']['p50'], agg['health']['p50']):.3f}")


if __name__ == "__main__":
    main()
