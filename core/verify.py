"""Checks that run definitions on an engine: the worked examples declared on variants, every
node's SQL on empty sources, and which node of a failed query broke it.

Unknown columns in a node's SQL are only found when an engine binds the query; the one
query csframe sends then fails with the engine's message, which names neither the node nor
the plugin. :func:`failing_steps` runs the query's steps (CTEs) one at a time, with
``LIMIT 0``, to find the first that fails on its own, and :func:`explain_failure` turns
that into an error naming the node and its plugin. Only the CLI prints.
"""

from __future__ import annotations

__all__ = ["ExampleOutcome", "run_examples", "failing_steps", "node_problems", "explain_failure", "check_node_sql",
           "empty_source_sql"]

import datetime as dt
import re
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import attrs
from sqlglot import exp

from .compiler import Compiled, SourceScan, compile_plan
from .contract import source
from .errors import CsframeError, MetricFailedError
from .examples import check_example
from .models import Example
from .periods import grain as to_grain
from .parameters import resolve_parameters
from .plan import Request, build_plan
from .project import SourceBinding
from .render import dialect_profile, render

Execute = Callable[[str], list[tuple]]

_NODE_HINT = ("A node's SQL reads src_<source> (the columns docs/sources.md lists, plus grp), the built-in "
              "nodes spine, groups and grid, and other nodes by the columns they select; fix it in the plugin.")


# -- worked examples ------------------------------------------------------------------------------

@attrs.frozen
class ExampleOutcome:
    """One declared worked example, evaluated: passed, the value found, or the error met."""

    metric: str
    variant: str
    plugin: str
    example: Example
    passed: bool
    value: float | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        return f"{self.metric}:{self.variant}"

    def describe(self) -> str:
        expected = "NULL" if self.example.expected is None else f"{self.example.expected:g}"
        if self.error is not None:
            return f"{self.label} — {self.example.text}: expected {expected}, failed: {self.error} (plugin {self.plugin!r})"
        got = "NULL" if self.value is None else f"{self.value:.10g}"
        if self.passed:
            return f"{self.label} — {self.example.text} → {expected}"
        return f"{self.label} — {self.example.text}: expected {expected}, got {got} (plugin {self.plugin!r})"


def run_examples(registry: Any, graph: Any, execute: Execute, profile: Any, *,
                 plugins: Collection[str] | None = None, metrics: Collection[str] | None = None) -> list[ExampleOutcome]:
    """Every worked example declared on a registered variant (of ``plugins`` / ``metrics`` when
    given), its formula evaluated through :func:`csframe.core.examples.check_example` by
    ``execute`` (SQL text → rows) in the dialect of the adapter class ``profile``."""

    def run(select: exp.Select) -> float | None:
        value = execute(render(select, profile, pretty=False))[0][0]
        return None if value is None else float(value)

    out = []
    for rv in registry.all_variants():
        if (plugins is not None and rv.plugin not in plugins) or (metrics is not None and rv.metric not in metrics):
            continue
        key = (rv.metric, rv.variant.name)
        for example in rv.variant.examples:
            try:
                passed, value = check_example(registry, graph, key, example, run)
            except CsframeError as e:
                out.append(ExampleOutcome(*key, rv.plugin, example, False, error=e.message))
            except KeyError as e:  # an input the formula needs is missing from the example
                out.append(ExampleOutcome(*key, rv.plugin, example, False, error=str(e.args[0] if e.args else e)))
            else:
                out.append(ExampleOutcome(*key, rv.plugin, example, passed, value))
    return out


# -- which step of a query fails ------------------------------------------------------------------

def _engine_message(error: CsframeError) -> str:
    """The engine's own words, without the LINE pointer (its numbers are of another query)."""
    lines = []
    text = re.sub(r"^\w+ failed to run the query: ", "", error.message)
    for line in text.splitlines():
        if line.strip().startswith("LINE ") or line.strip() == "^":
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines)


def _ctes(compiled: Compiled, whole: bool = False) -> list[exp.CTE]:
    """The steps of the query; ``whole``: before pruning, each node with every column it outputs."""
    query = compiled.full if whole and compiled.full is not None else compiled.query
    with_ = query.args.get("with_") or query.args.get("with")
    return list(with_.expressions) if with_ is not None else []


def _upto(ctes: list[exp.CTE], i: int) -> exp.Select:
    """``WITH <step i and the steps it reads, transitively> SELECT * FROM <step i>``."""
    names = [c.alias_or_name for c in ctes]
    needed, todo = {i}, [i]
    while todo:
        for t in ctes[todo.pop()].this.find_all(exp.Table):
            j = names.index(t.name) if t.name in names and not t.db else -1
            if 0 <= j < i and j not in needed:
                needed.add(j)
                todo.append(j)
    probe = exp.select(exp.Star()).from_(exp.to_table(names[i]))
    probe.set("with_", exp.With(expressions=[ctes[j].copy() for j in sorted(needed)]))
    return probe


def failing_steps(compiled: Compiled, profile: Any, execute: Execute) -> list[tuple[str, str]]:
    """(step name, engine message) of every step (CTE) of ``compiled`` that fails on its own.

    Each step is run as ``WITH <it and the steps before it> SELECT * FROM it LIMIT 0``; a step
    that reads a failed one is not tried (it would fail for the same reason)."""
    ctes = _ctes(compiled)
    failed: set[str] = set()
    out = []
    for i, cte in enumerate(ctes):
        name = cte.alias_or_name
        if {t.name for t in cte.this.find_all(exp.Table)} & failed:
            failed.add(name)
            continue
        try:
            execute(render(_upto(ctes, i).limit(0), profile, pretty=False))
        except MetricFailedError as e:
            failed.add(name)
            out.append((name, _engine_message(e)))
    return out


def node_problems(registry: Any, compiled: Compiled, profile: Any, adapter: Any) -> list[tuple[str, str]]:
    """(step name, what is wrong) for the steps of ``compiled`` that fail on their own, and for
    each node with measures that runs but does not output ``grp``, ``period_start`` and them."""
    out = failing_steps(compiled, profile, adapter.execute)
    failed = {name for name, _ in out}
    ctes = _ctes(compiled, whole=True)  # a node's measures, whether or not this run reads them
    for i, cte in enumerate(ctes):
        name = cte.alias_or_name
        if name in failed or name not in registry.nodes or not registry.nodes[name].node.measures:
            continue
        measures = registry.nodes[name].node.measures
        wanted = ["grp", "period_start", *[m.name for m in measures], *dict.fromkeys(m.key for m in measures if m.key)]
        try:
            have = [c.lower() for c in adapter.relation_columns(render(_upto(ctes, i), profile, pretty=False))]
        except CsframeError:
            continue
        missing = [c for c in wanted if c.lower() not in have]
        if missing:
            out.append((name, f"outputs no column {', '.join(missing)} (a node with measures outputs grp, period_start "
                              f"and each measure; it outputs {', '.join(have)})"))
    return out


def explain_failure(registry: Any, compiled: Compiled, profile: Any, adapter: Any,
                    error: MetricFailedError, engine: str) -> MetricFailedError:
    """``error`` (the whole query failed) restated as the nodes and plugins whose SQL is wrong,
    when some node's step fails on its own or lacks an output column; else ``error`` unchanged."""
    nodes = [(name, msg) for name, msg in node_problems(registry, compiled, profile, adapter) if name in registry.nodes]
    if not nodes:
        return error
    lines = [f"node {name!r} of plugin {registry.nodes[name].plugin!r} fails on {engine}: {msg}" for name, msg in nodes]
    return MetricFailedError("\n  ".join(lines), hint=_NODE_HINT)


# -- every node on empty sources ------------------------------------------------------------------

def empty_source_sql(name: str, dialect: str) -> str:
    """``SELECT CAST(NULL AS <type>) AS <column>, … WHERE FALSE`` for a canonical source."""
    src = source(name)
    select = exp.select(*[exp.alias_(exp.cast(exp.Null(), c.type), c.name, quoted=True) for c in src.columns])
    return select.where(exp.false()).sql(dialect)


def check_node_sql(registry: Any, graph: Any, parameters: dict[str, Any], project_dir: Path,
                   adapter_name: str) -> tuple[int, list[str]]:
    """(nodes run, problems): every registered variant compiled into one query over empty
    sources and run (LIMIT 0) on an in-memory engine; each node whose SQL fails is named with
    its plugin. Finds unknown columns and tables in node SQL before any data is read."""
    profile = dialect_profile(registry, adapter_name)
    parameters = {k: v for k, v in parameters.items() if k in registry.parameters}
    keys = [(rv.metric, rv.variant.name) for rv in registry.all_variants()]
    # a variant that needs a --by (the cohort metrics) is run in a plan of its own, with that --by
    needing: dict[tuple[str, ...], list] = {}
    for key in keys:
        needing.setdefault(tuple(graph.needs_by(key)), []).append(key)
    nodes: set[str] = set()
    problems: list[str] = []
    plans = [_empty_run_plan(registry, graph, group, by, parameters) for by, group in needing.items()]
    # a node's alternatives (Node.alternative_to) run only in plans that choose them: one such plan each
    waiting = {a for alternatives in registry.alternatives.values() for a in alternatives}
    waiting -= {n for plan in plans if plan is not None for n in plan.providers.values()}
    for key in keys:
        if not waiting:
            break
        plan = _empty_run_plan(registry, graph, [key], tuple(graph.needs_by(key)), parameters)
        if plan is not None and waiting & set(plan.providers.values()):
            waiting -= set(plan.providers.values())
            plans.append(plan)
    for plan in plans:
        if plan is None:
            continue
        nodes.update(plan.nodes)
        problems += [p for p in _run_on_empty_sources(registry, graph, plan, profile, project_dir, adapter_name)
                     if p not in problems]
    return len(nodes), problems


def _empty_run_plan(registry: Any, graph: Any, keys: list, by: tuple[str, ...], parameters: dict[str, Any]) -> Any:
    """The plan of ``keys`` (``--by by``) for :func:`check_node_sql`, leaving out those that cannot
    be planned alone (e.g. a required parameter); None when none can."""
    request = Request(tuple(keys), to_grain("month"), dt.date(2000, 1, 1), dt.date(2000, 3, 1), by=by)
    try:
        values = resolve_parameters(registry, graph, keys, parameters)
        return build_plan(registry, graph, request, values)
    except CsframeError:  # a variant that cannot be planned alone (e.g. a required parameter): skip those
        planned = []
        for key in keys:
            try:
                one = resolve_parameters(registry, graph, [key], parameters)
                build_plan(registry, graph, attrs.evolve(request, keys=(key,)), one)
            except CsframeError:
                continue
            planned.append(key)
        if not planned:
            return None
        values = resolve_parameters(registry, graph, planned, parameters)
        return build_plan(registry, graph, attrs.evolve(request, keys=tuple(planned)), values)


def _run_on_empty_sources(registry: Any, graph: Any, plan: Any, profile: Any, project_dir: Path,
                          adapter_name: str) -> list[str]:
    problems: list[str] = []
    dialect = profile.DIALECT
    scans = {s: SourceScan(SourceBinding(s, sql=empty_source_sql(s, dialect)), dialect) for s in plan.sources}
    compiled = compile_plan(registry, plan, scans, graph.default_variant)
    adapter = profile({"name": adapter_name}, project_dir)
    adapter.connect()
    try:
        try:
            adapter.execute(render(compiled.query, profile, pretty=False))
        except MetricFailedError:
            for name, msg in node_problems(registry, compiled, profile, adapter):
                if name in registry.nodes:
                    problems.append(f"plugin {registry.nodes[name].plugin!r}, node {name!r} (run on empty sources in "
                                    f"{adapter_name}): {msg}")
                else:
                    problems.append(f"step {name!r} of the query fails on empty sources ({adapter_name}): {msg}")
    finally:
        adapter.close()
    return problems
