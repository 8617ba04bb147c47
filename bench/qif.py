"""(issue 13) Importing a QIF 3.0 results file of 5,000 characteristic measurements.

Processes (each a real `nameko run`, throwaway databases built by the
migrations): the material and quality services and the gateway. The file is
generated as a CMM would write it: the plan of 50 characteristics (40
measured, 10 pass/fail) and one MeasurementResults per part of a lot of 100,
so 5,000 measurements (~2 MB). Each round imports a fresh file for a fresh
lot: POST /api/v1/quality/qif/results, which checks it against the official
QIF schema, matches every measurement to its characteristic, opens the
inspection, records the 5,000 results with their verdicts and keeps the
document. Measured in this process too: the parse and schema check alone.

Goal (issue 13): the import of the 5,000-measurement file in <= 2 s.
"""
import json
import os
import time
import urllib.error
import urllib.request

import numpy as np
from _common import BenchEnv, goal, log, machine_line, parse_args, summary_ms, table, wait_quiet
from quality import SERVICES, Client, characteristics

from auth_service.testing import bearer
from mes_common.rpc import ClusterRpcProxy
from quality_service.qif import reader, use_cases
from quality_service.testing import qif_results

STANDARDS = os.environ.get("STANDARDS_DIR") or os.path.abspath("../shared/standards")


def document(plan, parts, rng):
    samples = []
    for _ in range(parts):
        sample = {}
        for c in plan["characteristics"]:
            if c["kind"] == "variable":
                value = round(float(rng.normal(10, 0.01)), 4)
                sample[c["number"]] = [(value, "mm", abs(value - 10) <= 0.05)]
            else:
                sample[c["number"]] = [(None, None, True)]
        samples.append(sample)
    return qif_results(plan, samples)


def upload(base, authorization, path, body):
    request = urllib.request.Request(base + path, data=body.encode(), method="POST", headers={
        "Content-Type": "application/xml", "Authorization": authorization})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        raise SystemExit(f"POST {path}: {refused.code} {refused.read()[:500]!r}") from None


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"rounds": 2}, rounds=(int, 5, "imports measured"),
                      parts=(int, 100, "parts (results instances) per file"))
    print(f"bench/qif.py — QIF results import through the gateway ({machine_line()})")
    os.environ.setdefault("STANDARDS_DIR", STANDARDS)
    rng = np.random.default_rng(13)
    with BenchEnv("qif", keep=args.keep) as env:
        base = env.start_behind_gateway(SERVICES)
        authorization = bearer(env.config())
        api = Client(base, authorization)
        log("material and quality services and the gateway up")
        part = api.post("/material/parts", {"part_number": "CMM-1", "name": "Housing", "type": "purchased",
                                            "lot_controlled": True})
        stores = api.post("/material/locations", {"code": "CMM", "name": "CMM room"})
        created = api.post("/quality/plans", {"plan_number": "IP-CMM", "title": "Housing, CMM", "part_id": part["id"],
                                              "part_revision": "A", "characteristics": characteristics(50, 40)})
        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=60) as cluster:
            plan = cluster.quality_service.release_plan(created["id"], {"version": created["version"]})

        files = [document(plan, args.parts, rng) for _ in range(args.rounds + 1)]
        measurements = sum(len(i["measured"]) for i in reader.measurements(use_cases.parse(files[0], STANDARDS)))
        log(f"{len(files)} files of {measurements:,} measurements, {len(files[0]) / 1e6:.1f} MB each")
        parsing = []
        for body in files:
            t0 = time.perf_counter()
            use_cases.parse(body, STANDARDS)
            parsing.append(time.perf_counter() - t0)
        wait_quiet(max_wait=5 if args.quick else 20)

        imports = []
        for index, body in enumerate(files):
            lot = api.post("/material/lots", {"part_id": part["id"], "quantity": args.parts,
                                              "location_id": stores["id"]})
            t0 = time.perf_counter()
            status, answer = upload(base, authorization,
                                    f"/api/v1/quality/qif/results?plan_number=IP-CMM&lot_id={lot['id']}", body)
            if index:   # the first warms the schema and the connections
                imports.append(time.perf_counter() - t0)
            assert status == 201 and json.loads(answer)["results"] == measurements, answer[:300]

    imported, parsed = summary_ms(imports), summary_ms(parsing[1:])
    table(["measure", "n", "p50 ms", "p99 ms", "max ms", "measurements/s"], [
        (f"import of {measurements:,} measurements (gateway)", imported["n"], imported["p50"], imported["p99"],
         imported["max"], measurements / (imported["p50"] / 1000)),
        ("  of which parse + schema check (lxml)", parsed["n"], parsed["p50"], parsed["p99"], parsed["max"],
         measurements / (parsed["p50"] / 1000)),
    ], title=f"QIF results file: {args.parts} parts x 50 characteristics")
    goal(f"import of a {measurements:,}-measurement QIF results file p50", imported["p50"] / 1000, "<=", 2, " s")


if __name__ == "__main__":
    main()
