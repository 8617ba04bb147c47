"""A period report as people take it away: CSV (the exact numbers, for other
tools), an Excel workbook (for managers: numbers as number cells, KPIs
coloured by band) and a printable HTML page with the charts drawn inline as
SVG (no script, nothing fetched). Pure: a period report (dict) in, the
document out.

Exact values travel as decimal strings; they become floats only where a
spreadsheet cell or a chart needs one. Times (seconds in the report) show in
minutes in the workbook and the page; the CSV keeps the report's own values.
"""
import csv
import io
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from html import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from mes_common import svg

TIME_COMPONENTS = frozenset({"PBT", "APT", "AUBT", "AUST", "ADET", "PRI_PQ", "TBF", "TTR"})   # seconds
TREND_PANELS = ("oee_index", "availability", "effectiveness", "quality_ratio")
PARETOS = (("downtime", "Downtime"), ("scrap", "Scrap"), ("ncr", "NCRs"))   # report key, sheet name
BANDS = {"red": ("FFC7CE", "9C0006"), "amber": ("FFEB9C", "9C5700"), "green": ("C6EFCE", "006100")}   # fill, text
TENTH = Decimal("0.1")


def _decimal(value):
    """The exact number of a report value (int or decimal string); None when there is none."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _text(value):
    return "" if value is None else str(value)


def _minutes(seconds):
    number = _decimal(seconds)
    return None if number is None else (number / 60).quantize(TENTH, ROUND_HALF_UP)


def _component_header(key):
    return f"{key} (min)" if key in TIME_COMPONENTS else key


def _component_shown(key, value):
    """A component as the workbook and the page show it: times in minutes (1 decimal)."""
    return _minutes(value) if key in TIME_COMPONENTS else _decimal(value)


def _components(report):
    """The sorted union of the component keys of every row and the total."""
    rows = list(report.get("rows") or []) + ([report["total"]] if report.get("total") else [])
    return sorted({key for row in rows for key in (row.get("components") or {})})


def _kpi(row, key):
    return ((row or {}).get("kpis") or {}).get(key) or {}


def _percent(definition):
    return definition.get("unit") == "%"


def _target_shown(definition):
    """A target as its KPI is displayed ("85.0 %", "30 min")."""
    target = _decimal(definition.get("target"))
    if target is None:
        return ""
    if _percent(definition):
        places = Decimal(1).scaleb(-int(definition.get("decimals") or 0))
        return f"{(target * 100).quantize(places, ROUND_HALF_UP)} %"
    return f"{target} {definition.get('unit') or ''}".strip()


def _scope_text(report):
    scope = report.get("scope") or {}
    parts = [str(scope.get("level") or "").replace("_", " "), scope.get("code"), scope.get("name")]
    return " ".join(str(p) for p in parts if p) or "all"


def _interval_text(report):
    return f"{report.get('from')} to {report.get('to')} (by {report.get('period')}, {report.get('timezone')})"


def _snapshot_text(report):
    snapshot = report.get("snapshot")
    return f"snapshot {snapshot.get('id')} of {snapshot.get('created_at')}" if snapshot else "live data"


# ------------------------------------------------------------------ CSV

def _csv_safe(text):
    """A text field a spreadsheet would read as a formula (`=`, `+`, `-`, `@`) gets a leading quote
    (CSV injection); numbers, negative ones included, stay as they are."""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and _decimal(text) is None:
        return "'" + text
    return text


def _write(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def csv_text(report):
    """A line per period and a final `total` line: label, from, to, the components (as in the report:
    times in seconds), then each KPI's exact value (blank when it has none)."""
    components, keys = _components(report), list(report["definitions"])

    def line(row, label):
        values = [_text((row.get("components") or {}).get(c)) for c in components]
        return [_csv_safe(label), _text(row.get("from")), _text(row.get("to"))] + values \
            + [_text(_kpi(row, k).get("value")) for k in keys]
    total = report.get("total") or {}
    return _write([["label", "from", "to"] + components + keys]
                  + [line(row, _text(row.get("label"))) for row in report.get("rows") or []]
                  + [line(total, "total")])


def pareto_csv(pareto):
    """A Pareto's items: key, value, share, cumulative (exact decimal strings)."""
    return _write([["key", "value", "share", "cumulative"]]
                  + [[_csv_safe(_text(i.get("key"))), _text(i.get("value")), _text(i.get("share")),
                      _text(i.get("cumulative"))] for i in pareto.get("items") or []])


# ------------------------------------------------------------------ Excel

BOLD, WRAP = Font(bold=True), Alignment(wrap_text=True, vertical="top")
GREY = PatternFill("solid", fgColor="E8E8E8")


def _append(sheet, values):
    """A row: a text cell that starts with `=` stays text (openpyxl would store it as a live formula,
    and a reason code typed as `=HYPERLINK(...)` would run in the reader's Excel)."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"
    return sheet[sheet.max_row]


def _header_row(sheet, titles):
    for cell in _append(sheet, titles):
        cell.font, cell.fill, cell.alignment = BOLD, GREY, WRAP


def _number(value):
    """A number cell's value: the exact Decimal made float only here, at write time."""
    number = _decimal(value)
    return None if number is None else float(number)


def _kpi_format(definition):
    places = int(definition.get("decimals") or 0)
    digits = "0." + "0" * places if places else "0"
    return digits + "%" if _percent(definition) else digits


def _band(cell, band):
    if band in BANDS:
        fill, text = BANDS[band]
        cell.fill, cell.font = PatternFill("solid", fgColor=fill), Font(color=text)


def _widths(sheet, widths):
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _summary(sheet, report):
    definitions, total = report["definitions"], report.get("total") or {}
    _append(sheet, [report.get("title") or "Report"])
    sheet["A1"].font = Font(bold=True, size=12)
    for label, value in (("Scope", _scope_text(report)), ("From", report.get("from")), ("To", report.get("to")),
                         ("Period", report.get("period")), ("Time zone", report.get("timezone")),
                         ("Generated at", report.get("generated_at")), ("Data", _snapshot_text(report))):
        _append(sheet, [label, _text(value)])[0].font = BOLD
    sheet.append([])
    _header_row(sheet, ["KPI", "Display", "Value", "Band", "Target", "Unit", "Version", "Formula", "Components"])
    for key, definition in definitions.items():
        kpi = _kpi(total, key)
        cells = _append(sheet, [definition.get("name") or key, _text(kpi.get("display")), _number(kpi.get("value")),
                                _text(kpi.get("band")), _number(definition.get("target")),
                                _text(definition.get("unit")), definition.get("version"),
                                _text(definition.get("formula")), ", ".join(definition.get("components") or [])])
        for cell in cells[1:4]:   # display, value, band: the colour a manager looks for
            _band(cell, kpi.get("band"))
        cells[2].number_format = cells[4].number_format = _kpi_format(definition)
    _widths(sheet, (22, 14, 12, 10, 10, 8, 9, 28, 30))


def _trend(sheet, report):
    definitions, components = report["definitions"], _components(report)
    _header_row(sheet, ["Period", "From", "To"] + [_component_header(c) for c in components]
                + [f"{d.get('name') or k} ({d.get('unit')})" if d.get("unit") else d.get("name") or k
                   for k, d in definitions.items()])
    rows = [(row, _text(row.get("label")), False) for row in report.get("rows") or []]
    for row, label, is_total in rows + ([(report["total"], "total", True)] if report.get("total") else []):
        shown = [_component_shown(c, (row.get("components") or {}).get(c)) for c in components]
        cells = _append(sheet, [label, _text(row.get("from")), _text(row.get("to"))]
                        + [None if v is None else float(v) for v in shown]
                        + [_number(_kpi(row, k).get("value")) for k in definitions])
        for cell, key in zip(cells[3:], components):
            if key in TIME_COMPONENTS:
                cell.number_format = "0.0"
        for cell, key in zip(cells[3 + len(components):], definitions):
            cell.number_format = _kpi_format(definitions[key])
            _band(cell, _kpi(row, key).get("band"))
        if is_total:
            cells[0].font = BOLD
    sheet.freeze_panes = "B2"
    _widths(sheet, [14, 26, 26] + [12] * (len(components) + len(definitions)))


def _pareto_sheet(sheet, pareto):
    unit = pareto.get("unit") or ""
    _append(sheet, [f"{pareto.get('title') or sheet.title}: total {_text(pareto.get('total'))} {unit}".strip()])
    sheet["A1"].font = Font(bold=True, size=12)
    _header_row(sheet, ["Key", f"Value ({unit})" if unit else "Value", "Share", "Cumulative"])
    for item in pareto.get("items") or []:
        cells = _append(sheet, [_text(item.get("key")), _number(item.get("value")), _number(item.get("share")),
                                _number(item.get("cumulative"))])
        cells[2].number_format = cells[3].number_format = "0.0%"
    _widths(sheet, (28, 14, 10, 12))


def xlsx(report):
    """The report as a workbook (bytes): `Summary`, `Trend` and a sheet per Pareto."""
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    _summary(summary, report)
    _trend(book.create_sheet("Trend"), report)
    for key, name in PARETOS:
        if key in (report.get("paretos") or {}):
            _pareto_sheet(book.create_sheet(name), report["paretos"][key])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ------------------------------------------------------------------ HTML

STYLE = """
@page { size: A4 landscape; margin: 10mm; }
body { font: 9pt sans-serif; color: #000; margin: 0 auto; max-width: 277mm; }
h1 { font-size: 14pt; margin: 0 0 2pt; } h2 { font-size: 11pt; margin: 14pt 0 4pt; }
p.meta { margin: 0 0 6pt; color: #333; }
table { border-collapse: collapse; width: 100%; margin-bottom: 8pt; }
th, td { border: 1px solid #999; padding: 2pt 4pt; vertical-align: top; text-align: left; }
th { background: #e8e8e8; font-weight: 600; } td.num { text-align: right; white-space: nowrap; }
tr.sum td { font-weight: 600; border-top: 2px solid #000; }
.badge { display: inline-block; padding: 0 6pt; border-radius: 6pt; font-weight: 600; }
.band-red { background: #ffc7ce; color: #9c0006; } .band-amber { background: #ffeb9c; color: #9c5700; }
.band-green { background: #c6efce; color: #006100; }
figure { margin: 0 0 6pt; } figure svg { max-width: 100%; height: auto; }
section { page-break-inside: avoid; break-inside: avoid; }
@media print {
  body { max-width: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  figure svg { max-height: 170mm; width: auto; }
  thead { display: table-header-group; }
  h2 { page-break-after: avoid; break-after: avoid; }
}
"""


def _badge(band):
    if not band:
        return "\u2014"
    return f'<span class="badge band-{escape(band)}">{escape(band)}</span>'


def _components_text(definition, row):
    values = row.get("components") or {}
    parts = []
    for key in definition.get("components") or []:
        unit = " min" if key in TIME_COMPONENTS else ""
        parts.append(f"{key} {_text(_component_shown(key, values.get(key))) or '?'}{unit}")
    return ", ".join(parts)


def _kpi_table(report):
    total = report.get("total") or {}
    rows = []
    for key, definition in report["definitions"].items():
        kpi = _kpi(total, key)
        cls = f' band-{escape(kpi["band"])}' if kpi.get("band") in BANDS else ""
        rows.append(f'<tr><th>{escape(definition.get("name") or key)}</th>'
                    f'<td class="num{cls}" data-kpi="{escape(key)}" data-value="{escape(_text(kpi.get("value")))}">'
                    f'{escape(_text(kpi.get("display")))}</td><td>{_badge(kpi.get("band"))}</td>'
                    f'<td class="num">{escape(_target_shown(definition))}</td>'
                    f'<td>{escape(_text(definition.get("formula")))}</td>'
                    f'<td>{escape(_components_text(definition, total))}</td></tr>')
    return ("<table><thead><tr><th>KPI</th><th>Value</th><th>Band</th><th>Target</th><th>Formula</th>"
            f"<th>Components</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _as_percent(value):
    number = _decimal(value)
    return None if number is None else float(number * 100)


def trend_chart(report):
    """The OEE trend: a panel per KPI in percent, the target line on the OEE panel (four panels of 120 px:
    the chart fits an A4 landscape page)."""
    definitions, rows = report["definitions"], report.get("rows") or []
    panels = []
    for key in TREND_PANELS:
        definition = definitions.get(key) or {}
        target = _decimal(definition.get("target")) if key == "oee_index" else None
        lines = [("target", float(target * 100))] if target is not None else []
        panels.append(svg.Panel(f"{definition.get('name') or key} (%)",
                                [_as_percent(_kpi(row, key).get("value")) for row in rows], lines,
                                tips=[_text(row.get("label")) for row in rows]))
    return svg.line_chart(f"{report.get('title') or 'Report'}: OEE trend", panels,
                          subtitle=f"{_scope_text(report)}, {_interval_text(report)}", panel_height=120)


def _share(value):
    number = _decimal(value)
    return "" if number is None else f"{(number * 100).quantize(TENTH, ROUND_HALF_UP)} %"


def _pareto_section(pareto):
    unit = pareto.get("unit") or ""
    items = pareto.get("items") or []
    title = pareto.get("title") or "Pareto"
    chart = svg.pareto_chart(title, [(_text(i.get("key")), _number(i.get("value")) or 0.0,
                                      _number(i.get("cumulative")) or 0.0) for i in items],
                             unit=unit, subtitle=f"total {_text(pareto.get('total'))} {unit}".strip())
    rows = "".join(f'<tr data-key="{escape(_text(i.get("key")))}" data-value="{escape(_text(i.get("value")))}">'
                   f'<td>{escape(_text(i.get("key")))}</td><td class="num">{escape(_text(i.get("value")))}</td>'
                   f'<td class="num">{escape(_share(i.get("share")))}</td>'
                   f'<td class="num">{escape(_share(i.get("cumulative")))}</td></tr>' for i in items)
    value_header = f"Value ({escape(unit)})" if unit else "Value"
    return (f'<section class="pareto"><h2>{escape(title)}</h2><figure>{chart}</figure>'
            f"<table><thead><tr><th>Key</th><th>{value_header}</th><th>Share</th><th>Cumulative</th></tr></thead>"
            f"<tbody>{rows or '<tr><td colspan=4>none</td></tr>'}</tbody></table></section>")


def _trend_table(report):
    definitions, components = report["definitions"], _components(report)
    head = "".join(f"<th>{escape(t)}</th>" for t in ["Period"] + [_component_header(c) for c in components]
                   + [d.get("name") or k for k, d in definitions.items()])

    def line(row, label, cls=""):
        values = row.get("components") or {}
        cells = [f"<td>{escape(label)}</td>"]
        cells += [f'<td class="num">{escape(_text(_component_shown(c, values.get(c))))}</td>'
                  for c in components]
        for key in definitions:
            kpi = _kpi(row, key)
            band = f' band-{escape(kpi["band"])}' if kpi.get("band") in BANDS else ""
            cells.append(f'<td class="num{band}">{escape(_text(kpi.get("display")))}</td>')
        return f"<tr{cls}>{''.join(cells)}</tr>"
    body = "".join(line(row, _text(row.get("label"))) for row in report.get("rows") or [])
    foot = line(report["total"], "total", ' class="sum"') if report.get("total") else ""
    return (f'<table class="trend"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
            f"<tfoot>{foot}</tfoot></table>")


def html(report):
    """The report as one printable page: the KPIs of the whole interval, the OEE trend, each Pareto
    (chart and table) and the trend table."""
    title = report.get("title") or "Report"
    paretos = report.get("paretos") or {}
    sections = "".join(_pareto_section(paretos[key]) for key, _ in PARETOS if key in paretos)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}: {escape(_scope_text(report))}</title>
<style>{STYLE}</style></head><body>
<h1>{escape(title)}: {escape(_scope_text(report))}</h1>
<p class="meta">{escape(_interval_text(report))}. Generated at {escape(_text(report.get('generated_at')))} from \
{escape(_snapshot_text(report))}.</p>
<section class="kpis"><h2>Key figures of the interval</h2>{_kpi_table(report)}</section>
<section class="trend"><h2>OEE trend</h2><figure>{trend_chart(report)}</figure></section>
{sections}
<h2>By {escape(_text(report.get('period')))}</h2>
{_trend_table(report)}
</body></html>
"""
