"""Line charts as SVG, drawn by the service that owns the numbers (control
charts, trends): a picture any browser, report or document shows, with no
script. Text is escaped; the drawing is plain SVG 1.1.

    svg.line_chart("Bore diameter: X-bar / R", [
        svg.Panel("X-bar", means, [("UCL", 10.02), ("CL", 10.0), ("LCL", 9.98)], flagged={12}, tips=keys),
        svg.Panel("R", ranges, [("UCL", 0.07), ("CL", 0.03)])])
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


def line_chart(title, panels, subtitle="", width=960, panel_height=240):
    """The SVG document (text) of `panels` stacked under `title`."""
    height = TITLE_HEIGHT + len(panels) * (panel_height + PANEL_GAP) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)}>',
             f"<style>{STYLE}</style>", f'<text x="{MARGIN_LEFT}" y="20" class="title">{escape(title)}</text>']
    if subtitle:
        parts.append(f'<text x="{MARGIN_LEFT}" y="36" class="subtitle">{escape(subtitle)}</text>')
    for index, panel in enumerate(panels):
        parts += _panel(panel, TITLE_HEIGHT + PANEL_GAP + index * (panel_height + PANEL_GAP), width, panel_height)
    parts.append("</svg>")
    return "\n".join(parts)
