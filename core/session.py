"""The session: one project, one plugin manager, one registry — the Python API and
what every CLI command goes through.

    >>> from csframe.core.session import Session
    >>> s = Session.open("my-project")
    >>> result = s.compute(["churn_rate", "mrr"], grain="month", start="2024-01-01", end="2025-01-01")
"""

from __future__ import annotations

__all__ = ["Session", "mapping_error"]

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from . import by_dimensions, contract_checks
from .cohorts import COHORT
from .compiler import Compiled, SourceScan, compile_plan
from .contract import SOURCES, source
from .errors import MetricFailedError, ProjectError, UsageError, did_you_mean
from .graph import Graph, Key
from .periods import FIRST_DATE, GRAINS, LAST_DATE, Grain, check_span, default_range, grain as to_grain
from .parameters import checked_overrides, resolve_parameters
from .plan import Plan, Request, build_plan
from .plugin_manager import Plugins
from .plugin_sets import plugin_set
from .project import Project
from .registry import Registry
from .render import dialect_profile, prepared, render
from .result import Result


def _date(value: str | dt.date | None, flag: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag} {value!r} is not a date",
                         hint=f"Write dates as YYYY-MM-DD, from {FIRST_DATE} to {LAST_DATE}.") from None


def _with_adapter_name(project: Project, registry: Registry) -> Project:
    """``project`` with ``[adapter] name`` set: the registry's default adapter when the
    project file names none (a project-file error when no plugin names a default)."""
    if "name" in project.adapter:
        return project
    if registry.default_adapter is None:
        raise ProjectError(
            f"{project.path or 'csframe.toml'}: adapter.name: not set, and no installed plugin names a default adapter",
            hint=f"Set name under [adapter] (adapters: {', '.join(registry.adapters) or 'none registered'}).")
    return attrs.evolve(project, adapter={"name": registry.default_adapter, **project.adapter})


def _check_adapter_name(project: Project, registry: Registry) -> None:
    """``[adapter] name`` is an adapter some plugin registers (a project-file error naming it)."""
    name = project.adapter["name"]
    if name in registry.dialects:
        raise ProjectError(
            f"{project.path or 'csframe.toml'}: adapter.name: {name!r} is a SQL-only dialect: csframe prints its "
            "SQL but has no adapter to run it",
            hint=f"Print the SQL with `csframe sql METRIC --dialect {name}`, and run it yourself; or use one of the "
                 f"adapters: {', '.join(registry.adapters)} (a plugin may register more).")
    if name not in registry.adapters:
        raise ProjectError(
            f"{project.path or 'csframe.toml'}: adapter.name: no adapter {name!r}.{did_you_mean(name, registry.adapters)}",
            hint=f"Adapters: {', '.join(registry.adapters)} (a plugin may register more); "
                 "set name under [adapter].")


@attrs.define
class Session:
    """A project with its plugins loaded and its definitions checked."""

    project: Project
    plugins: Plugins
    registry: Registry
    graph: Graph
    _adapter: Any = None
    _compiled: Any = None
    _types: dict[str, tuple[tuple[str, Any], ...]] = attrs.field(factory=dict)  # learnt by inspect_sources

    @classmethod
    def open(cls, project_dir: str | Path | None = None, *, project: Project | None = None,
             entry_points: bool = True) -> Session:
        project = project or Project.load(project_dir)
        loaded = plugin_set(modules=project.plugin_modules, disable=project.plugin_disable,
                            project_dir=project.dir, entry_points=entry_points)  # once per process and plugin set
        plugins, registry = loaded.plugins(), loaded.registry()
        project = _with_adapter_name(project, registry)
        _check_adapter_name(project, registry)
        graph = Graph(registry, dict(project.variants))
        graph.check_choices()
        plugins.pm.hook.csframe_configure.call_historic(kwargs={"project": project})
        return cls(project, plugins, registry, graph)

    # -- definitions -----------------------------------------------------------
    def keys(self, names: Iterable[str]) -> list[Key]:
        return [self.graph.parse_key(n) for n in names]

    def missing_sources(self, key: Key) -> list[str]:
        return self.graph.missing_sources(key, self.project.sources)

    def all_keys(self) -> tuple[list[Key], dict[Key, list[str]]]:
        """--all: every metric at its default variant that the project can compute, and the rest."""
        ok, missing = [], {}
        for name in self.registry.metrics:
            key = (name, self.graph.default_variant(name))
            lacks = self.missing_sources(key)
            if lacks:
                missing[key] = lacks
            else:
                ok.append(key)
        return ok, missing

    def request(self, keys: Sequence[Key], *, grain: str = "month", start: str | dt.date | None = None,
                end: str | dt.date | None = None, by: Sequence[str] = (), lenient: bool = False,
                vs: str | None = None, window: str | None = None) -> Request:
        """``window``: trailing windows (``30d``, ``13w``, ``3m``, ``12m``; :mod:`.windows`)."""
        from .windows import parse_window

        calendar = self.project.calendar
        g = self.grain(grain)
        win = None if window is None else parse_window(window, g)
        d_start, d_end = default_range(g, calendar.today()) if not g.periods or end is None else (None, None)
        end_d = _date(end, "--end") or d_end
        start_d = _date(start, "--start")
        if start_d is None:
            from .periods import floor, shift

            try:
                start_d = shift(floor(end_d, g), g, -12) if end is not None else d_start
            except (ValueError, OverflowError):
                raise UsageError(f"--end {end_d}: the 12 periods before it would start before {FIRST_DATE}",
                                 hint="Give --start too.") from None
        if not g.periods:
            check_span(start_d, end_d, g)
        if win is not None and win.periods > 1:  # the spine also reads the two windows before the first period
            from .periods import floor, shift

            try:
                check_span(shift(floor(start_d, g), g, 2 - 2 * win.periods), end_d, g)
            except (ValueError, OverflowError, UsageError):
                raise UsageError(f"--window {win.text}: the first window would start before {FIRST_DATE}",
                                 hint="Use a later --start.") from None
        return Request(tuple(keys), g, start_d, end_d, tuple(by), lenient, vs=vs, time_zone=calendar.time_zone,
                       window=win)

    def grain(self, name: str) -> Grain:
        """The grain ``name`` in the project's calendar: a built-in one with the calendar's anchor,
        or a grain of the calendar source, its periods read (a small query) and checked."""
        if name not in GRAINS:  # a grain of the project's calendar source, or an error naming the grains
            from .custom_calendar import custom_grain

            return custom_grain(self, name)
        return to_grain(name, self.project.calendar.anchor(name))

    def plan(self, request: Request, params: Mapping[str, Any] | None = None) -> Plan:
        closures: dict = {}  # each (key, reading) resolved once, kept on the plan
        for key in request.keys:
            closures[(key, None)] = self.graph.resolve(key)
            lacks = [s for s in closures[(key, None)].sources if s not in self.project.sources]
            if lacks:
                raise UsageError(
                    f"metric {key[0]}:{key[1]} needs source(s) {', '.join(lacks)}, which this project does not configure",
                    hint=f"Map {', '.join('[sources.' + s + ']' for s in lacks)} in csframe.toml.",
                )
        values = resolve_parameters(self.registry, self.graph, request.keys, self.project.parameters, params or {},
                                    closures=closures)
        plan = build_plan(self.registry, self.graph, request, values, closures, mapped_sources=self.project.sources)
        return self._mapped_dimensions(plan)

    def _mapped_dimensions(self, plan: Plan) -> Plan:
        """``plan`` with each ``--by`` name that a ``[sources.customers] columns`` key names,
        whatever its case, spelled as that key."""
        binding = self.project.sources.get("customers")
        if not plan.by or binding is None:
            return plan
        names = by_dimensions.mapped_names(plan.by, binding.columns)
        return plan if names == plan.by else attrs.evolve(plan, by=names)

    def dimension_names(self, plan: Plan) -> Plan:
        """``plan`` with each ``--by`` name spelled as csframe writes it, whatever case it was
        typed in: the name it is mapped under in ``[sources.customers] columns`` (``segment``
        for ``columns = { segment = "Seg" }``), else the customers column's own name as the
        source has it (``--by SEGMENT`` reads and writes ``segment``). One spelling per
        dimension, so the rows of ``--by SEGMENT`` and ``--by segment`` are the same rows."""
        plan = self._mapped_dimensions(plan)
        binding = self.project.sources["customers"] if plan.by else None
        names = list(plan.by)
        if binding is not None and any(n not in binding.columns and n != COHORT for n in names):
            columns = self.adapter().relation_columns(self._relation_sql("customers"))
            names = [n if n in binding.columns or n == COHORT else by_dimensions.column_named(n, columns) for n in names]
        return plan if tuple(names) == plan.by else attrs.evolve(plan, by=tuple(names))

    def scans(self, plan: Plan, dialect: str, absent: Mapping[str, Iterable[str]] | None = None) -> dict[str, SourceScan]:
        absent = absent or {}
        filt = contract_checks.lenient_filter(plan.parameters) if plan.lenient else None
        return {
            name: SourceScan(self.project.sources[name], dialect, frozenset(absent.get(name, ())), filt,
                             self._types.get(name, ()))
            for name in plan.sources if name in self.project.sources
        }

    def compile(self, plan: Plan, dialect: str | None = None, absent: Mapping[str, Iterable[str]] | None = None) -> tuple[Compiled, str]:
        """The compiled tree and its SQL for ``dialect`` (default: the project's adapter). The
        last plan's tree and its SQL per dialect are kept: computing an equal plan again (the
        same metrics, periods, dimensions and parameters) compiles nothing."""
        profile = dialect_profile(self.registry, dialect or self.project.adapter["name"])
        absent_key = (tuple(sorted((k, tuple(sorted(v))) for k, v in (absent or {}).items() if v)),
                      tuple(sorted((k, v) for k, v in self._types.items() if k in plan.sources)))
        cached = self._compiled
        if cached is None or cached[1] != absent_key or cached[0] != plan:
            compiled = compile_plan(self.registry, plan, self.scans(plan, self._source_dialect(), absent),
                                    self.graph.default_variant)
            cached = self._compiled = (plan, absent_key, compiled, {})
        compiled, rendered = cached[2], cached[3]
        if profile not in rendered:  # the tree is the same for every dialect: render it again
            tree = prepared(compiled.query, profile)  # through the dialect's transforms
            rendered[profile] = (tree, tree.sql(dialect=profile.DIALECT, pretty=True))
        return compiled, rendered[profile][1]

    def query_tree(self, plan: Plan, dialect: str | None = None,
                   absent: Mapping[str, Iterable[str]] | None = None) -> Any:
        """The tree whose SQL :meth:`compile` gives (after the dialect's transforms), a copy of
        its own: what an adapter's optional ``execute_tree`` runs."""
        profile = dialect_profile(self.registry, dialect or self.project.adapter["name"])
        self.compile(plan, dialect, absent)
        return self._compiled[3][profile][0].copy()

    def forget_compiled(self) -> None:
        """Drop the kept query, so that the next :meth:`compile` compiles (benchmarks time that)."""
        self._compiled = None

    def _source_dialect(self) -> str:
        return dialect_profile(self.registry, self.project.adapter["name"]).DIALECT

    def parameter_values(self) -> dict[str, Any]:
        """The project's ``[parameters]``, each of a known parameter and checked (a UsageError
        naming the first that is not)."""
        return checked_overrides(self.registry, self.project.parameters)

    # -- the engine -------------------------------------------------------------
    def adapter(self) -> Any:
        if self._adapter is None:
            name = self.project.adapter["name"]
            cls = dialect_profile(self.registry, name)
            settings = self.project.adapter_settings()  # ${ENV} values: only when a command connects
            try:
                self._adapter = cls(settings, self.project.dir)
            except ProjectError as e:  # a setting of the wrong type or value: name the file
                where = self.project.path or "csframe.toml"
                raise ProjectError(f"{where}: {e.message}", hint=e.hint) from None
        return self._adapter

    def close(self) -> None:
        if self._adapter is not None:
            self._adapter.close()
            self._adapter = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _relation_sql(self, name: str) -> str:
        from sqlglot import exp

        b = self.project.sources[name]
        dialect = self._source_dialect()
        if b.table is not None:
            from .compiler import source_table  # the same table the query reads

            return exp.select(exp.Star()).from_(source_table(b, dialect)).sql(dialect)
        from .source_names import source_query  # one read-only query, as the query reads it

        return source_query(b, dialect).sql(dialect)

    def inspect_sources(self, names: Iterable[str], by: Sequence[str] = ()) -> tuple[list[contract_checks.Problem], dict[str, set[str]]]:
        """Missing tables and columns of the configured sources (mistakes of the project file,
        each naming its csframe.toml key: raise :func:`mapping_error` of them), and absent
        optional columns."""
        adapter = self.adapter()
        problems, absent = [], {}
        for name in names:
            b = self.project.sources[name]
            try:
                typed = self._relation_types(adapter, name)
            except MetricFailedError as e:
                what = f"table {b.table}" if b.table else "its SQL"
                problems.append(contract_checks.Problem(
                    name, "", f"cannot read {what}: {e.message}",
                    key=f"sources.{name}.{'table' if b.table else 'sql'}"))
                continue
            have = set(typed)
            self._types[name] = tuple((c, typed[b.column(c).lower()]) for c in source(name).column_names
                                      if typed.get(b.column(c).lower()) is not None)
            missing_optional: set[str] = set()
            broken = False
            wanted = [(c.name, c.optional) for c in source(name).columns]
            if name == "customers":  # every --by dimension is a column of customers
                by_dimensions.check_columns(self.registry, b.column, by, have)
            for col, optional in wanted:
                theirs = b.column(col)
                if theirs.lower() not in have:
                    if optional:
                        missing_optional.add(col)
                    else:
                        broken = True
                        what = f"column {theirs} (mapped to {col})" if theirs != col else f"column {col}"
                        problems.append(contract_checks.Problem(
                            name, col, f"missing {what} in the {name} source; columns found: "
                            f"{', '.join(sorted(have))}.{did_you_mean(theirs.lower(), have)}",
                            key=f"sources.{name}.columns.{col}"))
            if not broken:
                absent[name] = missing_optional
        return problems, absent

    def _relation_types(self, adapter: Any, name: str) -> dict[str, Any]:
        """The columns of source ``name`` (lower case) and the type the engine gives each, a
        sqlglot DataType (None where the adapter does not say: its ``relation_types`` is optional)."""
        relation = self._relation_sql(name)
        typed = getattr(adapter, "relation_types", None)
        if typed is None:
            return {c.lower(): None for c in adapter.relation_columns(relation)}
        from sqlglot import exp
        from sqlglot.errors import ParseError

        dialect = self._source_dialect()
        out: dict[str, Any] = {}
        for column, type_ in typed(relation):
            try:
                out[column.lower()] = exp.DataType.build(type_, dialect=dialect) if type_ else None
            except (ParseError, ValueError):
                out[column.lower()] = None  # a type sqlglot does not know: read as before, a plain CAST
        return out

    def check_queries(self, names: Iterable[str], parameters: Mapping[str, Any],
                      absent: Mapping[str, set[str]]) -> list[tuple[Any, Any, list, Any]]:
        """(source, canonical scan, rules, counting query: a tree) of every source that has "Bad data" rules.

        Rules read parameters (survey scales) whether or not a metric of the run does:
        declared defaults, then the project's values, then ``parameters``."""
        merged = {name: spec.default for name, (_, spec) in self.registry.parameters.items()}
        merged.update(self.parameter_values())
        merged.update(parameters)
        from .compiler import source_scan  # the same canonical scan compute uses

        out = []
        for name in names:
            src = source(name)
            scan_def = SourceScan(self.project.sources[name], self._source_dialect(), frozenset(absent.get(name, ())),
                                  types=self._types.get(name, ()))
            scan = source_scan(src, scan_def, keep_raw=True)
            rules = contract_checks.rules_for(src, merged, {c: how for c, how in scan_def.conversions(src).items()
                                                            if how.checked})
            if rules:
                out.append((src, scan, rules, contract_checks.count_query(scan, rules)))
        return out

    def check_data(self, names: Iterable[str], parameters: Mapping[str, Any], absent: Mapping[str, set[str]]) -> list[contract_checks.Problem]:
        """Every "Bad data" rule over the named sources, with counts and sample keys; a source
        with no rows is a Problem of ``severity="warning"``."""
        adapter = self.adapter()
        profile = dialect_profile(self.registry, self.project.adapter["name"])
        problems = []
        queries = self.check_queries(names, parameters, absent)
        trees = [q for *_, q in queries]
        if len(trees) > 1:  # every source's counts in one round trip
            rows = contract_checks.split_counts(trees, adapter.execute(render(
                contract_checks.counts_of_all(trees), profile, pretty=False))[0])
        else:
            rows = [adapter.execute(render(q, profile, pretty=False))[0] for q in trees]
        for (src, scan, rules, _), counts in zip(queries, rows):
            for i, (rule, n) in enumerate(zip(rules, counts)):
                if n:
                    sample = adapter.execute(render(contract_checks.sample_query(scan, rules, i, src), profile, pretty=False))
                    keys = tuple("(" + ", ".join(map(_shown, row)) + ")" if len(row) > 1 else _shown(row[0]) for row in sample)
                    problems.append(contract_checks.Problem(src.name, rule.name, rule.message, int(n), keys))
            if not counts[-1]:  # n_rows: "a source with no rows is not an error: the run says so"
                problems.append(contract_checks.Problem(
                    src.name, "", "has no rows (counts and sums over it are 0, means and ratios NULL)",
                    severity="warning"))
        return problems

    def dry_run(self, plan: Plan) -> list[tuple[str, int]]:
        """(query, bytes it would process) for each query a run sends, without running any:
        the data-contract checks of each source, then the metrics query. Engines that bill
        by bytes (BigQuery) implement ``adapter.dry_run``; others raise a UsageError."""
        adapter = self.adapter()
        if not hasattr(adapter, "dry_run"):
            able = [n for n, (_, cls) in self.registry.adapters.items() if hasattr(cls, "dry_run")]
            raise UsageError(f"--dry-run: the {adapter.NAME} adapter has no dry run "
                             f"(adapters that have one: {', '.join(able) or 'none installed'})",
                             hint="Use `csframe sql` to see the query instead.")
        adapter.connect()
        problems, absent = self.inspect_sources(plan.sources, plan.by)
        if problems:
            raise mapping_error(problems)
        plan = self.dimension_names(plan)
        profile = dialect_profile(self.registry, self.project.adapter["name"])
        out = [(f"data-contract checks of {src.name}", adapter.dry_run(render(q, profile, pretty=False)))
               for src, _, _, q in self.check_queries(plan.sources, plan.parameters, absent)]
        _, sql = self.compile(plan, absent=absent)
        out.append((f"metrics ({len(plan.keys)} variant{'s' if len(plan.keys) != 1 else ''})", adapter.dry_run(sql)))
        return out

    def compute(self, metrics: Sequence[str | Key], *, grain: str = "month", start: str | dt.date | None = None,
                end: str | dt.date | None = None, by: Sequence[str] = (), lenient: bool = False,
                params: Mapping[str, Any] | None = None, target: str | None = None, timeout: float | None = None,
                observer: Any = None, retries: int = 3, deadline: Any = None, vs: str | None = None,
                window: str | None = None) -> Result:
        """Compute metrics (names, ``name:variant`` or keys) and return the long result.

        ``target``: also replace the run's rows in that table (write-back); ``timeout``:
        seconds the run may take (planning to writing), or ``deadline``: a
        :class:`~csframe.core.deadline.Deadline` already running (the command's, which
        started before the project was loaded); ``observer``: receives the run's events
        (:mod:`csframe.core.observe`); ``retries``: tries after a transient connection
        failure, with backoff; ``vs``: ``previous`` or ``year``, each value beside the one it is compared
        with (``compared_value``) and the relative ``change``; ``window``: each row is the trailing window
        of that length (``30d``, ``3m``…) ending at each period's end (:mod:`.windows`)."""
        from .deadline import Deadline
        from .observe import Stages

        deadline, stages = deadline or Deadline.of(timeout), Stages(observer)
        with stages.stage("plan"):
            keys = [m if isinstance(m, tuple) else self.graph.parse_key(m) for m in metrics]
            request = self.request(keys, grain=grain, start=start, end=end, by=by, lenient=lenient, vs=vs,
                                   window=window)
            plan = self.plan(request, params)
        return self.run(plan, target=target, deadline=deadline, stages=stages, retries=retries)

    def run(self, plan: Plan, *, target: str | None = None, deadline: Any = None, stages: Any = None,
            retries: int = 3, timeout: float | None = None) -> Result:
        """Run a plan: connect, check the sources, compile, execute (and write ``target``)."""
        from .deadline import Deadline
        from .retry import RetryPolicy
        from .runner import run_plan

        return run_plan(self, plan, target=target, deadline=deadline or Deadline.of(timeout), stages=stages,
                        retries=RetryPolicy(retries))

    def fingerprints(self, keys: Sequence[Key], params: Mapping[str, Any] | None = None,
                     grain: Grain | None = None) -> dict[Key, str]:
        """Each metric variant's definition fingerprint under the project's parameters (and ``params``)
        and its calendar (and, for a custom calendar's ``grain``, that grain's periods)."""
        from .fingerprint import calendar_text, fingerprints

        values = resolve_parameters(self.registry, self.graph, keys, self.project.parameters, params or {})
        return fingerprints(self.registry, self.graph, keys, values, calendar=calendar_text(self.project.calendar, grain))


def _shown(value: Any) -> str:
    return "NULL" if value is None else str(value)


def mapping_error(problems: Sequence[contract_checks.Problem]) -> ProjectError:
    """The error of missing tables and columns (:meth:`Session.inspect_sources`): a mistake
    of the project file (exit 2), each line naming its csframe.toml key."""
    return ProjectError(
        "the project file maps sources to tables or columns that do not exist:\n  " + "\n  ".join(map(str, problems)),
        hint="Fix those keys of csframe.toml (or create the tables and columns); "
             "a column named otherwise is mapped with [sources.<name>] columns = { canonical = \"yours\" }.")


def configured_sources(project: Project) -> list[str]:
    return [s.name for s in SOURCES if s.name in project.sources]
