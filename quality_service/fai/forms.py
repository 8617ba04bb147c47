"""The three AS9102 Rev C forms of a FAIR, from what the MES knows. Pure: the
use cases gather the inputs (the plan and the first article's results, the
lots consumed and their certificates, the routing's special processes, the
buy-offs' test values) and these functions lay them out as the forms' rows.
"""
from decimal import Decimal

DESIGNATORS = {"critical": "Critical", "key": "Key"}   # AS9102 form 3, field 7: only these are designated


def number_text(value):
    """A value as people write it: 12, 12.5, -0.02 (no exponent, no trailing zeros)."""
    if value is None:
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return "0" if text in ("-0", "") else text


def requirement(c):
    """Form 3 field 8: the drawing's requirement in words: `12 ±0.02 mm`,
    `12 +0.02/-0.01 mm`, `≤ 0.25 mm` (a zone), or the attribute to check."""
    if c["kind"] != "variable":
        return f"{c['name']} ({'visual' if c['kind'] == 'visual' else 'pass/fail'})"
    nominal, lower, upper, unit = c["nominal"], c["lower_tolerance"], c["upper_tolerance"], c["unit"]
    if lower is None and upper is not None and Decimal(str(nominal)) == 0:
        return f"{c['name']}: ≤ {number_text(upper)} {unit}"
    if upper is None and lower is not None:
        return f"{c['name']}: ≥ {number_text(Decimal(str(nominal)) + Decimal(str(lower)))} {unit}"
    if lower is not None and upper is not None and Decimal(str(lower)) == -Decimal(str(upper)):
        return f"{c['name']}: {number_text(nominal)} ±{number_text(upper)} {unit}"
    signed = "/".join(f"{'+' if Decimal(str(t)) >= 0 else ''}{number_text(t)}" for t in (upper, lower) if t is not None)
    return f"{c['name']}: {number_text(nominal)} {signed} {unit}"


def _result_text(c, result):
    if c["kind"] == "variable":
        return f"{number_text(result['value'])} {c['unit']}"
    return "pass" if result["conforming"] else "fail"


def form3(characteristics, results, gauges, ncrs):
    """Characteristic accountability: one row per characteristic of the plans
    (CharacteristicOut with its `plan_number`). `results`: the first article's
    results (ResultOut with `plan_number`); `gauges`: {gauge id: {asset_number,
    calibration_status, next_due_on}}; `ncrs`: {(plan number, characteristic
    number): NCR number}."""
    by_number = {}
    for r in results:
        by_number.setdefault((r.get("plan_number") or "", r["characteristic"]), []).append(r)
    rows = []
    for c in sorted(characteristics, key=lambda c: (c.get("plan_number") or "", c["number"])):
        own = sorted(by_number.get((c.get("plan_number") or "", c["number"]), []), key=lambda r: r["sample"])
        tools = []
        for gauge_id in dict.fromkeys(r["gauge_id"] for r in own if r.get("gauge_id")):
            g = gauges.get(str(gauge_id)) or {}
            status = g.get("calibration_status") or "calibration unknown"
            due = f", due {g['next_due_on']}" if g.get("next_due_on") else ""
            tools.append(f"{g.get('asset_number') or gauge_id} ({status}{due})")
        tools += sorted({r["gauge_number"] for r in own if r.get("gauge_number") and not r.get("gauge_id")})
        rows.append({
            "plan_number": c.get("plan_number") or "", "number": c["number"],
            "balloon": c.get("designator") or str(c["number"]),
            "reference_location": c.get("drawing_zone") or "", "designator": DESIGNATORS.get(c["criticality"], ""),
            "requirement": requirement(c), "results": [_result_text(c, r) for r in own],
            "conforming": bool(own) and all(r["conforming"] for r in own),
            "tooling": ", ".join(tools) or (c.get("gauge_type") or ""),
            "ncr_number": ncrs.get((c.get("plan_number") or "", c["number"])) or "",
            "notes": "; ".join(r["note"] for r in own if r.get("note"))[:500]})
    return rows


def form2(materials, processes, tests):
    """Product accountability: raw material (the lots consumed, with the
    supplier's lot, heat number and certificates), special processes, and
    functional tests. Inputs as the use cases gathered them."""
    rows = []
    for m in materials:
        rows.append({"kind": "material", "name": f"{m['part_number']} {m.get('part_name') or ''}".strip(),
                     "specification": m.get("specification") or "",
                     "code": " ".join(filter(None, (f"lot {m['lot_number']}", m.get("heat_number") and
                                                    f"heat {m['heat_number']}"))),
                     "supplier_code": " ".join(filter(None, (m.get("supplier"), m.get("supplier_lot") and
                                                             f"lot {m['supplier_lot']}"))),
                     "customer_approval": "N/A", "certificate": ", ".join(m.get("certificates") or []),
                     "test_procedure": "", "test_result": ""})
    for p in processes:
        rows.append({"kind": "special_process", "name": p["name"], "specification": p.get("specification") or "",
                     "code": p.get("code") or "", "supplier_code": p.get("supplier_code") or "",
                     "customer_approval": "Yes" if p.get("customer_approved") else "No",
                     "certificate": p.get("certificate") or "", "test_procedure": "", "test_result": ""})
    for t in tests:
        rows.append({"kind": "functional_test", "name": t["name"], "specification": "", "code": "",
                     "supplier_code": "", "customer_approval": "N/A", "certificate": "",
                     "test_procedure": t["procedure"], "test_result": t["result"]})
    return rows
