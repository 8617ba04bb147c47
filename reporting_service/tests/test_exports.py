"""The exports of a period report, read back: the workbook, the page and the
CSV carry the report's numbers. Pure: a report dict in, no service."""
import copy
import csv
import io
import re
from decimal import Decimal

import openpyxl
from lxml import etree
from lxml import html as lxml_html

from mes_common import svg
from reporting_service import exports

SVG_NS = "http://www.w3.org/2000/svg"


def _definition(key, name, formula, components, unit="%", target=None, decimals=1, version=1):
    return {"key": key, "version": version, "name": name, "formula": formula, "unit": unit, "target": target,
            "bands": [{"colour": "red", "below": "0.65"}, {"colour": "green", "from": "0.85"}],
            "decimals": decimals, "components": components}


def _kpi(value, display, band, exact=None):
    return {"value": value, "exact": exact, "display": display, "band": band}


def _row(label, start, end, pbt, apt, pq, gq, kpis):
    return {"label": label, "from": start, "to": end,
            "components": {"PBT": pbt, "APT": apt, "PQ": pq, "GQ": gq, "SQ": str(int(pq) - int(gq)), "RQ": "0",
                           "PRI_PQ": str(int(pq) * 54), "TTR": 1800},
            "kpis": kpis}


def _kpis(oee, availability, effectiveness, quality, scrap, mttr=None):
    def band(value):
        return None if value is None else "red" if Decimal(value) < Decimal("0.65") \
            else "green" if Decimal(value) >= Decimal("0.85") else "amber"
    return {"oee_index": _kpi(oee, f"{Decimal(oee) * 100:.1f} %", band(oee)),
            "availability": _kpi(availability, f"{Decimal(availability) * 100:.1f} %", band(availability)),
            "effectiveness": _kpi(effectiveness, f"{Decimal(effectiveness) * 100:.1f} %", band(effectiveness)),
            "quality_ratio": _kpi(quality, f"{Decimal(quality) * 100:.1f} %", band(quality)),
            "scrap_ratio": _kpi(scrap, f"{Decimal(scrap) * 100:.1f} %", None),
            "mttr": _kpi(mttr, "—" if mttr is None else f"{mttr} min", None)}


def _pareto(title, unit, items):
    total = sum(Decimal(v) for _, v in items)
    out, running = [], Decimal(0)
    for key, value in items:
        running += Decimal(value)
        out.append({"key": key, "value": value, "share": f"{Decimal(value) / total:.10f}",
                    "cumulative": f"{running / total:.10f}"})
    return {"title": title, "unit": unit, "total": str(total), "items": out}


def make_report():
    definitions = {
        "oee_index": _definition("oee_index", "OEE index", "PRI × GQ / PBT", ["PRI_PQ", "GQ", "PQ", "PBT"],
                                 target="0.85", version=2),
        "availability": _definition("availability", "Availability", "APT / PBT", ["APT", "PBT"], target="0.9"),
        "effectiveness": _definition("effectiveness", "Effectiveness", "PRI × PQ / APT", ["PRI_PQ", "APT"]),
        "quality_ratio": _definition("quality_ratio", "Quality ratio", "GQ / PQ", ["GQ", "PQ"], target="0.98"),
        "scrap_ratio": _definition("scrap_ratio", "Scrap ratio", "SQ / PQ", ["SQ", "PQ"], decimals=2),
        "mttr": _definition("mttr", "MTTR", "TTR / failures", ["TTR"], unit="min", decimals=0),
    }
    rows = [
        _row("2026-12-05", "2026-12-04T23:00:00+00:00", "2026-12-05T23:00:00+00:00", 27000, 24300, "380", "361",
             _kpis("0.7220000000", "0.9000000000", "0.8444444444", "0.9500000000", "0.0500000000", "30")),
        _row("2026-12-06", "2026-12-05T23:00:00+00:00", "2026-12-06T23:00:00+00:00", 27000, 16200, "250", "240",
             _kpis("0.4800000000", "0.6000000000", "0.8333333333", "0.9600000000", "0.0400000000")),
        _row("2026-12-07", "2026-12-06T23:00:00+00:00", "2026-12-07T23:00:00+00:00", 27000, 25650, "450", "445",
             _kpis("0.8900000000", "0.9500000000", "0.9473684211", "0.9888888889", "0.0111111111", "12.5")),
    ]
    total = _row("total", rows[0]["from"], rows[-1]["to"], 81000, 66150, "1080", "1046",
                 _kpis("0.6973333333", "0.8166666667", "0.8816326531", "0.9685185185", "0.0314814815"))
    return {
        "title": "OEE report", "scope": {"id": "7d3f0f4e-4e0b-4d43-9a43-1c2b8f3f9a10", "level": "work_center",
                                         "code": "WC-10", "name": "Milling"},
        "from": "2026-12-04T23:00:00+00:00", "to": "2026-12-07T23:00:00+00:00", "period": "day",
        "timezone": "Europe/Paris", "generated_at": "2026-12-07T10:00:00+00:00", "snapshot": None,
        "definitions": definitions, "total": total, "rows": rows,
        "paretos": {"downtime": _pareto("Downtime by reason", "min", [("JAM", "30"), ("TOOL", "10"), ("WAIT", "5")]),
                    "scrap": _pareto("Scrap by reason", "pcs", [("BURR", "20"), ("OVERSIZE", "12.5")]),
                    "ncr": _pareto("NCRs by defect", "", [("DIM", "4"), ("SURF", "2"), ("DOC", "1"), ("PKG", "1")])},
    }


def _same_number(cell, value):
    if value is None:
        return cell is None
    return cell is not None and float(cell) == float(Decimal(value))


def _svgs(page):
    return [etree.fromstring(block.encode()) for block in re.findall(r"<svg\b.*?</svg>", page, re.S)]


# ------------------------------------------------------------------ Excel

def _book(report):
    return openpyxl.load_workbook(io.BytesIO(exports.xlsx(report)))


def _table(sheet, first):
    """The rows under the header row that starts with `first`, as dicts by header."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == first)
    return [dict(zip(rows[start], row)) for row in rows[start + 1:] if any(v is not None for v in row)]


def test_the_workbook_has_the_summary_trend_and_a_sheet_per_pareto():
    assert _book(make_report()).sheetnames == ["Summary", "Trend", "Downtime", "Scrap", "NCRs"]


def test_the_summary_holds_the_totals_kpi_numbers_and_blank_for_none():
    report = make_report()
    sheet = _book(report)["Summary"]
    by_name = {row["KPI"]: row for row in _table(sheet, "KPI")}
    assert list(by_name) == [d["name"] for d in report["definitions"].values()]
    for key, definition in report["definitions"].items():
        kpi, row = report["total"]["kpis"][key], by_name[definition["name"]]
        assert _same_number(row["Value"], kpi["value"]), key
        assert row["Display"] == kpi["display"]
        assert (row["Band"] or None) == kpi["band"]
        assert _same_number(row["Target"], definition["target"])
        assert row["Version"] == definition["version"]
    assert by_name["MTTR"]["Value"] is None
    assert sheet["B2"].value == "work center WC-10 Milling"


def test_summary_kpi_cells_are_number_cells_filled_by_band():
    sheet = _book(make_report())["Summary"]
    cells = {row[0].value: row for row in sheet.iter_rows()}
    oee = cells["OEE index"][2]
    assert oee.data_type == "n" and oee.number_format == "0.0%"
    assert oee.fill.fgColor.rgb.endswith(exports.BANDS["amber"][0])
    assert cells["Scrap ratio"][2].fill.fill_type is None   # no band: no colour


def test_the_trend_sheet_holds_each_rows_kpis_and_minutes():
    report = make_report()
    table = _table(_book(report)["Trend"], "Period")
    assert [r["Period"] for r in table] == [r["label"] for r in report["rows"]] + ["total"]
    for row, source in zip(table, report["rows"] + [report["total"]]):
        for key, definition in report["definitions"].items():
            header = f"{definition['name']} ({definition['unit']})"
            assert _same_number(row[header], source["kpis"][key]["value"]), (source["label"], key)
        assert row["PBT (min)"] == float(Decimal(source["components"]["PBT"]) / 60)
        assert row["PQ"] == float(source["components"]["PQ"])
    assert table[1]["MTTR (min)"] is None


def test_each_pareto_sheet_holds_the_items():
    report = make_report()
    book = _book(report)
    for key, name in exports.PARETOS:
        items = report["paretos"][key]["items"]
        rows = _table(book[name], "Key")
        assert [r["Key"] for r in rows] == [i["key"] for i in items]
        for row, item in zip(rows, items):
            values = list(row.values())
            assert all(_same_number(values[n], item[f]) for n, f in ((1, "value"), (2, "share"), (3, "cumulative")))


def test_a_text_cell_that_looks_like_a_formula_stays_text():
    report = make_report()
    report["paretos"]["downtime"]["items"][0]["key"] = '=HYPERLINK("x","y")'
    cell = _book(report)["Downtime"]["A3"]
    assert cell.value == '=HYPERLINK("x","y")' and cell.data_type == "s"


# ------------------------------------------------------------------ HTML

def test_the_page_carries_the_totals_kpi_values_exactly():
    report = make_report()
    page = lxml_html.fromstring(exports.html(report))
    cells = {td.get("data-kpi"): td for td in page.xpath("//td[@data-kpi]")}
    assert list(cells) == list(report["definitions"])
    for key, kpi in report["total"]["kpis"].items():
        assert cells[key].get("data-value") == (kpi["value"] or ""), key
        assert cells[key].text_content() == kpi["display"]
    assert page.xpath("//td[@data-kpi='oee_index']/following-sibling::td[1]/span[@class='badge band-amber']")


def test_the_page_carries_each_pareto_row():
    report = make_report()
    page = lxml_html.fromstring(exports.html(report))
    rows = [(tr.get("data-key"), tr.get("data-value")) for tr in page.xpath("//tr[@data-key]")]
    expected = [(i["key"], i["value"]) for key, _ in exports.PARETOS for i in report["paretos"][key]["items"]]
    assert rows == expected


def test_the_trend_table_has_a_row_per_period_and_the_total():
    report = make_report()
    page = lxml_html.fromstring(exports.html(report))
    body = page.xpath("//table[@class='trend']/tbody/tr")
    assert [tr[0].text_content() for tr in body] == [r["label"] for r in report["rows"]]
    header = [th.text_content() for th in page.xpath("//table[@class='trend']/thead/tr/th")]
    assert "PBT (min)" in header
    assert body[0][header.index("PBT (min)")].text_content() == "450.0"
    assert page.xpath("//table[@class='trend']/tfoot/tr/td")[0].text_content() == "total"


def test_the_page_draws_well_formed_svg_charts_inline():
    report = make_report()
    charts = _svgs(exports.html(report))
    assert len(charts) == 1 + len(exports.PARETOS)
    trend, *paretos = charts
    assert len(trend.findall(f"{{{SVG_NS}}}rect[@class='frame']")) == 4   # four panels
    assert trend.findall(f"{{{SVG_NS}}}line[@class='limit']")   # the OEE target
    for chart, (key, _) in zip(paretos, exports.PARETOS):
        items = report["paretos"][key]["items"]
        assert len(chart.findall(f"{{{SVG_NS}}}rect[@class='bar']")) == len(items)
        assert len(chart.findall(f"{{{SVG_NS}}}circle[@class='cumpoint']")) == len(items)


def test_the_page_fetches_nothing_and_runs_nothing():
    page = exports.html(make_report())
    assert not re.findall(r"https?://(?!www\.w3\.org/2000/svg\")", page)
    assert "<script" not in page.lower()
    assert "@media print" in page and "landscape" in page


def test_a_kpi_with_no_value_is_a_gap_in_the_trend():
    report = make_report()
    report["rows"][1]["kpis"]["oee_index"] = _kpi(None, "—", None)
    trend = _svgs(exports.html(report))[0]
    assert len(list(trend.iter(f"{{{SVG_NS}}}circle"))) == 4 * len(report["rows"]) - 1   # no point, no dot
    assert len(trend.findall(f"{{{SVG_NS}}}polyline[@class='series']")) == 4 + 1   # the OEE line breaks in two


def test_markup_in_names_and_keys_is_escaped_in_html_and_svg():
    report = make_report()
    report["scope"]["name"] = "<script>alert(1)</script>"
    report["paretos"]["downtime"]["items"][0]["key"] = '<script>x</script>"&'
    report["paretos"]["downtime"]["title"] = "Downtime <b>now</b>"
    text = exports.html(report)
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    page = lxml_html.fromstring(text)
    assert page.xpath("//h1")[0].text_content() == "OEE report: work center WC-10 <script>alert(1)</script>"
    assert page.xpath("//tr[@data-key]")[0].get("data-key") == '<script>x</script>"&'
    charts = _svgs(text)   # still well formed
    titles = [t.text for c in charts for t in c.iter(f"{{{SVG_NS}}}title")]
    assert '<script>x</script>"&: 30 min' in titles
    assert any("<script>alert(1)</script>" in (t.text or "") for c in charts for t in c.iter(f"{{{SVG_NS}}}text"))
    assert not [e for c in charts for e in c.iter(f"{{{SVG_NS}}}script")]


def test_the_chart_functions_escape_their_text_too():
    chart = svg.pareto_chart("A <b>", [("<script>", 3.0, 1.0)], unit="<u>", subtitle="&")
    root = etree.fromstring(chart.encode())
    assert root.get("aria-label") == "A <b>"
    assert not list(root.iter(f"{{{SVG_NS}}}script")) and "<script>" not in chart


def test_an_empty_pareto_says_no_data():
    root = etree.fromstring(svg.pareto_chart("Nothing", []).encode())
    assert [t.text for t in root.iter(f"{{{SVG_NS}}}text")][-1] == "no data"
    assert not root.findall(f"{{{SVG_NS}}}rect[@class='bar']")
    report = make_report()
    report["paretos"]["ncr"] = {"title": "NCRs", "unit": "", "total": "0", "items": []}
    assert "no data" in exports.html(report)


def test_the_pareto_chart_draws_the_80_percent_line_and_the_right_axis():
    root = etree.fromstring(svg.pareto_chart("P", [("A", 8.0, 0.8), ("B", 2.0, 1.0)], unit="min").encode())
    texts = [t.text for t in root.iter(f"{{{SVG_NS}}}text")]
    assert ["0 %", "20 %", "40 %", "60 %", "80 %", "100 %"] == [t for t in texts if t.endswith(" %")]
    assert len(root.findall(f"{{{SVG_NS}}}line[@class='limit']")) == 1
    assert root.find(f"{{{SVG_NS}}}polyline[@class='cumulative']") is not None


# ------------------------------------------------------------------ CSV

def test_the_csv_has_a_line_per_row_and_the_total_with_exact_values():
    report = make_report()
    lines = list(csv.DictReader(io.StringIO(exports.csv_text(report))))
    assert len(lines) == len(report["rows"]) + 1
    assert [line["label"] for line in lines] == [r["label"] for r in report["rows"]] + ["total"]
    header = list(csv.reader(io.StringIO(exports.csv_text(report))))[0]
    components = sorted({k for r in report["rows"] + [report["total"]] for k in r["components"]})
    assert header == ["label", "from", "to"] + components + list(report["definitions"])
    for line, source in zip(lines, report["rows"] + [report["total"]]):
        assert (line["from"], line["to"]) == (source["from"], source["to"])
        for key, kpi in source["kpis"].items():
            assert line[key] == (kpi["value"] or ""), (source["label"], key)
        for key, value in source["components"].items():
            assert line[key] == str(value)


def test_the_pareto_csv_holds_the_items_exactly():
    pareto = make_report()["paretos"]["downtime"]
    lines = list(csv.DictReader(io.StringIO(exports.pareto_csv(pareto))))
    assert lines == [{k: i[k] for k in ("key", "value", "share", "cumulative")} for i in pareto["items"]]


def test_a_csv_text_that_looks_like_a_formula_is_quoted():
    pareto = copy.deepcopy(make_report()["paretos"]["downtime"])
    pareto["items"][0]["key"] = "=1+2"
    assert list(csv.DictReader(io.StringIO(exports.pareto_csv(pareto))))[0]["key"] == "'=1+2"
