"""(issue 12) Inspection results and SPC through the real gateway.

Processes (each a real `nameko run`, throwaway databases built by the
migrations): the material and quality services and the gateway. Every
request carries an access token with every permission.

    results, one per request   1,000 results of a 50-characteristic inspection
                               (40 measured, 10 pass/fail; 20 samples each), one
                               POST /inspections/<id>/results per sample, back to back
    results, one batch         the same 1,000 results in one POST (a fresh inspection per round)
    X-bar/R chart              10,000 subgroups of 5 (50,000 results, recorded in batches of
                               10,000), limits, every Nelson rule, capability:
                               - in the service: the use case the RPC runs (read + compute),
                                 in this process on the service's database
                               - through the gateway: GET /spc/chart?limit=10000 (JSON, ~2 MB)
    result on a charted subgroup  one result completing a subgroup of a characteristic with
                               frozen limits (the judging of its point included), one per request

Goal (issue 12): the X-bar/R chart of 10,000 subgroups with run rules in <= 200 ms in the service.
"""
import json
import time
import urllib.error
import urllib.request

import numpy as np
from _common import BenchEnv, free_port, goal, log, machine_line, parse_args, summary_ms, table, wait_quiet

from auth_service.testing import bearer
from mes_common.rpc import ClusterRpcProxy

SERVICES = {"material_service": "material_service.service:MaterialService",
            "quality_service": "quality_service.service:QualityService"}
API = "/api/v1"


class Client:
    def __init__(self, base, authorization):
        self.base, self.authorization = base, authorization

    def call(self, method, path, body=None, expect=(200, 201)):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + API + path, data=data, method=method, headers={
            "Content-Type": "application/json", "Authorization": self.authorization})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                payload = response.read()
        except urllib.error.HTTPError as refused:
            raise SystemExit(f"{method} {path}: {refused.code} {refused.read()[:500]!r}") from None
        assert response.status in expect, (response.status, payload[:300])
        return json.loads(payload or b"null"), len(payload)

    def post(self, path, body):
        return self.call("POST", path, body)[0]


def characteristics(count, measured):
    out = []
    for number in range(1, count + 1):
        if number <= measured:
            out.append({"number": number, "name": f"Dimension {number}", "kind": "variable", "criticality": "major",
                        "nominal": 10, "lower_tolerance": -0.05, "upper_tolerance": 0.05, "unit": "mm",
                        "subgroup_size": 5, "sampling": {"method": "all"}})
        else:
            out.append({"number": number, "name": f"Check {number}", "kind": "attribute", "criticality": "minor",
                        "sampling": {"method": "all"}})
    return out


def results_of(count, measured, samples, rng):
    out = []
    for sample in range(1, samples + 1):
        for number in range(1, count + 1):
            out.append({"characteristic": number, "sample": sample, "value": round(float(rng.normal(10, 0.005)), 4)}
                       if number <= measured else {"characteristic": number, "sample": sample, "passed": True})
    return out


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"rounds": 1, "subgroups": 2000, "repeats": 5},
                      rounds=(int, 3, "batch rounds"), subgroups=(int, 10_000, "subgroups on the chart"),
                      repeats=(int, 20, "chart computations measured"))
    print(f"bench/quality.py — inspection results and SPC through the gateway ({machine_line()})")
    rng = np.random.default_rng(12)
    with BenchEnv("quality", keep=args.keep) as env:
        env.start_services(SERVICES)
        port = free_port()
        env.start("gateway", "gateway.service:Gateway",
                  env.write_config("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}"))
        env.wait_http(f"http://127.0.0.1:{port}/health")
        api = Client(f"http://127.0.0.1:{port}", bearer(env.config()))
        log("material and quality services and the gateway up")

        part = api.post("/material/parts", {"part_number": "BENCH-1", "name": "Housing", "type": "purchased",
                                            "lot_controlled": True})
        stores = api.post("/material/locations", {"code": "RCV", "name": "Receiving"})

        def plan(number, chars):
            created = api.post("/quality/plans", {"plan_number": number, "title": number, "part_id": part["id"],
                                                  "part_revision": "A", "characteristics": chars})
            # released by the operators' login: through the gateway a person signs it (not measured here)
            with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=60) as cluster:
                return cluster.quality_service.release_plan(created["id"], {"version": created["version"]})

        def inspection(plan_number, quantity):
            lot = api.post("/material/lots", {"part_id": part["id"], "quantity": quantity,
                                              "location_id": stores["id"]})
            return api.post("/quality/inspections", {"plan_number": plan_number, "lot_id": lot["id"]})["id"]

        plan("IP-50", characteristics(50, 40))
        wait_quiet(max_wait=5 if args.quick else 20)

        # -- 1,000 results, one request per sample
        target = inspection("IP-50", 20)
        one_by_one = results_of(50, 40, 20, rng)
        log("per-sample requests")
        seconds, started = [], time.perf_counter()
        for result in one_by_one:
            t0 = time.perf_counter()
            api.post(f"/quality/inspections/{target}/results", {"results": [result]})
            seconds.append(time.perf_counter() - t0)
        per_sample_total = time.perf_counter() - started
        per_sample = summary_ms(seconds)

        # -- the same, one batch per inspection
        log("batches")
        batch = []
        for _ in range(args.rounds):
            target = inspection("IP-50", 20)
            body = {"results": results_of(50, 40, 20, rng)}
            t0 = time.perf_counter()
            api.post(f"/quality/inspections/{target}/results", body)
            batch.append(time.perf_counter() - t0)
        batch_ms = summary_ms(batch)

        # -- the chart of 10,000 subgroups
        plan("IP-SPC", [{**characteristics(1, 1)[0], "spc": {"rules": "nelson"}}])
        log(f"recording {args.subgroups * 5:,} results for the chart")
        remaining = args.subgroups * 5
        while remaining:
            size = min(remaining, 10_000)
            target = inspection("IP-SPC", size)
            values = rng.normal(10, 0.004, size)
            for start in range(0, size, 10_000):
                api.post(f"/quality/inspections/{target}/results", {"results": [
                    {"characteristic": 1, "sample": i + 1, "value": round(float(values[i]), 4)}
                    for i in range(start, min(size, start + 10_000))]})
            remaining -= size

        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        from quality_service.spc import use_cases as spc
        engine = create_engine(env.databases["quality_service"])
        query = {"plan_number": "IP-SPC", "characteristic": 1, "chart": "xbar_r", "limit": args.subgroups,
                 "since": None}
        wait_quiet(max_wait=5 if args.quick else 20)
        in_service, reading, computing = [], [], []
        with Session(engine) as session:
            spc.chart(session, query)   # warm: connections, factors of n = 5
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                out = spc.chart(session, query)
                in_service.append(time.perf_counter() - t0)
                plan_row, characteristic = spc.characteristic_of(session, "IP-SPC", 1)
                t0 = time.perf_counter()
                series, meta = spc.read(session, "IP-SPC", characteristic, "xbar_r", args.subgroups)
                t1 = time.perf_counter()
                spc._chart_view(session, plan_row, characteristic, "xbar_r", series, meta)
                reading.append(t1 - t0)
                computing.append(time.perf_counter() - t1)
                session.rollback()
        assert len(out["points"]) == args.subgroups, len(out["points"])
        gateway_chart, size = [], 0
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            _, size = api.call("GET", f"/quality/spc/chart?plan_number=IP-SPC&characteristic=1&limit={args.subgroups}")
            gateway_chart.append(time.perf_counter() - t0)

        # -- results judged against frozen limits
        api.post("/quality/spc/limits", {"plan_number": "IP-SPC", "characteristic": 1, "baseline": 100,
                                         "reason": "bench baseline"})
        target = inspection("IP-SPC", 500)
        judged = []
        for sample, value in enumerate(rng.normal(10, 0.004, 500), start=1):
            t0 = time.perf_counter()
            api.post(f"/quality/inspections/{target}/results",
                     {"results": [{"characteristic": 1, "sample": sample, "value": round(float(value), 4)}]})
            judged.append(time.perf_counter() - t0)
        judged_ms = summary_ms(judged[4::5])   # the results that complete a subgroup

    chart_ms, read_ms, compute_ms = summary_ms(in_service), summary_ms(reading), summary_ms(computing)
    gateway_ms = summary_ms(gateway_chart)
    table(["measure", "n", "p50 ms", "p99 ms", "max ms", "per second"], [
        ("1,000 results, one request per sample", per_sample["n"], per_sample["p50"], per_sample["p99"],
         per_sample["max"], len(one_by_one) / per_sample_total),
        ("1,000 results in one request", batch_ms["n"], batch_ms["p50"], batch_ms["p99"], batch_ms["max"],
         1000 / (batch_ms["p50"] / 1000)),
        ("result completing a charted subgroup", judged_ms["n"], judged_ms["p50"], judged_ms["p99"],
         judged_ms["max"], 1000 / judged_ms["p50"]),
    ], title="recording results through the gateway (per second: results)")
    table(["X-bar/R chart, Nelson rules", "n", "p50 ms", "p99 ms", "max ms"], [
        (f"in the service: {args.subgroups:,} subgroups", chart_ms["n"], chart_ms["p50"], chart_ms["p99"],
         chart_ms["max"]),
        ("  of which reading the subgroups", read_ms["n"], read_ms["p50"], read_ms["p99"], read_ms["max"]),
        ("  of which limits, rules, capability, points", compute_ms["n"], compute_ms["p50"], compute_ms["p99"],
         compute_ms["max"]),
        (f"through the gateway ({size / 1e6:.1f} MB JSON)", gateway_ms["n"], gateway_ms["p50"], gateway_ms["p99"],
         gateway_ms["max"]),
    ], title=f"control chart of {args.subgroups:,} subgroups of 5")
    print()
    print(f"1,000 results: one batch is {per_sample_total * 1000 / batch_ms['p50']:.0f}x faster than one request "
          f"per sample ({per_sample_total:.1f} s against {batch_ms['p50'] / 1000:.2f} s)")
    goal(f"X-bar/R chart of {args.subgroups:,} subgroups in the service p50", chart_ms["p50"], "<=", 200, " ms")


if __name__ == "__main__":
    main()
