"""``csframe report``'s content: which metric variants it needs (:func:`plan_report`), and
the sections, charts and tables built from the one result that computed them all
(:func:`build_report`). Nothing here draws: report_page.py writes the HTML, report_images.py
the PNGs."""

from __future__ import annotations

__all__ = ["Series", "Chart", "Section", "Report", "ReportPlan", "plan_report", "build_report", "period_label",
           "table_of"]

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import attrs

from .display import format_series, format_value
from .graph import Key
from .report_sections import COHORT_METRIC, SECTIONS, ChartSpec, SectionSpec
from .result import Result
from .variant_readings import Reading, readings


@attrs.frozen
class Series:
    """One line (or bar group) of a chart: a metric variant, in one ``--by`` group, and, for a
    metric whose rows carry a key of their own (a health band), one value of that key."""

    key: Key
    label: str
    unit: str
    group: tuple[tuple[str, Any], ...]  # (dimension, value) of the --by split
    part: Any  # the value of the metric's own key, or None
    sign: int
    values: tuple[float | None, ...]  # one per period of the report


@attrs.frozen
class Chart:
    id: str
    title: str
    kind: str
    unit: str
    series: tuple[Series, ...]
    total: Series | None = None  # waterfall: the level bridged


@attrs.frozen
class Definition:
    key: Key
    unit: str
    formula: str
    description: str
    provenance: tuple[str, ...]


@attrs.frozen
class Section:
    id: str
    title: str
    charts: tuple[Chart, ...]
    definitions: tuple[Definition, ...]
    why_they_differ: tuple[Reading, ...] = ()  # metrics with several variants: each variant's reading (as compare's)


@attrs.frozen
class Report:
    title: str
    grain: str
    periods: tuple[tuple[dt.date, dt.date], ...]
    by: tuple[str, ...]
    sections: tuple[Section, ...]
    notes: tuple[str, ...]  # sections and metrics left out, and why


@attrs.frozen
class ReportPlan:
    """The metric variants the report computes in its one run, per chart, and the notes on
    what it leaves out before computing (metrics not registered, sources missing)."""

    charts: dict[str, list[Key]]
    notes: list[str]
    asked: frozenset[str] | None = None  # the metrics --metric named (None: all)
    cohort_charts: dict[str, list[Key]] = attrs.Factory(dict)  # computed in a second run, --by cohort

    @property
    def keys(self) -> list[Key]:
        return list(dict.fromkeys(k for keys in self.charts.values() for k in keys))

    @property
    def cohort_keys(self) -> list[Key]:
        return list(dict.fromkeys(k for keys in self.cohort_charts.values() for k in keys))


def _wanted(selected: Sequence[Key] | None, metric: str) -> list[str] | None:
    """The variants ``--metric`` asks for of ``metric`` (None: not asked for); without
    ``--metric``, every metric is (an empty list: its chart's own choice of variants)."""
    if selected is None:
        return []
    variants = [v for m, v in selected if m == metric]
    return variants or None


def _chart_keys(session: Any, spec: ChartSpec, selected: Sequence[Key] | None, explicit: set[str],
                by: Sequence[str], notes: list[str]) -> list[Key]:
    keys: list[Key] = []
    for metric in (*spec.metrics, *([spec.total] if spec.total else [])):
        if metric not in session.registry.metrics:
            continue
        wanted = _wanted(selected, metric)
        if wanted is None and metric != spec.total:
            continue
        if wanted and metric in explicit:
            variants = wanted
        elif spec.all_variants:
            variants = session.registry.variant_names(metric)
        else:
            variants = [session.graph.default_variant(metric)]
        for v in variants:
            key = (metric, v)
            lacks = session.missing_sources(key)
            if lacks:
                notes.append(f"{metric}:{v}: it needs {', '.join(lacks)}")
            elif by and session.graph.unsplittable_sources(key):
                notes.append(f"{metric}:{v}: its sources have no customer, so --by cannot split it")
            else:
                keys.append(key)
    if spec.total is not None and not any(k[0] != spec.total for k in keys):
        return []  # a bridge without its movements
    if spec.total is not None and not any(k[0] == spec.total for k in keys):
        notes.append(f"{spec.title}: it needs {spec.total}")
        return []
    return keys


def plan_report(session: Any, metrics: Sequence[str] = (), by: Sequence[str] = ()) -> ReportPlan:
    """The keys each chart needs. ``metrics`` (``--metric NAME[:VARIANT]``) keeps only those
    metrics (a variant named: only that variant); none: every metric of the sections."""
    selected = [session.graph.parse_key(m) for m in metrics] if metrics else None
    explicit = {session.graph.parse_key(m)[0] for m in metrics if ":" in m}
    notes: list[str] = []
    charts: dict[str, list[Key]] = {}
    cohort_charts: dict[str, list[Key]] = {}
    for section in SECTIONS:
        if section.id == "cohorts" and COHORT_METRIC not in session.registry.metrics:
            continue
        for spec in section.charts:
            keys = _chart_keys(session, spec, selected, explicit, by, notes)
            if keys:
                (cohort_charts if section.id == "cohorts" else charts)[spec.id] = keys
    return ReportPlan(charts=charts, notes=list(dict.fromkeys(notes)),
                      asked=None if selected is None else frozenset(k[0] for k in selected),
                      cohort_charts=cohort_charts)


def period_label(start: dt.date, grain: str) -> str:
    """A period as people name it: 2024-10 (month), 2024 Q4, 2024, or its first day."""
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    if grain == "year":
        return str(start.year)
    return start.isoformat()


def _label(key: Key, several: bool, group: tuple, part: Any) -> str:
    text = f"{key[0]}:{key[1]}" if several else key[0]
    if part is not None:
        text = str(part)
    if group:
        text += " · " + ", ".join(f"{d}={v}" for d, v in group)
    return text


def _rows_by_series(result: Result, by: Sequence[str]) -> dict[tuple, dict[dt.date, Any]]:
    """(key, group, part) → {period_start: value}."""
    cols = list(result.columns)
    out: dict[tuple, dict[dt.date, Any]] = {}
    for row in result.rows:
        rec = dict(zip(cols, row))
        key = (rec["metric"], rec["variant"])
        group = tuple((d, rec.get(d)) for d in by)
        own = [c for c in result.dimension_keys.get(key, ()) if c not in by]
        part = rec.get(own[0]) if own else None
        out.setdefault((key, group, part), {})[rec["period_start"]] = rec["value"]
    return out


def _definition(session: Any, key: Key) -> Definition:
    v = session.registry.variants[key].variant
    return Definition(key, session.registry.unit(*key), v.formula, v.description or session.registry.metrics[key[0]].description,
                      tuple(v.provenance))


def _charts(spec: ChartSpec, keys: list[Key], series_rows: dict, periods: list[dt.date], units: dict[Key, str],
            by: Sequence[str]) -> list[Chart]:
    several = len({k[0] for k in keys}) < len(keys)  # a metric with several variants: name them
    sign = dict(zip(spec.metrics, spec.signs))
    made: list[Series] = []
    total: dict[tuple, Series] = {}
    for (key, group, part), values in sorted(series_rows.items(), key=lambda kv: (
            keys.index(kv[0][0]) if kv[0][0] in keys else 1e9, repr(kv[0][1]), repr(kv[0][2]))):
        if key not in keys:
            continue
        s = Series(key, _label(key, several, group if spec.kind in ("lines",) else (), part), units[key], group,
                   part, sign.get(key[0], 1), tuple(format_value(values.get(p)) for p in periods))
        if key[0] == spec.total:
            total[group] = s
        else:
            made.append(s)
    if not any(v is not None for s in made for v in s.values):
        return []
    if spec.kind == "lines":  # one chart per unit; --by groups are lines of the same chart
        by_unit: dict[str, list[Series]] = {}
        for s in made:
            by_unit.setdefault(s.unit, []).append(s)
        return [Chart(spec.id if len(by_unit) == 1 else f"{spec.id}_{unit}",
                      spec.title if len(by_unit) == 1 else f"{spec.title} ({unit})", spec.kind, unit, tuple(ss))
                for unit, ss in by_unit.items()]
    if spec.kind == "heatmap":  # one grid: a row per value of the metric's key (and --by group)
        rows = tuple(attrs.evolve(s, label=str(s.part) if s.part is not None else
                                  ", ".join(str(v) for _, v in s.group) or s.key[0]) for s in made)
        return [Chart(spec.id, spec.title, spec.kind, made[0].unit, rows)]
    groups = list(dict.fromkeys(s.group for s in made))  # the other kinds: one chart per --by group
    out = []
    for g in groups:
        suffix = "" if not g else " · " + ", ".join(f"{d}={v}" for d, v in g)
        cid = spec.id + "".join("_" + (re.sub(r"[^A-Za-z0-9-]+", "_", str(v)).strip("_") or "x") for _, v in g)
        while any(c.id == cid for c in out):  # two values that read the same once made a name
            cid += "_"
        ss = tuple(s for s in made if s.group == g)
        out.append(Chart(cid, spec.title + suffix, spec.kind, ss[0].unit, ss, total.get(g)))
    return out


def build_report(session: Any, plan: ReportPlan, result: Result, by: Sequence[str] = (),
                 cohorts: Result | None = None) -> Report:
    """The report's sections from ``result`` (the one run of ``plan.keys``) and ``cohorts`` (the
    run of ``plan.cohort_keys`` ``--by cohort`` and ``by``): a section whose charts have no value
    in any period is left out, with a note."""
    periods = sorted({(r[2], r[3]) for r in result.rows} | {(r[2], r[3]) for r in (cohorts.rows if cohorts else ())})
    starts = [p[0] for p in periods]
    units = {k: session.registry.unit(*k) for k in (*plan.keys, *plan.cohort_keys)}
    series_rows = _rows_by_series(result, by)
    cohort_rows = _rows_by_series(cohorts, ("cohort", *by)) if cohorts is not None else {}
    notes = list(plan.notes)
    sections = []
    for section in SECTIONS:
        if section.id == "cohorts" and COHORT_METRIC not in session.registry.metrics:
            notes.append("cohorts: not available")
            continue
        charts: list[Chart] = []
        used: list[Key] = []
        for spec in section.charts:
            if section.id == "cohorts":
                keys = plan.cohort_charts.get(spec.id, [])
                made = _charts(spec, keys, cohort_rows, starts, units, ("cohort", *by))
            else:
                keys = plan.charts.get(spec.id, [])
                made = _charts(spec, keys, series_rows, starts, units, by)
            charts += made
            if made:
                used += keys
        if not charts:
            if any(spec.id in plan.charts or spec.id in plan.cohort_charts for spec in section.charts):
                notes.append(f"{section.title}: no data for it in these periods")
            elif plan.asked is None or plan.asked & {m for spec in section.charts for m in spec.metrics}:
                notes.append(f"{section.title}: none of its metrics can be computed here")
            continue  # (a section --metric did not ask for goes without a note)
        used = list(dict.fromkeys(used))
        several = [k for k in used if sum(1 for u in used if u[0] == k[0]) > 1]
        sections.append(Section(section.id, section.title, tuple(charts),
                                tuple(_definition(session, k) for k in used),
                                tuple(readings(session.registry, several)) if section.explain_variants else ()))
    return Report("csframe report", result.grain, tuple(periods), tuple(by), tuple(sections), tuple(notes))


def table_of(chart: Chart, periods: Sequence[tuple[dt.date, dt.date]],
             grain: str) -> tuple[list[Series], list[str], list[list[tuple[Any, str]]]]:
    """A chart's numbers: its series (a waterfall's level, its total, last), the header, then
    per period its (first day, label) and each series' (raw value, value as displayed)."""
    series = [*chart.series, *([chart.total] if chart.total is not None else [])]
    shown = [format_series(list(s.values), s.unit) for s in series]
    head = ["period", *[s.label + (" (−)" if s.sign < 0 else "") for s in series]]
    rows = []
    for i, (start, _) in enumerate(periods):
        rows.append([(start.isoformat(), period_label(start, grain)),
                     *[(s.values[i], shown[j][i]) for j, s in enumerate(series)]])
    return series, head, rows
