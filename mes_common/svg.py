"""Charts as SVG, drawn by the service that owns the numbers (control
charts, trends, Paretos): a picture any browser, report or document shows,
with no script. Text is escaped; the drawing is plain SVG 1.1.

    svg.line_chart("Bore diameter: X-bar / R", [
        svg.Panel("X-bar", means, [("UCL", 10.02), ("CL", 10.0), ("LCL", 9.98)], flagged={12}, tips=keys),
        svg.Panel("R", ranges, [("UCL", 0.07), ("CL", 0.03)])])
    svg.pareto_chart("Downtime by reason", [("JAM", 30.0, 0.667), ("TOOL", 10.0, 0.889)], unit="min")
"""
import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

MARGIN_LEFT, MARGIN_RIGHT, PANEL_GAP, TITLE_HEIGHT = 70, 90, 30, 40
MAX_MARKERS = 400   # more points than this: a line without a dot per point (flagged ones still show)


@dataclass
class Panel:
    """One plot: `values` in order (None: no point), horizontal `lines`
    [(label, y)] where y is one value or one per point (limits that vary)."""
    title: str
    values: list
    lines: list = field(default_factory=list)
    flagged: set = field(default_factory=set)
    tips: list | None = None


def _finite(value):
    return value is not None and math.isfinite(value)


def _range(panel):
    ys = [v for v in panel.values if _finite(v)]
    for _, y in panel.lines:
        ys += [v for v in (y if isinstance(y, (list, tuple)) else [y]) if _finite(v)]
    if not ys:
        return 0.0, 1.0
    low, high = min(ys), max(ys)
    pad = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
    return low - pad, high + pad


def _number(value):
    return f"{value:.6g}"


def _panel(panel, top, width, height):
    low, high = _range(panel)
    count = max(len(panel.values), 1)
    plot_width = width - MARGIN_LEFT - MARGIN_RIGHT

    def x_of(i):
        return MARGIN_LEFT + (plot_width * (i + 0.5) / count)

    def y_of(v):
        return top + height - (v - low) / (high - low) * height

    parts = [f'<text x="{MARGIN_LEFT}" y="{top - 8}" class="panel">{escape(panel.title)}</text>',
             f'<rect x="{MARGIN_LEFT}" y="{top}" width="{plot_width}" height="{height}" class="frame"/>']
    for label, y in panel.lines:
        if isinstance(y, (list, tuple)):   # a limit per point: a step line
            points = [f"{x_of(i) - plot_width / count / 2:.1f},{y_of(v):.1f} {x_of(i) + plot_width / count / 2:.1f},"
                      f"{y_of(v):.1f}" for i, v in enumerate(y) if _finite(v)]
            parts.append(f'<polyline points="{" ".join(points)}" class="limit"/>')
            last = next((v for v in reversed(y) if _finite(v)), None)
        else:
            last = y if _finite(y) else None
            if last is not None:
                parts.append(f'<line x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{y_of(y):.1f}" '
                             f'y2="{y_of(y):.1f}" class="{"centre" if label == "CL" else "limit"}"/>')
        if last is not None:
            parts.append(f'<text x="{width - MARGIN_RIGHT + 6}" y="{y_of(last) + 4:.1f}" class="label">'
                         f'{escape(label)} {_number(last)}</text>')
    segment = []
    for i, v in enumerate(panel.values + [None]):
        if _finite(v):
            segment.append(f"{x_of(i):.1f},{y_of(v):.1f}")
        elif segment:
            parts.append(f'<polyline points="{" ".join(segment)}" class="series"/>')
            segment = []
    for i, v in enumerate(panel.values):
        if not _finite(v) or (i not in panel.flagged and len(panel.values) > MAX_MARKERS):
            continue
        tip = f"<title>{escape(panel.tips[i])}: {_number(v)}</title>" if panel.tips else ""
        kind = "flagged" if i in panel.flagged else "point"
        parts.append(f'<circle cx="{x_of(i):.1f}" cy="{y_of(v):.1f}" r="{3.5 if kind == "flagged" else 2.2}" '
                     f'class="{kind}">{tip}</circle>')
    parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{top + 4}" class="axis">{_number(high)}</text>')
    parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{top + height}" class="axis">{_number(low)}</text>')
    return parts


STYLE = (".title{font:bold 16px sans-serif}.subtitle{font:12px sans-serif;fill:#444}.panel{font:bold 13px "
         "sans-serif}.frame{fill:#fff;stroke:#999}.series{fill:none;stroke:#1f4e9c;stroke-width:1.2}"
         ".point{fill:#1f4e9c}.flagged{fill:#d11}.limit{fill:none;stroke:#d11;stroke-dasharray:6 4}"
         ".centre{stroke:#2a8a2a}.label{font:11px sans-serif}.axis{font:10px sans-serif;fill:#666;"
         "text-anchor:end}")


def _head(title, subtitle, width, height, style):
    """The opening of a chart: the root element, its style, the title lines."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)}>',
             f"<style>{style}</style>", f'<text x="{MARGIN_LEFT}" y="20" class="title">{escape(title)}</text>']
    if subtitle:
        parts.append(f'<text x="{MARGIN_LEFT}" y="36" class="subtitle">{escape(subtitle)}</text>')
    return parts


def line_chart(title, panels, subtitle="", width=960, panel_height=240):
    """The SVG document (text) of `panels` stacked under `title`."""
    height = TITLE_HEIGHT + len(panels) * (panel_height + PANEL_GAP) + 10
    parts = _head(title, subtitle, width, height, STYLE)
    for index, panel in enumerate(panels):
        parts += _panel(panel, TITLE_HEIGHT + PANEL_GAP + index * (panel_height + PANEL_GAP), width, panel_height)
    parts.append("</svg>")
    return "\n".join(parts)


PARETO_STYLE = STYLE + (".bar{fill:#8fa9d6;stroke:#1f4e9c}.value{font:10px sans-serif;text-anchor:middle}"
                        ".tick{font:10px sans-serif;fill:#333;text-anchor:middle}.cumulative{fill:none;stroke:#e07b00;"
                        "stroke-width:1.5}.cumpoint{fill:#e07b00}.axisr{font:10px sans-serif;fill:#666}.ref{fill:#d11}"
                        ".empty{font:14px sans-serif;fill:#666}")
PARETO_BOTTOM = 40   # room for the labels under the bars
PARETO_REFERENCE = 0.8   # the "vital few": the causes that make 80 % of the total


def _short(label, chars):
    """A bar's label cut to its slot (the whole label stays in the bar's tooltip)."""
    return label if len(label) <= chars else label[:max(chars - 1, 1)] + "\u2026"


def _nice(value):
    """The round number at or above `value` the value axis ends on (33 -> 40): a scale people read."""
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if value <= step * magnitude)


def pareto_chart(title, items, unit="", subtitle="", width=960, height=360):
    """The SVG document (text) of a Pareto: `items` [(label, value, cumulative share 0..1)], sorted
    descending; a bar per item on the left axis (`unit`), the cumulative share on a 0-100 % right axis."""
    parts = _head(title, subtitle, width, height, PARETO_STYLE)
    top = TITLE_HEIGHT + 20
    plot_width, plot_height = width - MARGIN_LEFT - MARGIN_RIGHT, height - top - PARETO_BOTTOM
    parts.append(f'<rect x="{MARGIN_LEFT}" y="{top}" width="{plot_width}" height="{plot_height}" class="frame"/>')
    if not items:
        parts += [f'<text x="{MARGIN_LEFT + plot_width / 2:.1f}" y="{top + plot_height / 2:.1f}" class="empty" '
                  f'text-anchor="middle">no data</text>', "</svg>"]
        return "\n".join(parts)
    values = [v if _finite(v) and v > 0 else 0.0 for _, v, _ in items]
    high = _nice(max(values) * 1.1 or 1.0)   # headroom for the value over the highest bar
    slot = plot_width / len(items)
    chars = int(slot / 6)   # ~6 px a character at 10 px

    def x_of(i):
        return MARGIN_LEFT + slot * (i + 0.5)

    def y_of(value):
        return top + plot_height - value / high * plot_height

    def y_of_share(share):
        return top + plot_height - min(max(share if _finite(share) else 0.0, 0.0), 1.0) * plot_height

    bottom = top + plot_height
    for i, ((label, _, _), value) in enumerate(zip(items, values)):
        tip = f"<title>{escape(str(label))}: {_number(value)} {escape(unit)}</title>"
        parts.append(f'<rect x="{x_of(i) - slot * 0.35:.1f}" y="{y_of(value):.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{bottom - y_of(value):.1f}" class="bar">{tip}</rect>')
        if chars >= 2:   # too many bars for words: the tooltips still name them
            parts.append(f'<text x="{x_of(i):.1f}" y="{y_of(value) - 4:.1f}" class="value">{_number(value)}</text>')
            parts.append(f'<text x="{x_of(i):.1f}" y="{bottom + 14}" class="tick">'
                         f'{escape(_short(str(label), chars))}</text>')
    for share in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        cls = "axisr ref" if share == PARETO_REFERENCE else "axisr"
        parts.append(f'<text x="{width - MARGIN_RIGHT + 6}" y="{y_of_share(share) + 4:.1f}" class="{cls}">'
                     f'{share * 100:.0f} %</text>')
    parts.append(f'<line x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{y_of_share(PARETO_REFERENCE):.1f}" '
                 f'y2="{y_of_share(PARETO_REFERENCE):.1f}" class="limit"/>')
    points = " ".join(f"{x_of(i):.1f},{y_of_share(c):.1f}" for i, (_, _, c) in enumerate(items))
    parts.append(f'<polyline points="{points}" class="cumulative"/>')
    for i, (label, _, share) in enumerate(items):
        shown = share * 100 if _finite(share) else 0.0
        parts.append(f'<circle cx="{x_of(i):.1f}" cy="{y_of_share(share):.1f}" r="3" class="cumpoint">'
                     f'<title>{escape(str(label))}: {shown:.1f} % cumulative</title></circle>')
    parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{top + 4}" class="axis">{_number(high)}</text>')
    parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{bottom}" class="axis">0</text>')
    if unit:
        parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{top - 8}" class="axis">{escape(unit)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
