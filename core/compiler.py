"""The compiler: a :class:`Plan` becomes **one** sqlglot query with a named CTE per
step, each commented with the step it performs.

Steps, in order: one scan per source (``src_<source>``, canonical names and types,
``grp`` of ``--by``), the groups of ``--by``, the period ``spine`` the SQL generates
for the grain, the ``grid`` of periods × groups, each node of the plan once, the
``measures`` per period and group, the metric values, and the long result. The tree
is dialect-neutral; adapters turn it into their dialect (:mod:`csframe.core.render`).
"""

from __future__ import annotations

__all__ = ["SourceScan", "Compiled", "compile_plan", "compile_formula", "source_scan", "OUTPUT_COLUMNS"]

from collections.abc import Callable, Mapping

import attrs
import sqlglot
from sqlglot import exp

from . import cohorts, previous
from .adapter import USER_SQL
from .calendar import bind_instants, bucket_in, expand_local_dates
from .contract import Source, source
from .contract_types import Conversion, conversion, convert, is_raw, raw_name
from .errors import ProjectError, UsageError
from .formula import WHOLE_PREFIX, bind_placeholders, bottom_up, expand_macros, literal, safe_div
from .graph import Key
from .neutral import NEUTRAL_DIALECT
from .one_group import drop_constant_group
from .plan import Plan
from .project import SourceBinding
from .prune import prune
from .source_names import TABLE_HINT, source_query, table_parts
from .registry import Registry
from .windows import WINDOW_MAP, window_map_query, window_node_tree, window_start

OUTPUT_COLUMNS = ("metric", "variant", "period_start", "period_end")



@attrs.frozen
class SourceScan:
    """How to read one source: its binding, the dialect of its SQL, absent optional
    columns, (``--lenient``) a function wrapping the scan to drop bad rows, and the types
    the engine gives its columns (canonical name, type; a column not named: type not known)."""

    binding: SourceBinding
    dialect: str = NEUTRAL_DIALECT
    absent: frozenset[str] = frozenset()
    lenient_filter: Callable[[exp.Select, Source], exp.Select] | None = None
    types: tuple[tuple[str, exp.DataType], ...] = ()

    def conversions(self, src: Source) -> dict[str, Conversion]:
        """How each present column of ``src`` is read (:mod:`.contract_types`)."""
        types = dict(self.types)
        return {c.name: conversion(c, types.get(c.name), self.dialect) for c in src.columns if c.name not in self.absent}


@attrs.frozen
class Compiled:
    """The compiled query and the shape of its result."""

    query: exp.Select
    columns: tuple[str, ...]
    plan: Plan
    cte_steps: tuple[tuple[str, str], ...]  # (cte name, step comment)
    left_out: tuple[Key, ...] = ()  # variants whose left-out count is the query's last column, after ``columns``
    # builds the query before pruning; only `check` and the explanation of a failed run read it, so it is
    # built on first access (:attr:`full`), not copied at every compile
    _whole: Callable[[], exp.Select] | None = attrs.field(default=None, eq=False, repr=False)
    _full: list[exp.Select] = attrs.field(factory=list, init=False, eq=False, repr=False)  # full, once built

    @property
    def full(self) -> exp.Select | None:
        """The query before pruning (core/prune.py): every column of every step (None when the
        compiled query was not given the means to build it)."""
        if self._whole is None:
            return None
        if not self._full:
            self._full.append(self._whole())
        return self._full[0]


def interval(plan: Plan) -> exp.Interval:
    g = plan.grain
    if g.days:
        return exp.Interval(this=exp.Literal.string(str(g.days)), unit=exp.Var(this="DAY"))
    return exp.Interval(this=exp.Literal.string(str(g.months)), unit=exp.Var(this="MONTH"))


def _cte(name: str, query: exp.Query, step: str) -> tuple[str, exp.Query, str]:
    """A step of the whole query: ``query`` (the step's own tree, built for this plan: it is
    taken, not copied) with its step comment."""
    query.add_comments([f"step: {step}"], prepend=True)
    return (name, query, step)


def source_table(binding: SourceBinding, dialect: str) -> exp.Table:
    """The table a source is mapped to, every part quoted: the name is taken literally.
    ``table`` is a dotted identifier only (:func:`csframe.core.source_names.table_parts`)."""
    parts = table_parts(binding.table) if isinstance(binding.table, str) else None
    if parts is None:
        raise ProjectError(f"sources.{binding.name}.table: {str(binding.table)[:80]!r} is not a table name",
                           hint=TABLE_HINT)
    ident = [exp.to_identifier(p, quoted=True) for p in reversed(parts)] + [None, None]
    return exp.Table(this=ident[0], db=ident[1], catalog=ident[2])


def source_scan(src: Source, scan: SourceScan, by: tuple[str, ...] = (), grouped: bool = False,
                keep_raw: bool = False) -> exp.Select:
    """A SELECT of ``src`` as the data contract names it: canonical columns and types, absent
    optional columns at their default, the lenient filter; customers also carry the ``by``
    dimensions; ``grouped``, each row carries its ``--by`` group (``grp``), else ``0 AS grp``.
    ``keep_raw`` (the checks): a column read with a check keeps its raw value beside it
    (:func:`.contract_types.raw_name`); the lenient filter reads them, the compute does not."""
    b = scan.binding
    if b.table is not None:
        from_: exp.Expression = source_table(b, scan.dialect).as_("t")
    else:
        inner = source_query(b, scan.dialect)
        inner.meta[USER_SQL] = True  # written in the engine's dialect: dialect transforms leave it alone
        from_ = exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("t")))
    selects: list[exp.Expression] = []
    raws: list[exp.Expression] = []
    conversions = scan.conversions(src)
    for col in src.columns:
        if col.name in scan.absent:
            value: exp.Expression = sqlglot.parse_one(col.default) if col.default else exp.Null()
            selects.append(exp.alias_(exp.cast(value, col.type), col.name))
            continue
        value = exp.column(exp.to_identifier(b.column(col.name), quoted=True), table="t")
        selects.append(exp.alias_(convert(value, col, conversions[col.name]), col.name))
        if conversions[col.name].checked:
            raws.append(exp.alias_(value.copy(), raw_name(col.name)))
    query = exp.select(*selects).from_(from_)
    if src.name == "customers":
        for dim in by:
            query = query.select(exp.alias_(exp.column(exp.to_identifier(b.column(dim), quoted=True), table="t"), dim, quoted=True))
    lenient = scan.lenient_filter is not None
    if raws and (keep_raw or lenient):
        query = query.select(*raws)
    if lenient:
        query = scan.lenient_filter(query, src)
    if raws and lenient and not keep_raw:
        query = exp.select(*[exp.column(exp.to_identifier(n, quoted=True)) for n in query.named_selects
                             if not is_raw(n)]).from_(query.subquery("c"))
    if grouped and src.name == "customers":
        # the customers scan carries its own group, like every other source
        dims = [exp.column(exp.to_identifier(d, quoted=True)) for d in by]
        rank = exp.Window(this=exp.DenseRank(), order=exp.Order(
            expressions=[exp.Ordered(this=d, nulls_first=False) for d in dims]))
        query = exp.select(exp.Star(), exp.alias_(rank, "grp")).from_(query.subquery("r"))
    elif grouped and src.customer_column is not None:
        inner = query.subquery("r")
        query = exp.select(*[exp.column(c, table="r") for c in src.column_names], exp.column("grp", table="cg")).from_(
            inner).join(exp.to_table("customer_groups").as_("cg"),
                        on=exp.EQ(this=exp.column(src.customer_column, table="r"), expression=exp.column("customer_id", table="cg")))
    else:
        query = query.select(exp.alias_(exp.Literal.number(0), "grp"))
    return query


def _groups(plan: Plan) -> list[tuple[str, exp.Query, str]]:
    if not plan.by:
        return [_cte("groups", exp.select(exp.alias_(exp.Literal.number(0), "grp")), "one group: no --by")]
    dims = [exp.column(exp.to_identifier(d, quoted=True)) for d in plan.by]
    cg = exp.select(exp.column("customer_id"), *[d.copy() for d in dims], exp.column("grp")).from_("src_customers")
    groups = exp.select(exp.column("grp"), *[d.copy() for d in dims]).distinct().from_("customer_groups")
    return [
        _cte("customer_groups", cg, f"each customer's group of --by {', '.join(plan.by)}"),
        _cte("groups", groups, "every distinct value of the --by dimensions among customers (NULL is a group)"),
    ]


def _spine(plan: Plan) -> exp.Query:
    if plan.grain.periods:  # a custom calendar's grain: its periods, known when planned
        from .custom_calendar import custom_spine

        return custom_spine(plan.grain, plan.spine_start, plan.spine_last)
    step = interval(plan)
    arr = exp.GenerateDateArray(start=literal(plan.spine_start), end=literal(plan.spine_last), step=step)
    d = exp.column("d")
    windowed = [] if plan.window is None else [  # --window: the start of the window ending at period_end
        exp.alias_(window_start(d.copy(), step, plan.window.periods), "window_start")]
    return exp.select(
        exp.alias_(exp.cast(d, "DATE"), "period_start"),
        exp.alias_(exp.cast(exp.Add(this=d.copy(), expression=step.copy()), "DATE"), "period_end"), *windowed,
    ).from_(exp.Unnest(expressions=[arr], alias=exp.TableAlias(this=exp.to_identifier("t"), columns=[exp.to_identifier("d")])))


def _grid(plan: Plan) -> exp.Select:
    return exp.select(
        exp.column("grp", table="g"), exp.column("period_start", table="s"), exp.column("period_end", table="s"),
        exp.column("grain_months", table="s") if plan.grain.periods else
        exp.alias_(exp.cast(exp.convert(_months(plan)), "DOUBLE"), "grain_months"),
        *([] if plan.window is None else [exp.column("window_start", table="s")]),
    ).from_(exp.to_table("groups").as_("g")).join(exp.to_table("spine").as_("s"), join_type="cross")


def _months(plan: Plan) -> float:
    """g: the length in months of each row's period (a window's: k grain periods)."""
    return plan.grain.length_in_months * (1 if plan.window is None else plan.window.periods)


def _node(registry: Registry, name: str, plan: Plan) -> exp.Query:
    tree = registry.nodes[name].parsed.tree.copy() if plan.window is None else \
        window_node_tree(registry, name, plan.window.periods)
    if not plan.by:
        # one group: the whole source is the source itself, and grp (0 on every row) keys nothing
        for table in tree.find_all(exp.Table):
            if table.name.startswith(WHOLE_PREFIX) and table.name[len(WHOLE_PREFIX):] in plan.sources:
                table.set("this", exp.to_identifier("src_" + table.name[len(WHOLE_PREFIX):]))
        tree = drop_constant_group(tree)
    tree = expand_macros(expand_local_dates(tree, plan.time_zone), bucket_in(plan.grain, plan.time_zone))
    values = dict(plan.parameters)
    values.update(spine_start=plan.spine_start, spine_end=_after_last(plan), grain_months=_months(plan),
                  window_periods=1 if plan.window is None else plan.window.periods)
    tree = bind_instants(tree, {"spine_start": plan.spine_start, "spine_end": values["spine_end"]}, plan.time_zone)
    return bind_placeholders(tree, values)


def _after_last(plan: Plan):
    from .periods import shift

    return shift(plan.spine_last, plan.grain, 1)


def compile_formula(
    registry: Registry, key: Key, resolve_ref: Callable[[str, str | None], Key], parameters: Mapping,
    measure: Callable[[str], exp.Expression], _memo: dict | None = None, split: str | None = None,
    *, left_out: bool = False, lag: Callable[[exp.Expression, int, str], exp.Expression] | None = None,
) -> exp.Expression:
    """A variant's formula (or its ``--by split`` reading, or its ``left_out`` count) as a
    tree over measure columns, with refs inlined and every division made safe; ``lag(expr, n, text)``
    gives ``previous(expr, n)`` (a LAG over the group's periods: :mod:`.previous`; ``text`` is the
    call as written; a ``lag`` with ``by_text = True`` is given no compiled argument: worked examples
    set a previous() call's value by its text)."""
    memo = {} if _memo is None or left_out else _memo
    if split is None and key in memo:
        return memo[key].copy()
    rv = registry.variants[key]

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            return measure(node.name)
        if isinstance(node, exp.Anonymous):
            fn = node.name.lower()
            if fn == "ref":
                args = [a.this for a in node.expressions]
                target = resolve_ref(args[0], args[1] if len(args) > 1 else None)
                return exp.paren(compile_formula(registry, target, resolve_ref, parameters, measure, memo, lag=lag),
                                 copy=False)
            if fn == "param":
                return literal(parameters[node.expressions[0].this])
            if fn == "safe_div":
                return safe_div(node.expressions[0], node.expressions[1])
            if fn == "previous":
                n = int(node.expressions[1].this) if len(node.expressions) > 1 else 1
                if lag is None:
                    raise KeyError(f"previous() of {key[0]}:{key[1]} has no periods to read here")
                return lag(exp.paren(node.expressions[0], copy=False), n, node.meta.get("text", ""))
        if isinstance(node, exp.Div):
            return safe_div(node.this, node.expression)
        return node

    tree = (rv.left_out if left_out else rv.formula(split)).tree.copy()
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower() == "previous":
            call.meta["text"] = call.sql()
            if lag is not None and getattr(lag, "by_text", False):
                # a worked example's lag gives the call's value itself: its argument is not compiled
                n = int(call.expressions[1].this) if len(call.expressions) > 1 else 1
                replaced = lag(exp.Null(), n, call.meta["text"])
                if call is tree:
                    tree = replaced
                else:
                    call.replace(replaced)
    tree = bottom_up(tree, rewrite)
    if split is None:
        memo[key] = tree
    return tree.copy()


def _measures(registry: Registry, plan: Plan, needed: list[str], dim: str | None) -> exp.Select:
    """The grid (or, for a keyed dimension, the rows of its first keyed node) with every
    needed measure joined on (grp, period_start[, dim]), each from the node the plan reads it from."""
    keyed = [plan.provider(registry, m) for m in needed if m in registry.measures and registry.measures[m][1].key == dim]
    if dim is None:
        base, q = "grid", exp.select(exp.column("grp", table="grid"), exp.column("period_start", table="grid"),
                                     exp.column("period_end", table="grid"), exp.column("grain_months", table="grid")).from_("grid")
    else:
        base = keyed[0]
        q = (exp.select(exp.column("grp", table=base), exp.column("period_start", table=base),
                        exp.column("period_end", table="grid"), exp.column("grain_months", table="grid"),
                        exp.column(exp.to_identifier(dim, quoted=True), table=base)).from_(base)
             .join(exp.to_table("grid"), on=exp.and_(
                 exp.EQ(this=exp.column("grp", table=base), expression=exp.column("grp", table="grid")),
                 exp.EQ(this=exp.column("period_start", table=base), expression=exp.column("period_start", table="grid")))))
    joined: set[str] = {base}
    for m in needed:
        if m == "grain_months":
            continue
        node_name, measure = plan.provider(registry, m), registry.measures[m][1]
        if node_name not in joined:
            joined.add(node_name)
            conds = [exp.EQ(this=exp.column("grp", table=node_name), expression=exp.column("grp", table=base)),
                     exp.EQ(this=exp.column("period_start", table=node_name), expression=exp.column("period_start", table=base))]
            if measure.key is not None:
                conds.append(exp.EQ(this=exp.column(exp.to_identifier(dim, quoted=True), table=node_name),
                                    expression=exp.column(exp.to_identifier(dim, quoted=True), table=base)))
            q = q.join(exp.to_table(node_name), on=exp.and_(*conds), join_type="left", copy=False)
        col: exp.Expression = exp.column(m, table=node_name)
        if measure.fill is not None:
            col = exp.Coalesce(this=col, expressions=[exp.convert(measure.fill)])
        q = q.select(exp.alias_(col, m), copy=False)
    return q


def compile_plan(
    registry: Registry, plan: Plan, scans: Mapping[str, SourceScan], default_variant: Callable[[str], str],
) -> Compiled:
    """The one query for ``plan``: every step assembled, then pruned to what the requested
    metrics read; the unpruned query is assembled again only if :attr:`Compiled.full` is read."""
    final, ctes, left_out = _whole_query(registry, plan, scans, default_variant)
    prune(final)  # only the columns and steps the requested metrics read
    _materialize_shared(final)
    columns = (*OUTPUT_COLUMNS, *plan.by, *plan.extra_keys, "value", *(("compared_value", "change") if plan.vs else ()))
    return Compiled(final, columns, plan, tuple((n, s) for n, _, s in ctes), left_out,
                    lambda: _whole_query(registry, plan, scans, default_variant)[0])


def _whole_query(
    registry: Registry, plan: Plan, scans: Mapping[str, SourceScan], default_variant: Callable[[str], str],
) -> tuple[exp.Select, list[tuple[str, exp.Query, str]], tuple[Key, ...]]:
    """(the query for ``plan`` before pruning: every step whole, its steps (name, query, comment),
    the variants whose left-out count it carries)."""
    ctes: list[tuple[str, exp.Query, str]] = []
    grouped = bool(plan.by)
    reserved = {"spine", "groups", "grid", "customer_groups", "measures", "metric_values", WINDOW_MAP, *plan.nodes}
    reserved |= {f"src_{s}" for s in plan.sources} | {f"{WHOLE_PREFIX}{s}" for s in plan.sources}
    for name in plan.sources:
        if name not in scans:
            raise UsageError(f"source {name!r} is not configured", hint=f"Map it under [sources.{name}] in csframe.toml.")
        table = scans[name].binding.table
        if table and "." not in table and table.lower() in reserved:
            raise ProjectError(f"sources.{name}.table: {table!r} collides with a step of csframe's query",
                               hint="Qualify it with its schema, e.g. main.{table}.")
    scan_by = tuple(d for d in plan.by if d != cohorts.COHORT)  # columns of customers
    if grouped and cohorts.has_cohort(plan.by):
        ctes.append(_cte("src_customers", cohorts.customers_with_cohort(
            source_scan(source("customers"), scans["customers"], scan_by),
            source_scan(source("subscriptions"), scans["subscriptions"]), plan.by,
            source("customers").column_names, bucket_in(plan.grain, plan.time_zone)),
            "read customers (canonical columns, --by dimensions and cohort: the period of first_paid_c)"))
        ctes.extend(_groups(plan))
    elif grouped:
        ctes.append(_cte("src_customers", source_scan(source("customers"), scans["customers"], scan_by, True),
                         "read customers (canonical columns and --by dimensions)"))
        ctes.extend(_groups(plan))
    else:
        ctes.extend(_groups(plan))
    for name in plan.sources:
        if grouped and name == "customers":
            continue
        src = source(name)
        ctes.append(_cte(f"src_{name}", source_scan(src, scans[name], scan_by, grouped),
                         f"read {name} as the data contract names it" + (", with its --by group" if grouped else "")))
    if grouped:
        whole = [s for n in plan.nodes for s in registry.nodes[n].parsed.whole_sources]
        for name in dict.fromkeys(whole):
            ctes.append(_cte(f"{WHOLE_PREFIX}{name}", source_scan(source(name), scans[name], scan_by),
                             f"read the whole of {name}, rows of every --by group and of customers without one"))
    ctes.append(_cte("spine", _spine(plan), f"one row per {plan.grain.name}, from the period before the first reported one"))
    ctes.append(_cte("grid", _grid(plan), "every period × group"))
    if plan.window is not None:
        ctes.append(_cte(WINDOW_MAP, window_map_query(plan.window.periods),
                         f"each {plan.grain.name} with the {plan.window.text} windows that hold it"))
    for name in plan.nodes:
        ctes.append(_cte(name, _node(registry, name, plan), registry.nodes[name].node.step))

    def resolve_ref(metric: str, variant: str | None) -> Key:
        return (metric, variant or default_variant(metric))

    memo: dict = {}
    branches = []
    left_out = tuple(k for k in plan.keys if registry.variants[k].left_out is not None
                     and plan.split(k) is None and k not in plan.dimensions)
    for dim in dict.fromkeys([None, *plan.extra_keys]):
        keys = [k for k in plan.keys if plan.dimensions.get(k) == dim]
        if not keys:
            continue
        suffix = "" if dim is None else f"_by_{dim}"
        partition = [exp.column("grp"), *([exp.column(exp.to_identifier(dim, quoted=True))] if dim else [])]
        over_periods = bool(plan.lags or plan.vs)  # a LAG reads the periods before the first reported one
        if over_periods:
            memo = {}  # previous() is a LAG over this step's groups

            def lag_of(e: exp.Expression, n: int, _text: str, _p=partition) -> exp.Expression:
                return previous.lag(e, n, _p, "a formula")
        else:
            lag_of = None
        needed: list[str] = []
        for top in keys:
            for k in reversed(plan.closure(top).variants):  # resolved once, by the planner
                formula = registry.variants[k].formula(plan.split(top) if k == top else None)
                needed.extend(m for m in formula.measures if m not in needed)
            if top in left_out:
                needed.extend(m for m in registry.variants[top].left_out.measures if m not in needed)
        ctes.append(_cte(f"measures{suffix}", _measures(registry, plan, needed, dim),
                         "every measure per period and group" + (f" and {dim}" if dim else "")
                         + " (0 for counts and sums with no rows)"))
        key_cols = [exp.column(exp.to_identifier(dim, quoted=True))] if dim else []
        values_q = exp.select(exp.column("grp"), exp.column("period_start"), exp.column("period_end"), *key_cols
                              ).from_(f"measures{suffix}")
        reported = exp.GTE(this=exp.column("period_start"), expression=literal(plan.report_start))
        if not over_periods:
            values_q = values_q.where(reported)
        for top in keys:
            i = plan.keys.index(top)
            expr = compile_formula(registry, top, resolve_ref, plan.parameters, lambda m: exp.column(m), memo,
                                   split=plan.split(top), lag=lag_of)
            values_q = values_q.select(exp.alias_(exp.cast(expr, "DOUBLE"), f"v{i}"), copy=False)
            if top in left_out:
                count = compile_formula(registry, top, resolve_ref, plan.parameters, lambda m: exp.column(m),
                                        left_out=True)
                values_q = values_q.select(exp.alias_(exp.cast(count, "DOUBLE"), f"o{i}"), copy=False)
        ctes.append(_cte(f"metric_values{suffix}", values_q,
                         "each metric's formula over the measures, from the first reported period" if not over_periods
                         else "each metric's formula over the measures, in every period of the spine (previous())"))
        values_from = f"metric_values{suffix}"
        if plan.vs:
            ctes.append(_cte(f"compared_values{suffix}", previous.compared_step(
                values_from, [f"v{plan.keys.index(k)}" for k in keys], partition, plan.vs),
                f"each metric's value {plan.vs} period(s) earlier in the same group (--vs)"))
            values_from = f"compared_values{suffix}"
        for top in keys:
            i = plan.keys.index(top)
            extras = []
            for e in plan.extra_keys:
                value = exp.cast(exp.column(exp.to_identifier(e, quoted=True)), "VARCHAR") if e == dim else \
                    exp.cast(exp.Null(), "VARCHAR")
                extras.append(exp.alias_(value, e, quoted=True))
            branches.append(exp.select(
                exp.alias_(exp.Literal.string(top[0]), "metric"), exp.alias_(exp.Literal.string(top[1]), "variant"),
                exp.alias_(exp.Literal.number(i), "metric_order"), exp.column("grp"),
                exp.column("period_start"), exp.column("period_end"), *extras, exp.alias_(exp.column(f"v{i}"), "value"),
                *([exp.alias_(exp.column(f"c{i}"), "compared_value"),
                   exp.alias_(previous.relative_change(exp.column(f"v{i}"), exp.column(f"c{i}")), "change")]
                  if plan.vs else []),
                *([exp.alias_(exp.column(f"o{i}") if top in left_out else exp.cast(exp.Null(), "DOUBLE"), "left_out")]
                  if left_out else []),
            ).from_(values_from))
            if over_periods:
                branches[-1] = branches[-1].where(reported.copy())
    long_q: exp.Query = branches[0]
    for b in branches[1:]:
        long_q = exp.union(long_q, b, distinct=False, copy=False)
    ctes.append(_cte("long_values", long_q, "one row per metric, variant, period and group"))

    dims = [exp.column(exp.to_identifier(d, quoted=True), table="g") for d in plan.by]
    shown_start: exp.Expression = exp.column("period_start", table="l")
    if plan.window is not None:  # rows are keyed by the window's last period; they show its start
        shown_start = exp.alias_(window_start(shown_start, interval(plan), plan.window.periods), "period_start")
    final = exp.select(
        exp.column("metric", table="l"), exp.column("variant", table="l"),
        shown_start, exp.column("period_end", table="l"), *dims,
        *[exp.column(exp.to_identifier(e, quoted=True), table="l") for e in plan.extra_keys], exp.column("value", table="l"),
        *([exp.column("compared_value", table="l"), exp.column("change", table="l")] if plan.vs else []),
        *([exp.column("left_out", table="l")] if left_out else []),
    ).from_(exp.to_table("long_values").as_("l")).join(
        exp.to_table("groups").as_("g"), on=exp.EQ(this=exp.column("grp", table="l"), expression=exp.column("grp", table="g")))
    if cohorts.COHORT in plan.by:  # only the cohort's period and later ones
        final = final.where(cohorts.at_or_after_cohort(exp.column("period_start", table="l"),
                                                       exp.column(exp.to_identifier(cohorts.COHORT, quoted=True), table="g")))
    order = [exp.Ordered(this=exp.column("metric_order", table="l")), exp.Ordered(this=exp.column("period_start", table="l"))]
    order += [exp.Ordered(this=d.copy(), nulls_first=False) for d in dims]
    order += [exp.Ordered(this=exp.column(exp.to_identifier(e, quoted=True), table="l"), nulls_first=False)
              for e in plan.extra_keys]
    final = final.order_by(*order)
    for name, q, _ in ctes:
        final = final.with_(name, as_=q, copy=False)
    return final, ctes, left_out


def _materialize_shared(query: exp.Select) -> None:
    """Mark ``AS MATERIALIZED`` every step that several steps read, so that it is computed
    once (DuckDB would otherwise inline it into each reader; PostgreSQL computes such a step
    once anyway; BigQuery has no such hint and its transforms drop it)."""
    counts: dict[str, int] = {}
    for table in query.find_all(exp.Table):
        counts[table.name] = counts.get(table.name, 0) + 1
    for cte in query.args["with_"].expressions:
        if counts.get(cte.alias_or_name, 0) > 1:
            cte.set("materialized", True)
