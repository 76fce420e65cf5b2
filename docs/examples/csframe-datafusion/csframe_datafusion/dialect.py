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


def microsecond_timestamp_literals(tree: exp.Expression) -> exp.Expression:
    """``CAST('9999-12-31 00:00:00' AS TIMESTAMP)``: DataFusion's TIMESTAMP is in nanoseconds,
    which end in 2262; a literal timestamp is read in microseconds (``to_timestamp_micros``), as
    the tables hold them."""
    for cast in list(tree.find_all(exp.Cast)):
        if cast.to.is_type(exp.DataType.Type.TIMESTAMP) and isinstance(cast.this, exp.Literal) \
                and cast.this.is_string:
            cast.replace(exp.Anonymous(this="to_timestamp_micros", expressions=[cast.this.copy()]))
    return tree


TRANSFORMS = (no_materialized_ctes, date_series, microsecond_timestamp_literals)
