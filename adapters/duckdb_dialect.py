"""DuckDB's rewrites of csframe's neutral tree: none of meaning, one of speed.

The neutral query is DuckDB's SQL as it is. One rewrite makes it cheaper without changing a
value: the period of a month, quarter or year grain, ``CAST(DATE_TRUNC(unit, x) AS DATE)``
(what BUCKET(ts) compiles to), becomes ``MAKE_DATE(YEAR(x), m, 1)``, the same date for a
TIMESTAMP or DATE ``x`` (NULL for NULL). DuckDB 2.0 truncates a TIMESTAMP through its
generic calendar code, about three times the cost per row of taking the year and the month
(the bucket of every subscription event is in the revenue queries: ~8 % of ``mrr`` alone).
``tests/unit/test_duckdb_dialect.py`` checks both forms equal on DuckDB across boundaries.

SQL a user wrote (a source's ``sql`` in the project file, marked ``meta["user_sql"]``) is left
as written.
"""

from __future__ import annotations

__all__ = ["TRANSFORMS", "month_dates"]

from sqlglot import exp

from csframe.core.adapter import USER_SQL

_TRUNCS = (exp.DateTrunc, exp.TimestampTrunc)


def _unit(node: exp.Expression) -> str:
    unit = node.args.get("unit")
    return unit.name.upper() if isinstance(unit, (exp.Var, exp.Literal)) else ""


def _first_month(unit: str, x: exp.Expression) -> exp.Expression | None:
    """The month (1..12) that opens the ``unit`` holding ``x``; None for another unit."""
    if unit == "MONTH":
        return exp.func("MONTH", x.copy())
    if unit == "QUARTER":  # (QUARTER(x) - 1) * 3 + 1
        quarter = exp.Sub(this=exp.func("QUARTER", x.copy()), expression=exp.Literal.number(1))
        return exp.Add(this=exp.Mul(this=exp.paren(quarter, copy=False), expression=exp.Literal.number(3)),
                       expression=exp.Literal.number(1))
    if unit == "YEAR":
        return exp.Literal.number(1)
    return None


def month_dates(tree: exp.Expression) -> exp.Expression:
    """CAST(DATE_TRUNC(MONTH|QUARTER|YEAR, x) AS DATE) → MAKE_DATE(YEAR(x), first month, 1), in place."""
    # children before their parents: a rewrite copies its operand, already rewritten
    for node in reversed(list(tree.dfs(prune=lambda n: bool(n.meta.get(USER_SQL))))):
        if node.meta.get(USER_SQL) or not isinstance(node, exp.Cast) or not node.to.is_type(exp.DataType.Type.DATE):
            continue
        trunc = node.this
        if not isinstance(trunc, _TRUNCS):
            continue
        month = _first_month(_unit(trunc), trunc.this)
        if month is None:
            continue
        made = exp.func("MAKE_DATE", exp.func("YEAR", trunc.this.copy()), month, exp.Literal.number(1))
        if node is tree:
            return made
        node.replace(made)
    return tree


TRANSFORMS = (month_dates,)
