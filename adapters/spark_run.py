"""Running csframe's one query on Spark: the CTEs it reads more than once are computed first.

Spark's analyzer inlines a CTE at every reference: csframe's catalog query reads its
``metric_values`` step once per metric variant (69 times), and each of those copies holds every
step below it, so analysing the query as one statement ran out of the driver's heap (1 GiB)
before any row was read. So :func:`run_query` splits the top-level ``WITH``: each CTE referenced
two or more times is computed on its own, in order, into a checkpointed DataFrame (its plan
becomes a leaf: ``localCheckpoint``) registered as a temporary view of the adapter's session
under a name of its own; the rest of the query reads those views. The numbers are the same:
every CTE is a pure, deterministic query over the same tables; only where Spark computes it
changes. The views are dropped after the query.
"""

from __future__ import annotations

__all__ = ["split_query", "run_query"]

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp

_DIALECT = "spark"


def _rename(scope: exp.Expression, old: str, new: str) -> None:
    for table in list(scope.find_all(exp.Table)):
        if not table.args.get("db") and not table.args.get("catalog") and table.name == old:
            if not table.args.get("alias"):
                table.set("alias", exp.TableAlias(this=exp.to_identifier(old)))
            table.set("this", exp.to_identifier(new))


def split_query(sql: str, prefix: str) -> tuple[list[tuple[str, str]], str]:
    """([(view name, its SQL), …] in order, the final query reading those views) of ``sql``:
    the top-level CTEs referenced twice or more become views named ``prefix + name``."""
    tree = sqlglot.parse_one(sql, read=_DIALECT)
    with_ = tree.args.get("with_")
    if not isinstance(with_, exp.With) or with_.recursive:
        return [], sql
    ctes = list(with_.expressions)
    names = {c.alias_or_name for c in ctes}
    refs = Counter(t.name for t in tree.find_all(exp.Table)
                   if t.name in names and not t.args.get("db") and not t.args.get("catalog"))
    shared = [c for c in ctes if refs[c.alias_or_name] >= 2]
    if not shared:
        return [], sql
    views: list[tuple[str, str]] = []
    renamed = {c.alias_or_name: prefix + c.alias_or_name for c in shared}
    for old, new in renamed.items():
        _rename(tree, old, new)
    kept: list[exp.CTE] = []
    for cte in ctes:
        name = cte.alias_or_name
        if name in renamed:
            body = cte.this.copy()
            if kept:
                body = exp.select("*").from_(exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier("v")))) \
                    if not isinstance(body, exp.Query) else body
                body.set("with_", exp.With(expressions=[k.copy() for k in kept]))
            views.append((renamed[name], body.sql(_DIALECT)))
        else:
            kept.append(cte)
    with_.set("expressions", kept)
    if not kept:
        tree.set("with_", None)
    return views, tree.sql(_DIALECT)


def run_query(session: Any, sql: str, fetch: Callable[[Any], Any]) -> Any:
    """``fetch(frame)`` of ``sql`` run on ``session``, its shared CTEs computed first."""
    prefix = f"csframe_{uuid.uuid4().hex[:10]}_"
    views, final = split_query(sql, prefix)
    made: list[str] = []
    try:
        for name, body in views:
            session.sql(body).localCheckpoint(eager=True).createOrReplaceTempView(name)
            made.append(name)
        return fetch(session.sql(final))
    finally:
        for name in made:
            session.catalog.dropTempView(name)
