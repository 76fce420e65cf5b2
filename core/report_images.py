"""``csframe report --images DIR``: a PNG of each chart of the report, for slides and chat.

Drawn by matplotlib (the ``report`` extra; also the ``graph`` extra's), from the same charts
as the HTML page: no browser is needed. Each image is written beside its final name and
renamed into place once complete."""

from __future__ import annotations

__all__ = ["ready_directory", "write_images"]

import os
import tempfile
from pathlib import Path

from .errors import CsframeError, MissingDependencyError, UsageError
from .report_model import Chart, Report, period_label

_HINT = "pip install 'csframe[report]'  (plotly for the page, matplotlib for --images)"
_COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"]


def _figure_class():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError("csframe report --images needs matplotlib, which is not installed",
                                     hint=_HINT) from None
    return Figure, FigureCanvasAgg


def _draw(chart: Chart, report: Report):
    Figure, FigureCanvasAgg = _figure_class()
    labels = [period_label(start, report.grain) for start, _ in report.periods]
    fig = Figure(figsize=(10, 4.2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(labels)))
    if chart.kind == "lines":
        for i, s in enumerate(chart.series):
            ax.plot(x, [float("nan") if v is None else v for v in s.values], marker="o", markersize=3,
                    color=_COLORS[i % len(_COLORS)], label=s.label)
    elif chart.kind == "waterfall":  # per period: each movement from the running level, then the level
        names, heights, bottoms, colors = [], [], [], []
        level = None
        total = chart.total
        for i, label in enumerate(labels):
            if total is None or total.values[i] is None:
                continue
            if level is None:
                level = total.values[i] - sum(s.sign * (s.values[i] or 0) for s in chart.series)
                names.append(f"{label} start")
                heights.append(level)
                bottoms.append(0)
                colors.append("#2563eb")
            for s in chart.series:
                move = s.sign * (s.values[i] or 0)
                names.append(f"{label} {s.label.replace('_mrr', '')}")
                heights.append(move)
                bottoms.append(level)
                colors.append("#16a34a" if move >= 0 else "#dc2626")
                level += move
            names.append(f"{label} {total.label}")
            heights.append(total.values[i])
            bottoms.append(0)
            colors.append("#2563eb")
            level = total.values[i]
        x = list(range(len(names)))
        ax.bar(x, heights, bottom=bottoms, color=colors)
        labels = names
    elif chart.kind in ("movements", "stacked"):
        up = [0.0] * len(x)
        down = [0.0] * len(x)
        for i, s in enumerate(chart.series):
            vals = [0.0 if v is None else s.sign * v for v in s.values]
            base = [down[j] if v < 0 else up[j] for j, v in enumerate(vals)]
            ax.bar(x, vals, bottom=base, color=_COLORS[i % len(_COLORS)], label=s.label)
            for j, v in enumerate(vals):
                if v < 0:
                    down[j] += v
                else:
                    up[j] += v
    elif chart.kind == "heatmap":
        grid = [[float("nan") if v is None else v for v in s.values] for s in chart.series]
        ax.imshow(grid, aspect="auto", cmap="Blues")
        ax.set_yticks(range(len(chart.series)), [str(s.label) for s in chart.series])
    step = max(1, len(labels) // 24)
    ax.set_xticks(x[::step], labels[::step], rotation=60 if len(labels) > 8 else 0, ha="right", fontsize=7)
    ax.set_title(chart.title)
    ax.set_ylabel(chart.unit)
    ax.grid(axis="y", alpha=0.3)
    if chart.kind != "heatmap" and chart.kind != "waterfall":
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def ready_directory(directory: str) -> Path:
    """``directory``, created if absent and checked writable: before anything is computed."""
    _figure_class()  # matplotlib missing: say so first
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--images {directory}: cannot create it ({e.strerror or e})",
                         hint="Name a directory you can write to.") from None
    if not os.access(out, os.W_OK):
        raise UsageError(f"--images {directory}: cannot write there", hint="Name a directory you can write to.")
    return out


def write_images(report: Report, directory: str) -> list[Path]:
    """One ``<chart id>.png`` per chart of ``report`` in ``directory`` (created if absent)."""
    out = ready_directory(directory)
    written = []
    for section in report.sections:
        for chart in section.charts:
            fig = _draw(chart, report)
            target = out / f"{chart.id}.png"
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=out)
            try:
                with os.fdopen(fd, "wb") as f:
                    fig.savefig(f, format="png")
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
                os.replace(tmp, target)
            except OSError as e:
                Path(tmp).unlink(missing_ok=True)
                raise CsframeError(f"--images {directory}: could not write {target.name} ({e.strerror or e})",
                                   hint="Free some space, or name another directory.") from None
            written.append(target)
    return written
