"""Pruning: a compiled query computes only the columns and steps that its result reads.

The compiler assembles shared steps (a node computes every measure and window column any
metric might read); a run asks for a few metrics. :func:`prune` is a pure pass on the tree:
every SELECT of a step (a CTE, a nested WITH's CTE, a derived table) keeps only the output
columns that a later step or the final SELECT reads, and a CTE no one reads is dropped.
Dropping a column drops what it read, so the pass walks the steps consumers first (one pass
reaches the fixpoint: a step is visited only after every step that reads it).

A column is kept whenever the pass cannot prove it unread (the numbers never change):
the final SELECT and the branches of a UNION keep all of theirs (positional); a SELECT
DISTINCT, one with ordinal or ``ALL`` GROUP BY/ORDER BY, or a step read through a column
alias list ``t(a, b)`` is left whole; ``*`` reads every column of its source; an
unqualified name is read from every source of its SELECT (and of the outer ones, for a
subquery); a projection whose alias the same SELECT names elsewhere (GROUP BY, ORDER BY,
QUALIFY, another projection) is kept; a projection holding a set-returning function is
kept, and an aggregate SELECT without GROUP BY keeps one aggregate (its one row). A WITH
RECURSIVE query is returned as it is.
"""

from __future__ import annotations

__all__ = ["prune"]

from collections import Counter

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, find_all_in_scope, traverse_scope

_ALL = None  # demand: every column
_ROW_MAKERS = (exp.Unnest, exp.Explode, exp.UDTF)


def prune(query: exp.Expression) -> exp.Expression:
    """Drop, in place, the output columns and CTEs of ``query`` that nothing reads; return it."""
    if any(w.args.get("recursive") for w in query.find_all(exp.With)):
        return query
    scopes = traverse_scope(query)
    if not scopes:
        return query
    demand: dict[int, set[str] | None] = {id(scopes[-1].expression): _ALL}
    unread: list[Scope] = []
    for scope in reversed(scopes):  # consumers before the steps they read
        expr = scope.expression
        key = id(expr)
        if key not in demand:
            if scope.is_cte:
                unread.append(scope)
                continue
            demand[key] = _ALL  # subqueries, table functions: read as a whole
        if isinstance(expr, exp.SetOperation):
            for branch in scope.set_operation_scopes:
                demand[id(branch.expression)] = _ALL
            continue
        if not isinstance(expr, exp.Select):
            continue
        wanted = demand[key]
        if wanted is not _ALL and not scope.outer_columns and _prunable(expr):
            if _prune_select(expr, wanted):
                scope.clear_cache()
        _read(scope, demand)
    for scope in unread:
        cte = scope.expression.parent
        with_ = cte.parent if cte is not None else None
        if isinstance(cte, exp.CTE) and isinstance(with_, exp.With):
            cte.pop()
            if not with_.expressions:
                with_.pop()
    return query


def _prunable(select: exp.Select) -> bool:
    if select.args.get("distinct"):
        return False
    for clause in ("group", "order"):
        node = select.args.get(clause)
        if node is None:
            continue
        if node.args.get("all") or any(isinstance(e, exp.Literal) or (isinstance(e, exp.Ordered)
                                       and isinstance(e.this, exp.Literal)) for e in node.expressions):
            return False
    return True


def _aggregates(projection: exp.Expression) -> bool:
    return any(not agg.find_ancestor(exp.Window) for agg in projection.find_all(exp.AggFunc))


def _prune_select(select: exp.Select, wanted: set[str]) -> bool:
    """Keep the projections of ``select`` that are wanted or cannot be dropped; True if any was."""
    projections = select.expressions
    if all(p.alias_or_name.lower() in wanted for p in projections):
        return False

    def names(node: exp.Expression) -> Counter:
        return Counter(c.name.lower() for c in find_all_in_scope(node, exp.Column) if not c.table)

    outside: Counter = Counter()  # names read by the clauses (WHERE, GROUP BY, ORDER BY, QUALIFY, ...)
    for key, value in select.args.items():
        if key in ("expressions", "with_", "with"):
            continue
        for node in value if isinstance(value, list) else [value]:
            if isinstance(node, exp.Expression):
                outside.update(names(node))
    inside = [names(p) for p in projections]
    aliases = [p.alias_or_name.lower() for p in projections]
    keep = [a in wanted or isinstance(p, exp.Star) or p.is_star or p.find(*_ROW_MAKERS) is not None
            for a, p in zip(aliases, projections)]
    changed = True
    while changed:  # a kept projection or a clause naming an alias keeps it (it may be the alias)
        refs = outside + sum((c for k, c in zip(keep, inside) if k), Counter())
        changed = False
        for i, a in enumerate(aliases):
            if not keep[i] and refs[a]:
                keep[i] = changed = True
    if all(keep):
        return False
    if not select.args.get("group") and not any(k for k, p in zip(keep, projections) if _aggregates(p)):
        for i, p in enumerate(projections):
            if _aggregates(p):
                keep[i] = True  # an aggregate without GROUP BY makes one row: keep one
                break
    if not any(keep):
        keep[0] = True
    if all(keep):
        return False
    select.set("expressions", [p for k, p in zip(keep, projections) if k])
    return True


def _resolved(scope: Scope) -> dict[str, tuple[int, bool] | None]:
    """The sources ``scope`` selects from: alias -> (step key, read whole) or None (a table of the
    database). A step is read whole through a column alias list (``t(a, b)``: positional)."""
    out: dict[str, tuple[int, bool] | None] = {}
    for name, node in scope.references:
        source = scope.sources.get(name)
        if source is None or name in out:
            continue
        if isinstance(source, Scope):
            out[name] = (id(source.expression), bool(node.alias_column_names) or bool(source.outer_columns))
        else:
            out[name] = None
    return out


def _read(scope: Scope, demand: dict[int, set[str] | None]) -> None:
    """Record what ``scope`` reads from its sources (and, correlated, from outer scopes)."""
    chain = [scope]
    if not (scope.is_cte or scope.is_root or scope.is_derived_table) or scope.can_be_correlated:
        outer = scope.parent
        while outer is not None:
            chain.append(outer)
            outer = outer.parent
    levels = [_resolved(s) for s in chain]
    for ref in levels[0].values():
        if ref is not None:
            demand.setdefault(ref[0], set())  # read, if only for its rows (count(*))

    def want(ref: tuple[int, bool] | None, name: str | None) -> None:
        if ref is None:
            return  # a table of the database
        key, whole = ref
        if name is _ALL or whole:
            demand[key] = _ALL
            return
        names = demand.setdefault(key, set())
        if names is not _ALL:
            names.add(name)

    def everywhere(name: str | None) -> None:
        for level in levels:
            for ref in level.values():
                want(ref, name)

    def qualified(table: str, name: str | None) -> None:
        for level in levels:
            if table in level:
                want(level[table], name)
                return
        everywhere(name)  # not resolved here: read it everywhere

    for col in scope.columns:
        if col.table:
            qualified(col.table, col.name.lower())
        else:
            everywhere(col.name.lower())
    for star in find_all_in_scope(scope.expression, exp.Star):
        if isinstance(star.parent, exp.Count):
            continue
        parent = star.parent
        if isinstance(parent, exp.Column) and parent.table:
            qualified(parent.table, _ALL)
        else:
            everywhere(_ALL)
