"""A FAIR as people file it: a printable HTML page laid out like the three
AS9102 Rev C forms, the same as a PDF (WeasyPrint, one page per form), and
an Excel workbook with one sheet per form (what customers' supplier portals
take). Both carry the signature manifestations
(21 CFR 11.50: printed name, time, meaning). Pure: a FAIR (FairOut) in, the
document out.
"""
import io
from html import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from mes_common import errors

FORM1_FIELDS = (("1. Part Number", "part_number"), ("2. Part Name", "part_name"), ("3. Serial Number", "serial_number"),
                ("4. FAI Report Number", "number"), ("5. Part Revision Level", "part_revision"),
                ("6. Drawing Number", "drawing_number"), ("7. Drawing Revision Level", "drawing_revision"),
                ("8. Additional Changes", "additional_changes"),
                ("9. Manufacturing Process Reference", "process_reference"),
                ("10. Organization Name", "organization"), ("11. Supplier Code", "supplier_code"),
                ("12. P.O. Number", "po_number"))
DETAIL_COLUMNS = (("15. Part Number", "part_number"), ("16. Part Name", "part_name"), ("17. Part Type", "part_type"),
                  ("18. FAI Report Number", "fair_number"))
FORM2_COLUMNS = (("5. Material or Process Name", "name"), ("6. Specification Number", "specification"),
                 ("7. Code", "code"), ("8. Special Process Supplier Code", "supplier_code"),
                 ("9. Customer Approval Verification", "customer_approval"),
                 ("10. Certificate of Conformance Number", "certificate"),
                 ("11. Functional Test Procedure Number", "test_procedure"), ("12. Acceptance Report", "test_result"))
FORM3_COLUMNS = (("5. Char. No.", "balloon"), ("6. Reference Location", "reference_location"),
                 ("7. Characteristic Designator", "designator"), ("8. Requirement", "requirement"),
                 ("9. Results", "results"), ("10. Designed / Qualified Tooling", "tooling"),
                 ("11. Nonconformance Number", "ncr_number"), ("14. Additional Data / Comments", "notes"))
HEADER = (("1. Part Number", "part_number"), ("2. Part Name", "part_name"), ("3. Serial Number", "serial_number"),
          ("4. FAI Report Number", "number"))
MEANINGS = {"authorship": "Prepared by", "approval": "Approved by"}


def _cell(row, key):
    value = row.get(key)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def kind_text(fair):
    text = "Full FAI" if fair["kind"] == "full" else "Partial FAI"
    if fair.get("reason_text"):
        text += f": {fair['reason_text']}"
    if fair.get("previous_fair_number"):
        text += f" (completes {fair['previous_fair_number']})"
    return text


def signature_lines(fair):
    """[(role, printed name, UTC time, valid)]: the latest signature of each
    meaning (a FAIR rejected, refreshed and submitted again is signed again;
    the earlier signatures stay on the record, not on the forms)."""
    latest = {s["meaning"]: s for s in fair.get("signatures", [])}
    return [(MEANINGS.get(s["meaning"], s["meaning"]), s["printed_name"], s["signed_at"], s.get("valid", True))
            for s in latest.values()]


# ------------------------------------------------------------------ HTML

STYLE = """
@page { size: A4 landscape; margin: 12mm; }
body { font: 10pt sans-serif; color: #000; }
h1 { font-size: 13pt; margin: 0 0 4pt; } h2 { font-size: 11pt; margin: 14pt 0 4pt; page-break-before: always; }
h2.first { page-break-before: auto; }
table { border-collapse: collapse; width: 100%; margin-bottom: 6pt; }
th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; text-align: left; }
th { background: #e8e8e8; font-weight: 600; }
td.fail { background: #f6d5d5; } .void { color: #a00; font-weight: 600; }
"""


def _table(columns, rows, classes=None):
    head = "".join(f"<th>{escape(title)}</th>" for title, _ in columns)
    body = []
    for row in rows:
        cls = (classes or (lambda r: ""))(row)
        body.append("<tr>" + "".join(f'<td{cls}>{escape(_cell(row, key))}</td>' for _, key in columns) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body) or '<tr><td colspan=99>none</td></tr>'}</table>"


def _header(fair):
    return _table(HEADER, [fair])


def html(fair):
    """The FAIR as one printable page per form."""
    signatures = "".join(
        f"<tr><th>{escape(role)}</th><td>{escape(name)}</td><td>{escape(str(at))} UTC</td>"
        f"<td>{'' if valid else '<span class=void>INVALID: the record changed after signing</span>'}</td></tr>"
        for role, name, at, valid in signature_lines(fair)) or "<tr><td colspan=4>not signed</td></tr>"
    form1 = "".join(f"<tr><th>{escape(title)}</th><td>{escape(_cell(fair, key))}</td></tr>"
                    for title, key in FORM1_FIELDS)
    complete = "FAI complete" if fair.get("complete") else "FAI not complete"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(fair['number'])} AS9102 FAIR</title>
<style>{STYLE}</style></head><body>
<h1>First Article Inspection Report {escape(fair['number'])} ({escape(fair['status'])})</h1>
<h2 class="first">AS9102 Form 1: Part Number Accountability</h2>
<table>{form1}
<tr><th>13. Detail FAI / Assembly FAI</th><td>{'Assembly FAI' if fair.get('assembly') else 'Detail FAI'}</td></tr>
<tr><th>14. Full FAI / Partial FAI</th><td>{escape(kind_text(fair))}</td></tr></table>
{_table(DETAIL_COLUMNS, fair.get('detail_parts') or [])}
<table><tr><th>19. {escape(complete)}</th></tr></table>
<table>{signatures}</table>
<h2>AS9102 Form 2: Product Accountability (raw material, special processes, functional testing)</h2>
{_header(fair)}
{_table(FORM2_COLUMNS, fair.get('form2') or [])}
<h2>AS9102 Form 3: Characteristic Accountability, Verification and Compatibility Evaluation</h2>
{_header(fair)}
{_table(FORM3_COLUMNS, fair.get('form3') or [], lambda r: '' if r.get('conforming') else ' class="fail"')}
</body></html>
"""


def pdf(fair):
    """The printable page as a PDF (bytes). The page names no resource; the
    renderer is given none to fetch anyway (no file, no network)."""
    try:
        import weasyprint   # loads Pango: only when a PDF is asked for
    except OSError as missing:   # the system's Pango is not installed
        raise errors.Unavailable("PDF reports need Pango (make pdf-libs)", {"pdf": [str(missing)[:200]]}) from None

    def refuse(url, *args, **kwargs):
        raise ValueError(f"a FAIR's PDF fetches nothing ({url})")
    return weasyprint.HTML(string=html(fair), url_fetcher=refuse).write_pdf()


# ------------------------------------------------------------------ Excel

BOLD, WRAP = Font(bold=True), Alignment(wrap_text=True, vertical="top")
GREY = PatternFill("solid", fgColor="E8E8E8")


def _append(sheet, values):
    """A row of text: a cell that starts with `=` stays text (openpyxl would store it as a live formula,
    and a comment or a PO number typed as `=HYPERLINK(...)` would run in the reader's Excel)."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"


def _title(sheet, text):
    _append(sheet, [text])
    sheet["A1"].font = Font(bold=True, size=12)


def _rows(sheet, columns, rows):
    _append(sheet, [title for title, _ in columns])
    for cell in sheet[sheet.max_row]:
        cell.font, cell.fill, cell.alignment = BOLD, GREY, WRAP
    for row in rows:
        _append(sheet, [_cell(row, key) for _, key in columns])
        for cell in sheet[sheet.max_row]:
            cell.alignment = WRAP
    for index, (title, _) in enumerate(columns, start=1):
        width = max([len(title)] + [len(_cell(r, key)) for r in rows for t, key in columns[index - 1:index]])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(12, width + 2), 60)


def xlsx(fair):
    """The FAIR as a workbook: sheets `Form 1`, `Form 2`, `Form 3` (bytes)."""
    book = Workbook()
    one = book.active
    one.title = "Form 1"
    _title(one, f"AS9102 Form 1: Part Number Accountability ({fair['number']}, {fair['status']})")
    for title, key in FORM1_FIELDS:
        _append(one, [title, _cell(fair, key)])
    one.append(["13. Detail FAI / Assembly FAI", "Assembly FAI" if fair.get("assembly") else "Detail FAI"])
    one.append(["14. Full FAI / Partial FAI", kind_text(fair)])
    one.append([])
    _rows(one, DETAIL_COLUMNS, fair.get("detail_parts") or [])
    one.append([])
    one.append(["19.", "FAI complete" if fair.get("complete") else "FAI not complete"])
    for role, name, at, valid in signature_lines(fair):
        _append(one, [role, name, f"{at} UTC", "" if valid else "INVALID: the record changed after signing"])
    one.column_dimensions["A"].width, one.column_dimensions["B"].width = 38, 48
    for number, columns, rows, title in (
            (2, FORM2_COLUMNS, fair.get("form2") or [], "Product Accountability"),
            (3, FORM3_COLUMNS, fair.get("form3") or [], "Characteristic Accountability")):
        sheet = book.create_sheet(f"Form {number}")
        _title(sheet, f"AS9102 Form {number}: {title} ({fair['number']})")
        for label, key in HEADER:
            _append(sheet, [label, _cell(fair, key)])
        sheet.append([])
        _rows(sheet, columns, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
