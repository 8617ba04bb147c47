"""(issue 13) Generating the FAIR of an assembly: 40 detail parts, 300 characteristics.

Processes (each a real `nameko run`, throwaway databases built by the
migrations): the resource, material and quality services and the gateway.
The first article is an assembly serial with 40 detail serials assembled
into it (genealogy), each of another part; its final inspection plan has 300
characteristics (250 measured, 50 pass/fail), all recorded on the serial.
Each round makes a new FAIR of it through POST /api/v1/quality/fai: the serial,
its genealogy and the 40 detail parts with their FAIRs, the plans of the
part revision and the first article's 300 results laid out as form 3. Then
the same FAIR as the printable page, the PDF and the workbook.

Goal (issue 13): none stated; the figures are reported.
"""
import time
import urllib.request

import numpy as np
from _common import BenchEnv, log, machine_line, parse_args, summary_ms, table, wait_quiet
from quality import Client

from auth_service.testing import bearer
from mes_common.rpc import ClusterRpcProxy

SERVICES = {"resource_service": "resource_service.service:ResourceService",
            "material_service": "material_service.service:MaterialService",
            "quality_service": "quality_service.service:QualityService"}


def characteristics(count, measured):
    return [{"number": n, "name": f"Dimension {n}", "kind": "variable", "criticality": "major", "nominal": 10,
             "lower_tolerance": -0.05, "upper_tolerance": 0.05, "unit": "mm", "drawing_zone": f"{'ABCD'[n % 4]}{n % 8}"}
            if n <= measured else {"number": n, "name": f"Check {n}", "kind": "attribute", "criticality": "minor"}
            for n in range(1, count + 1)]


def main():
    args = parse_args(__doc__.splitlines()[0], quick={"rounds": 3}, rounds=(int, 10, "FAIRs made"),
                      details=(int, 40, "detail parts"), count=(int, 300, "characteristics"))
    print(f"bench/fai.py — FAIR of an assembly through the gateway ({machine_line()})")
    rng = np.random.default_rng(13)
    with BenchEnv("fai", keep=args.keep) as env:
        base = env.start_behind_gateway(SERVICES)
        authorization = bearer(env.config())
        api = Client(base, authorization)
        log("resource, material and quality services and the gateway up")

        assembly = api.post("/material/parts", {"part_number": "ASSY-1", "name": "Flap actuator", "type": "assembly",
                                                "serial_controlled": True})
        top = api.post("/material/serials", {"part_id": assembly["id"], "serial_numbers": ["ASSY-0001"]})["serials"][0]
        for index in range(1, args.details + 1):
            detail = api.post("/material/parts", {"part_number": f"DET-{index:02d}", "name": f"Detail {index}",
                                                  "type": "manufactured", "serial_controlled": True})
            child = api.post("/material/serials", {"part_id": detail["id"],
                                                   "serial_numbers": [f"DET-{index:02d}-0001"]})["serials"][0]
            api.post("/material/assemblies", {"parent": {"serial_id": top["id"]}, "child": {"serial_id": child["id"]},
                                              "idempotency_key": f"bench-{index}"})
        created = api.post("/quality/plans", {"plan_number": "IP-ASSY-1", "title": "Actuator final",
                                              "part_id": assembly["id"], "part_revision": "A",
                                              "characteristics": characteristics(args.count, args.count * 5 // 6)})
        with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=60) as cluster:
            cluster.quality_service.release_plan(created["id"], {"version": created["version"]})
        inspection = api.post("/quality/inspections", {"plan_number": "IP-ASSY-1", "serial_id": top["id"],
                                                       "kind": "final"})
        api.post(f"/quality/inspections/{inspection['id']}/results", {"results": [
            {"characteristic": c["number"], "sample": 1, "value": round(float(rng.normal(10, 0.01)), 4)}
            if c["kind"] == "variable" else {"characteristic": c["number"], "sample": 1, "passed": True}
            for c in characteristics(args.count, args.count * 5 // 6)]})
        log(f"assembly with {args.details} detail parts, {args.count} characteristics measured")
        wait_quiet(max_wait=5 if args.quick else 20)

        made, pages, pdfs, books, fair = [], [], [], [], None
        for index in range(args.rounds + 1):
            t0 = time.perf_counter()
            fair = api.post("/quality/fai", {"serial_id": top["id"], "organization": "Acme Aero"})
            if index:   # the first warms the caches and connections
                made.append(time.perf_counter() - t0)
        assert len(fair["form3"]) == args.count and len(fair["detail_parts"]) == args.details, fair["open_items"][:3]
        for path, seconds in ((f"/api/v1/quality/fai/{fair['id']}/report.html", pages),
                              (f"/api/v1/quality/fai/{fair['id']}/report.pdf", pdfs),
                              (f"/api/v1/quality/fai/{fair['id']}/report.xlsx", books)):
            for _ in range(args.rounds):
                request = urllib.request.Request(base + path, headers={"Authorization": authorization})
                t0 = time.perf_counter()
                with urllib.request.urlopen(request, timeout=120) as response:
                    size = len(response.read())
                seconds.append((time.perf_counter() - t0, size))

    made_ms = summary_ms(made)
    page_ms, book_ms = summary_ms([s for s, _ in pages]), summary_ms([s for s, _ in books])
    pdf_ms = summary_ms([s for s, _ in pdfs])
    table(["measure", "n", "p50 ms", "p99 ms", "max ms"], [
        (f"FAIR made: {args.details} detail parts, {args.count} characteristics", made_ms["n"], made_ms["p50"],
         made_ms["p99"], made_ms["max"]),
        (f"  its printable page ({pages[-1][1] / 1e3:.0f} kB HTML)", page_ms["n"], page_ms["p50"], page_ms["p99"],
         page_ms["max"]),
        (f"  its PDF ({pdfs[-1][1] / 1e3:.0f} kB)", pdf_ms["n"], pdf_ms["p50"], pdf_ms["p99"], pdf_ms["max"]),
        (f"  its workbook ({books[-1][1] / 1e3:.0f} kB XLSX)", book_ms["n"], book_ms["p50"], book_ms["p99"],
         book_ms["max"]),
    ], title="First Article Inspection Report of an assembly (through the gateway)")


if __name__ == "__main__":
    main()
