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

Goals (issue 2): rpc rps / plain rps >= 1.0; cache rps / health rps >= 0.6.
"""
import json
import shutil
import subprocess
import sys
import time
import urllib.request

from _common import (BackingCpu, BenchEnv, MachineCpu, backing_line, cpu_line, cpu_seconds,
                     free_port, goal, log, machine_line, parse_args, ratio, table, wait_quiet)

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

WRK_LUA = '''
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
'''

PY_CLIENT = r'''
import http.client, json, sys, threading, time
from urllib.parse import urlsplit
url, conns, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
parts = urlsplit(url)
lat, errors, non2xx = [], [0], [0]
lock = threading.Lock()
start = time.perf_counter(); stop_at = start + duration
def worker():
    c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    mine = []
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        try:
            c.request("GET", parts.path)
            r = c.getresponse(); r.read()
            if not 200 <= r.status < 300:
                with lock: non2xx[0] += 1
        except Exception:
            with lock: errors[0] += 1
            c.close(); c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            continue
        mine.append(time.perf_counter() - t0)
    with lock: lat.extend(mine)
ts = [threading.Thread(target=worker) for _ in range(conns)]
[t.start() for t in ts]; [t.join() for t in ts]
elapsed = time.perf_counter() - start
lat.sort()
def pct(q): return lat[min(len(lat) - 1, max(0, int(round(q / 100 * len(lat))) - 1))] * 1e6 if lat else 0
print("WRKJSON " + json.dumps({"requests": len(lat), "duration_us": elapsed * 1e6, "errors": errors[0],
      "non2xx": non2xx[0], "p50_us": pct(50), "p90_us": pct(90), "p99_us": pct(99),
      "max_us": lat[-1] * 1e6 if lat else 0, "mean_us": sum(lat) / len(lat) * 1e6 if lat else 0}))
'''

CONNECTIONS = 10
PATHS = ("rpc", "cache", "health", "plain")
LABELS = {
    "rpc": "gateway RPC path  GET /nodes/<id>",
    "cache": "gateway cache     GET /nodes/<id>/summary",
    "health": "gateway no-RPC    GET /health",
    "plain": "plain nameko @http->RpcProxy /nodes/<id>",
}


def http_json(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=15) as resp:
        return resp.status, json.loads(resp.read() or b"null")


def main():
    args = parse_args(__doc__.splitlines()[0],
                      duration=(float, 8.0, "seconds per path per round"),
                      rounds=(int, 3, "interleaved rounds"))
    if args.quick:
        args.duration, args.rounds = 3.0, 1
    wrk = shutil.which("wrk")
    client = f"wrk (-t1 -c{CONNECTIONS}, keep-alive)" if wrk else \
        f"Python client (threads + http.client keep-alive, {CONNECTIONS} connections, own process)"
    print(f"bench/gateway_get.py — gateway GET at {CONNECTIONS} connections ({machine_line()})")
    print(f"load generator: {client}; {args.rounds} round(s) x {args.duration:g} s per path")

    with BenchEnv("gateway_get", keep=args.keep) as env:
        env.create_database("resource_service", "resource_service")
        env.write_module("plain_gateway", PLAIN_GATEWAY)
        env.write_module("_pyload", PY_CLIENT)
        (env.tmp / "report.lua").write_text(WRK_LUA)
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

        parent = None
        for level, code in (("enterprise", "ACME"), ("site", "TLS"), ("area", "MACH"), ("work_center", "WC-10")):
            status, node = http_json("POST", gw + "/api/v1/resource/nodes",
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
            status, body = http_json("GET", url)
            assert status == 200, (path, status, body)
        log(f"work center {wc} created; every path answers 200")

        def load(url, duration):
            if wrk:
                cmd = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{duration:g}s", "--timeout", "5s",
                       "-s", str(env.tmp / "report.lua"), url]
            else:
                cmd = [sys.executable, str(env.tmp / "_pyload.py"), url, str(CONNECTIONS), str(duration)]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
            line = next((l for l in out.stdout.splitlines() if l.startswith("WRKJSON ")), None)
            if line is None:
                raise RuntimeError(f"load generator said:\n{out.stdout}\n{out.stderr}")
            return json.loads(line[len("WRKJSON "):])

        cpu_pids = {"rpc": ("gateway", "resource_service"), "cache": ("gateway",), "health": ("gateway",),
                    "plain": ("plain_gateway", "resource_service")}
        results = {p: [] for p in PATHS}
        cpu = {p: {} for p in PATHS}
        wait_quiet(max_wait=10 if args.quick else 30)
        log("warm-up")
        for path in PATHS:
            load(urls[path], 2)
        machine = MachineCpu().start().track([p.pid for p in procs.values()])
        backing = BackingCpu().start()
        for r in range(args.rounds):
            order = PATHS[r % len(PATHS):] + PATHS[:r % len(PATHS)]
            for path in order:
                before = {n: cpu_seconds(procs[n].pid) for n in cpu_pids[path]}
                results[path].append(load(urls[path], args.duration))
                for n, t in before.items():
                    cpu[path][n] = cpu[path].get(n, 0.0) + cpu_seconds(procs[n].pid) - t
            log(f"round {r + 1}/{args.rounds} done ({', '.join(order)})")
        busy, ours = machine.stop()
        backing_usage = backing.stop()

    agg = {}
    for path, runs in results.items():
        requests = sum(x["requests"] for x in runs)
        seconds = sum(x["duration_us"] for x in runs) / 1e6
        agg[path] = {
            "rps": requests / seconds,
            # per-round percentiles, combined: the median of the rounds' p50, the worst p99
            "p50": sorted(x["p50_us"] for x in runs)[len(runs) // 2] / 1000,
            "p99": max(x["p99_us"] for x in runs) / 1000,
            "max": max(x["max_us"] for x in runs) / 1000,
            "errors": sum(x["errors"] + x["non2xx"] for x in runs),
            "requests": requests,
            "cpu_gw": cpu[path].get(cpu_pids[path][0], 0.0) / requests * 1e6 if requests else float("nan"),
            "cpu_rs": (cpu[path]["resource_service"] / requests * 1e6 if requests else float("nan"))
            if "resource_service" in cpu[path] else "-",
            "rounds_rps": " ".join(f"{x['requests'] / (x['duration_us'] / 1e6):.0f}" for x in runs),
        }
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
