"""Spark SQL's differences from the neutral tree, as AST→AST transforms (sqlglot's ``spark``
dialect then writes the SQL).

- ``MATERIALIZED`` CTE hints are dropped: Spark's parser has no such word (it decides itself
  what to cache).
- Nested ``WITH`` clauses get names of their own: sqlglot moves every CTE to the query's one
  top-level ``WITH`` for Spark, where two steps' private CTEs of the same name (``changes``)
  would clash (Spark: DUPLICATED_CTE_NAMES). Each nested CTE is renamed ``name__N`` with the
  table references in its scope, innermost first, so the meaning stays.
"""

from __future__ import annotations

__all__ = ["TRANSFORMS"]

import itertools

from sqlglot import exp


def _no_materialized(tree: exp.Expression) -> exp.Expression:
    """``x AS MATERIALIZED (…)`` → ``x AS (…)``."""
    for cte in tree.find_all(exp.CTE):
        if cte.args.get("materialized") is not None:
            cte.set("materialized", None)
    return tree


def _unique_nested_ctes(tree: exp.Expression) -> exp.Expression:
    """Rename the CTEs of every nested WITH (and the references to them in its query)."""
    nested = [w for w in tree.find_all(exp.With) if w.parent is not tree]
    if not nested:
        return tree
    taken = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    numbers = itertools.count(1)
    for with_ in reversed(nested):  # innermost first: an outer rename never meets an inner name
        scope = with_.parent
        for cte in with_.expressions:
            old = cte.alias_or_name
            new = f"{old}__{next(numbers)}"
            while new in taken:
                new = f"{old}__{next(numbers)}"
            taken.add(new)
            for table in list(scope.find_all(exp.Table)):
                if not table.args.get("db") and not table.args.get("catalog") and table.name == old:
                    if not table.args.get("alias"):
                        table.set("alias", exp.TableAlias(this=exp.to_identifier(old)))
                    table.set("this", exp.to_identifier(new))
            cte.set("alias", exp.TableAlias(this=exp.to_identifier(new)))
    return tree


TRANSFORMS = (_no_materialized, _unique_nested_ctes)
