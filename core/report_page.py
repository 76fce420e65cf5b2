"""``csframe report``'s HTML page: one self-contained file that works offline.

The charts are plotly.js's (the ``report`` extra: the plotly wheel ships ``plotly.min.js``,
embedded in the page whole; no CDN). Each chart's figure is JSON in the page, drawn when the
page loads; below it, its numbers in a table (the raw value in ``data-value``, the value as
``compute``'s table shows it), and beside it each metric variant's definition (formula, unit,
provenance; the formula also on hover over the column's header)."""

from __future__ import annotations

__all__ = ["figure", "write_page", "plotly_js"]

import html
import json
from typing import Any

from .errors import MissingDependencyError
from .report_model import Chart, Report, period_label, table_of

EXTRA_HINT = "pip install 'csframe[report]'  (plotly, whose wheel ships plotly.js; matplotlib for --images)"
_COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"]
_GAINS = ["#16a34a", "#2563eb", "#0891b2"]
_LOSSES = ["#dc2626", "#ea580c", "#ca8a04"]
_AXIS = {"share": ",.1%", "money": ",.0f", "multiple": ".1f", "count": ",d"}
_SUFFIX = {"multiple": "×", "days": " d", "hours": " h", "months": " mo"}


def plotly_js() -> str:
    """plotly.min.js from the plotly wheel (the ``report`` extra)."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise MissingDependencyError("csframe report needs plotly, which is not installed",
                                     hint=EXTRA_HINT) from None
    return get_plotlyjs()


def _y_axis(unit: str) -> dict[str, Any]:
    axis: dict[str, Any] = {"title": {"text": unit}, "zeroline": True, "automargin": True}
    if unit in _AXIS:
        axis["tickformat"] = _AXIS[unit]
    if unit in _SUFFIX:
        axis["ticksuffix"] = _SUFFIX[unit]
    return axis


def figure(chart: Chart, report: Report) -> dict[str, Any]:
    """The plotly figure (data and layout, as JSON-ready dicts) of one chart."""
    labels = [period_label(start, report.grain) for start, _ in report.periods]
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"margin": {"l": 70, "r": 20, "t": 30, "b": 60}, "height": 380,
                              "legend": {"orientation": "h", "y": -0.2}, "yaxis": _y_axis(chart.unit),
                              "paper_bgcolor": "white", "plot_bgcolor": "#fafafa", "font": {"size": 12}}
    if chart.kind == "lines":
        for i, s in enumerate(chart.series):
            data.append({"type": "scatter", "mode": "lines+markers", "name": s.label, "x": labels,
                         "y": list(s.values), "line": {"color": _COLORS[i % len(_COLORS)]},
                         "hovertemplate": f"{html.escape(s.label)}<br>%{{x}}: %{{y}}<extra></extra>"})
    elif chart.kind == "waterfall":
        x0: list[str] = []
        x1: list[str] = []
        y: list[float] = []
        measure: list[str] = []
        total = chart.total
        first = next((i for i in range(len(labels)) if total is not None and total.values[i] is not None), None)
        if total is not None and first is not None:
            moved = sum(s.sign * (s.values[first] or 0) for s in chart.series)
            x0.append(labels[first])
            x1.append("start")
            y.append(total.values[first] - moved)  # the level at the first period's start
            measure.append("absolute")
        for i, label in enumerate(labels):
            if first is not None and i < first:
                continue
            for s in chart.series:
                x0.append(label)
                x1.append(s.label.replace("_mrr", "").replace("_customers", ""))
                y.append(s.sign * (s.values[i] or 0))
                measure.append("relative")
            if total is not None:
                x0.append(label)
                x1.append(total.label)
                y.append(0)
                measure.append("total")
        data.append({"type": "waterfall", "x": [x0, x1], "y": y, "measure": measure, "name": chart.title,
                     "increasing": {"marker": {"color": "#16a34a"}}, "decreasing": {"marker": {"color": "#dc2626"}},
                     "totals": {"marker": {"color": "#2563eb"}}, "connector": {"line": {"color": "#999"}}})
        layout["showlegend"] = False
        layout["xaxis"] = {"tickangle": -60, "automargin": True}
        layout["height"] = 460
    elif chart.kind in ("movements", "stacked"):
        gains, losses = iter(_GAINS), iter(_LOSSES)
        for i, s in enumerate(chart.series):
            color = _COLORS[i % len(_COLORS)] if chart.kind == "stacked" else next(gains if s.sign > 0 else losses, "#6b7280")
            data.append({"type": "bar", "name": s.label + (" (−)" if s.sign < 0 else ""), "x": labels,
                         "y": [None if v is None else s.sign * v for v in s.values],
                         "marker": {"color": color}})
        layout["barmode"] = "relative"
    elif chart.kind == "heatmap":
        axis = _y_axis(chart.unit)
        colorbar = {k: axis[k] for k in ("tickformat", "ticksuffix") if k in axis}
        data.append({"type": "heatmap", "x": labels, "y": [str(s.label) for s in chart.series],
                     "z": [list(s.values) for s in chart.series], "colorscale": "Blues", "reversescale": True,
                     "colorbar": colorbar})
        # rows are cohorts (or a metric's key): categories, oldest on top, never read as dates or numbers
        layout["yaxis"] = {"type": "category", "autorange": "reversed", "automargin": True,
                           "title": {"text": "cohort" if any(d == "cohort" for s in chart.series for d, _ in s.group)
                                     else ""}}
        layout["height"] = max(380, 60 + 28 * len(chart.series))
    return {"data": data, "layout": layout}


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _table(chart: Chart, report: Report, formulas: dict[str, str]) -> str:
    series, head, rows = table_of(chart, report.periods, report.grain)
    cells = []
    for s in series:  # what each column holds, for a reader (or a test) to find it in compute's result
        attrs = f'data-metric="{_e(s.key[0])}" data-variant="{_e(s.key[1])}"'
        if s.part is not None:
            attrs += f' data-part="{_e(s.part)}"'
        if s.group:
            attrs += f' data-group="{_e(json.dumps(dict(s.group), default=str))}"'
        cells.append(attrs)
    out = [f'<table class="numbers" data-chart="{_e(chart.id)}"><thead><tr>']
    for i, h in enumerate(head):
        title = formulas.get(h.removesuffix(" (−)"), "") if i else ""
        out.append(f'<th title="{_e(title)}">{_e(h)}</th>')
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append(f'<tr><th data-period="{_e(row[0][0])}">{_e(row[0][1])}</th>')
        for (raw, shown), attrs in zip(row[1:], cells):
            value = "" if raw is None else repr(raw)
            out.append(f'<td {attrs} data-value="{_e(value)}">{_e(shown)}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _definitions(section) -> str:
    out = ['<dl class="definitions">']
    for d in section.definitions:
        out.append(f'<dt>{_e(d.key[0])}:{_e(d.key[1])} <span class="unit">{_e(d.unit)}</span></dt>'
                   f'<dd><code>{_e(d.formula)}</code><br>{_e(d.description)}'
                   f'<br><span class="prov">provenance: {_e(", ".join(d.provenance) or "none given")}</span></dd>')
    out.append("</dl>")
    return "".join(out)


def _why(section) -> str:
    if not section.why_they_differ:
        return ""
    out = ['<div class="why"><h3>Why the variants differ</h3><ul>']
    for r in section.why_they_differ:  # as `csframe compare` says it (variant_readings.py)
        out.append(f"<li><b>{_e(r.key[0])}:{_e(r.key[1])}</b> ({_e(r.provenance)}): {_e(r.text)}"
                   f" — <code>{_e(r.formula)}</code></li>")
    out.append("</ul></div>")
    return "".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1f2937;background:#f3f4f6}
header{background:#111827;color:white;padding:16px 24px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#d1d5db}
main{padding:16px 24px;max-width:1400px;margin:auto}section{background:white;border-radius:8px;padding:16px;margin:0 0 20px;box-shadow:0 1px 3px #0002}
h2{margin:0 0 8px}.layout{display:grid;grid-template-columns:minmax(0,3fr) minmax(220px,1fr);gap:16px}
.chart{min-height:380px;width:100%}figure{margin:0 0 16px}figcaption{font-weight:600;margin:8px 0}
table.numbers{border-collapse:collapse;font-size:12px;margin:6px 0 8px;font-variant-numeric:tabular-nums}
table.numbers th,table.numbers td{border-bottom:1px solid #e5e7eb;padding:2px 8px;text-align:right;white-space:nowrap}
table.numbers thead th{cursor:help}.scroll{overflow-x:auto}
dl.definitions{font-size:12px}dl.definitions dt{font-weight:600;margin-top:8px;overflow-wrap:anywhere}dl.definitions dd{margin:2px 0 0 8px;color:#374151}
.unit{font-weight:400;color:#6b7280}.prov{color:#6b7280}.notes{color:#6b7280;font-size:13px}.why{font-size:13px}
"""

_SCRIPT = """
(function(){var specs=JSON.parse(document.getElementById('csframe-figures').textContent);
Object.keys(specs).forEach(function(id){var f=specs[id];
Plotly.newPlot(document.getElementById('chart-'+id),f.data,f.layout,{displaylogo:false,responsive:true});});})();
"""


def write_page(report: Report, stream: Any, subtitle: str) -> None:
    """Write the report as one HTML page to ``stream``."""
    js = plotly_js()
    figures = {c.id: figure(c, report) for s in report.sections for c in s.charts}
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(report.title)}</title><style>{_CSS}</style>",
             f"<script>{js}</script></head><body>",
             f"<header><h1>{_e(report.title)}</h1><p>{_e(subtitle)}</p></header><main>"]
    for section in report.sections:
        formulas = {}
        for d in section.definitions:
            formulas[f"{d.key[0]}:{d.key[1]}"] = formulas[d.key[0]] = f"{d.key[0]}:{d.key[1]} = {d.formula}"
        parts.append(f'<section id="{_e(section.id)}"><h2>{_e(section.title)}</h2><div class="layout"><div>')
        for chart in section.charts:
            parts.append(f'<figure><figcaption>{_e(chart.title)}</figcaption>'
                         f'<div class="chart" id="chart-{_e(chart.id)}" data-kind="{_e(chart.kind)}"></div>'
                         f'<div class="scroll">{_table(chart, report, formulas)}</div></figure>')
        parts.append(f"{_why(section)}</div><aside>{_definitions(section)}</aside></div></section>")
    if report.notes:
        parts.append('<section id="notes"><h2>Left out</h2><ul class="notes">')
        parts += [f"<li>{_e(n)}</li>" for n in report.notes]
        parts.append("</ul></section>")
    data = json.dumps(figures, allow_nan=False, default=str).replace("</", "<\\/")
    parts.append(f'</main><script type="application/json" id="csframe-figures">{data}</script>')
    parts.append(f"<script>{_SCRIPT}</script></body></html>\n")
    stream.write("".join(parts))
