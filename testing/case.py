"""The ``csframe_case`` object: load a test's rows on one engine, compute metrics through the whole
pipeline, and compare their values with the expected ones (or run the declared worked examples)."""

from __future__ import annotations

__all__ = ["SHOW_SQL_ENV", "Case"]

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from csframe.core.errors import MetricFailedError
from csframe.core.examples import within
from csframe.core.periods import floor, shift
from csframe.core.periods import grain as to_grain
from csframe.core.project import Project, SourceBinding
from csframe.core.render import dialect_profile
from csframe.core.verify import ExampleOutcome, explain_failure, run_examples

from .engines import _Namespace
from .rows import RowsError, load_rows, text_header

SHOW_SQL_ENV = "CSFRAME_TEST_SHOW_SQL"


def _same(value: float | None, expected: float | None, tolerance: float) -> bool:
    if expected is None or value is None:
        return expected is None and value is None
    return within(value, expected, tolerance)


def _show(v: Any) -> str:
    return "NULL" if v is None else f"{v:.12g}" if isinstance(v, float) else repr(v)


class Case:
    """``csframe_case``: load rows on one engine, compute, compare. Call it, or use
    :meth:`compute`, :meth:`session` and :meth:`examples` for more than one value."""

    def __init__(self, namespace: _Namespace, base_dir: Path | None = None, workdir: Path | None = None) -> None:
        self._ns = namespace
        self.base_dir = base_dir
        self.workdir = workdir or Path.cwd()
        self._sessions: list[Any] = []
        self.last_sql = ""

    @property
    def engine(self) -> str:
        return self._ns.engine

    def session(self, rows: Mapping[str, Any] | str | os.PathLike | None = None, *,
                variants: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
                modules: Sequence[str] = (), disable: Sequence[str] = ()) -> Any:
        """A :class:`~csframe.core.session.Session` over ``rows`` loaded on this engine (closed after
        the test). The project behind it maps a source to each table given, and takes ``variants``
        (``[variants]``), ``params`` (``[parameters]``), ``modules`` and ``disable`` (``[plugins]``:
        project-local plugin modules, and plugins — installed ones by entry-point name — kept out)."""
        from csframe.core.session import Session

        dataset = load_rows(rows if rows is not None else {}, self.base_dir)
        project = Project(dir=self.base_dir or self.workdir, adapter=dict(self._ns.settings),
                          sources={t.name: SourceBinding(t.name, table=t.name) for t in dataset.tables},
                          variants=dict(variants or {}), parameters=dict(params or {}), plugin_modules=tuple(modules),
                          plugin_disable=(disable,) if isinstance(disable, str) else tuple(disable))
        s = Session.open(project=project)
        self._sessions.append(s)
        loader = dialect_profile(s.registry, self.engine)(dict(self._ns.settings), self.workdir)
        loader.connect(write=True)
        self._ns.used = True  # connected: the namespace may exist now, and is dropped after the test
        try:
            if dataset.tables:
                loader.load_tables(dataset)
        finally:
            loader.close()
        return s

    def compute(self, rows: Any, metrics: str | Sequence[str], *, start: str | dt.date,
                end: str | dt.date | None = None, grain: str = "month", by: Sequence[str] = (),
                variants: Mapping[str, str] | None = None, params: Mapping[str, Any] | None = None,
                modules: Sequence[str] = (), disable: Sequence[str] = ()) -> Any:
        """The :class:`~csframe.core.result.Result` of ``metrics`` over [start, end) (one period when no end)."""
        s = self.session(rows, variants=variants, params=params, modules=modules, disable=disable)
        return self._run(s, [metrics] if isinstance(metrics, str) else list(metrics), start, end, grain, by)

    @staticmethod
    def _check_rows(s: Any, metrics: list[str], by: Sequence[str]) -> None:
        """Every source the metrics (and a split by dimension) read has rows; else say which to give.
        (The session would say "Map [sources.x] in csframe.toml": in a test the rows are the sources.)"""
        needs: dict[str, list[str]] = {}
        for key in s.keys(metrics):
            for name in s.missing_sources(key):
                needs.setdefault(name, []).append(f"metric {key[0]}:{key[1]}")
        if by and "customers" not in s.project.sources:
            needs.setdefault("customers", []).append(f"splitting by {', '.join(by)} (where= or by=)")
        if needs:
            why = "; ".join(f"{name} for {', '.join(who)}" for name, who in needs.items())
            given = ", ".join(f'"{name}": ...' for name in needs)
            columns = "; ".join(f"{name}: {text_header(name)}" for name in needs)
            raise RowsError(f"csframe_case: no rows for {why}. Give them in the test: rows={{{given}}}, as a text "
                            f"table, a list of dicts, (columns, rows) or a .csv file ({columns}); [] is a source "
                            "with no row")

    def _run(self, s: Any, metrics: list[str], start: Any, end: Any, grain: str, by: Sequence[str]) -> Any:
        self._check_rows(s, metrics, by)
        g = to_grain(grain)
        start_d = floor(start if isinstance(start, dt.date) else dt.date.fromisoformat(start), g)
        end_d = shift(start_d, g, 1) if end is None else \
            (end if isinstance(end, dt.date) else dt.date.fromisoformat(end))
        try:
            result = s.compute(metrics, grain=grain, start=start_d, end=end_d, by=by)
        except MetricFailedError as e:
            raise self._explain(s, metrics, start_d, end_d, grain, by, e) from None
        self.last_sql = result.sql
        return result

    def _explain(self, s: Any, metrics: list[str], start: dt.date, end: dt.date, grain: str, by: Sequence[str],
                 error: MetricFailedError) -> MetricFailedError:
        try:
            plan = s.plan(s.request(s.keys(metrics), grain=grain, start=start, end=end, by=by))
            _, absent = s.inspect_sources(plan.sources, plan.by)
            compiled, _ = s.compile(plan, absent=absent)
            profile = dialect_profile(s.registry, self.engine)
            return explain_failure(s.registry, compiled, profile, s.adapter(), error, self.engine)
        except Exception:  # noqa: BLE001 - the diagnosis is best effort; the engine's error stands
            return error

    def __call__(self, rows: Any, metric: str | None = None, period: str | dt.date | None = None,
                 expected: float | None | Mapping[str, float | None] = None, *, grain: str = "month",
                 where: Mapping[str, Any] | None = None, variants: Mapping[str, str] | None = None,
                 params: Mapping[str, Any] | None = None, modules: Sequence[str] = (),
                 disable: Sequence[str] = (), tolerance: float = 1e-9) -> Any:
        """Load ``rows``, compute ``metric`` (``name`` or ``name:variant``) for the period of
        ``grain`` holding ``period``, and assert its value is ``expected`` (None = NULL); returns
        the value. Without ``metric``, ``expected`` maps several metrics to their values: one
        query computes them all, and every mismatch is reported at once (returns a dict).
        ``where`` picks one row by dimension (``{"plan": "pro"}`` computes ``--by plan``; a
        metric's own key such as ``feature`` is picked without splitting). ``variants``, ``params``,
        ``modules`` and ``disable`` are the project's, as in :meth:`session`."""
        if period is None:
            raise TypeError("csframe_case: give the period, e.g. period='2024-03-01'")
        if metric is None:
            if not isinstance(expected, Mapping) or not expected:
                raise TypeError("csframe_case: give metric=..., or expected={metric: value, ...}")
            wanted = dict(expected)
        else:
            wanted = {metric: expected}
        s = self.session(rows, variants=variants, params=params, modules=modules, disable=disable)
        keys = {m: s.graph.parse_key(m) for m in wanted}
        where = dict(where or {})
        own = {s.registry.dimension_of(*k) for k in keys.values()}
        by = [k for k in where if k not in own]
        g = to_grain(grain)
        start = floor(period if isinstance(period, dt.date) else dt.date.fromisoformat(str(period)), g)
        result = self._run(s, list(dict.fromkeys(f"{k[0]}:{k[1]}" for k in keys.values())), start, None, grain, by)
        span = f"the {grain} starting {start.isoformat()}" + (f" where {where}" if where else "")
        values, wrong = {}, []
        for name, key in keys.items():
            label = f"{key[0]}:{key[1]}"
            hits = []
            for row in result.rows:
                r = dict(zip(result.columns, row))
                if (r["metric"], r["variant"]) != key or r["period_start"] != start:
                    continue
                if all((r.get(k) is None) == (v is None) and str(r.get(k)) == str(v) for k, v in where.items()
                       if k in r):
                    hits.append(r)
            if len(hits) != 1:
                shown = "\n  ".join(str(row) for row in result.rows[:12])
                raise AssertionError(f"{label} for {span} on {self.engine}: {len(hits)} rows match, expected one"
                                     f"{' (pick one with where={...})' if len(hits) > 1 else ''}; the result's rows "
                                     f"{result.columns}:\n  {shown}")
            value = None if hits[0]["value"] is None else float(hits[0]["value"])
            values[name] = value
            if not _same(value, wanted[name], tolerance):
                wrong.append(f"{label}: expected {_show(wanted[name])}, got {_show(value)}")
        if wrong:
            sql = f"\n--- the query ({self.engine}) ---\n{result.sql}" if os.environ.get(SHOW_SQL_ENV) == "1" else \
                f"\n(set {SHOW_SQL_ENV}=1 to see the query)"
            head = f"for {span} on {self.engine}"
            raise AssertionError(f"{wrong[0]} {head}{sql}" if len(wrong) == 1 else
                                 f"{len(wrong)} values differ {head}:\n  " + "\n  ".join(wrong) + sql)
        return values[metric] if metric is not None else values

    def examples(self, *, plugin: str | None = None, metrics: Sequence[str] | None = None,
                 variants: Mapping[str, str] | None = None, modules: Sequence[str] = (),
                 disable: Sequence[str] = ()) -> list[ExampleOutcome]:
        """Evaluate every worked example declared on the variants ``plugin`` registered (or of
        ``metrics``; all when neither) on this engine; assert each gives its expected value."""
        s = self.session(None, variants=variants, modules=modules, disable=disable)
        adapter = s.adapter()
        adapter.connect(write=True)
        profile = dialect_profile(s.registry, self.engine)
        outcomes = run_examples(s.registry, s.graph, adapter.execute, profile,
                                plugins=None if plugin is None else {plugin},
                                metrics=None if metrics is None else set(metrics))
        if not outcomes:
            known = sorted({rv.plugin for rv in s.registry.all_variants() if rv.variant.examples})
            what = f"plugin {plugin!r}" if plugin else f"metrics {list(metrics or [])}"
            raise AssertionError(f"no worked example is declared on the variants of {what}; plugins with "
                                 f"examples: {', '.join(known) or 'none'}. Is the plugin installed (pip install -e .)?")
        failed = [o for o in outcomes if not o.passed]
        if failed:
            raise AssertionError(f"{len(failed)} of {len(outcomes)} worked example(s) failed on {self.engine}:\n  "
                                 + "\n  ".join(o.describe() for o in failed))
        return outcomes

    def close(self) -> None:
        for s in self._sessions:
            s.close()
        self._sessions.clear()
        if self._ns.used:
            self._ns.drop()
