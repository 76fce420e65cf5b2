"""DataFusion's differences from the PostgreSQL SQL sqlglot writes, as AST→AST transforms of
csframe's neutral tree (the adapter's ``TRANSFORMS``)."""

from __future__ import annotations

__all__ = ["TRANSFORMS"]

from sqlglot import exp


def no_materialized_ctes(tree: exp.Expression) -> exp.Expression:
    """``WITH x AS MATERIALIZED (...)``: DataFusion's parser takes no MATERIALIZED."""
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    return tree


def date_series(tree: exp.Expression) -> exp.Expression:
    """The periods' dates (``GenerateDateArray``, inclusive of its end): DataFusion's
    ``generate_series(date, date, interval)`` is an array of dates, inclusive, which ``UNNEST``
    takes as it is (PostgreSQL's generator would make it a table function DataFusion lacks)."""
    for node in list(tree.find_all(exp.GenerateDateArray)):
        args = [node.args[k] for k in ("start", "end", "step") if node.args.get(k) is not None]
        node.replace(exp.Anonymous(this="generate_series", expressions=args))
    return tree


def microsecond_timestamps(tree: exp.Expression) -> exp.Expression:
    """``CAST(x AS TIMESTAMP)``: DataFusion's TIMESTAMP is in nanoseconds, which end in 2262 (the
    contract checks compare with 9999-12-31); csframe's timestamps are microseconds, as the tables
    hold them: ``TIMESTAMP(6)``."""
    for dtype in list(tree.find_all(exp.DataType)):
        if dtype.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ) and not dtype.expressions:
            dtype.set("this", exp.DataType.Type.TIMESTAMP)
            dtype.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(6))])
    return tree


TRANSFORMS = (no_materialized_ctes, date_series, microsecond_timestamps)
