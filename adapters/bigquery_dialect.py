"""BigQuery's differences from the neutral tree, as pure AST→AST transforms.

Every query csframe renders for BigQuery goes through ``TRANSFORMS`` (in order); the
tests analyze the result with Google's own SQL front end (ZetaSQL)."""

from __future__ import annotations

__all__ = ["TRANSFORMS"]

from sqlglot import exp


def _iso_weeks(tree: exp.Expression) -> exp.Expression:
    """BigQuery's WEEK starts on Sunday; the data contract's weeks are ISO (Monday)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.DateTrunc, exp.TimestampTrunc, exp.DatetimeTrunc)):
            unit = node.args.get("unit")
            if isinstance(unit, exp.Var) and unit.name.upper() == "WEEK":
                node.set("unit", exp.Var(this="ISOWEEK"))
        return node

    return tree.transform(rewrite, copy=False)


def _epoch_seconds(tree: exp.Expression) -> exp.Expression:
    """Seconds since 1970 of a DATETIME read as UTC: UNIX_MICROS(TIMESTAMP(x)) / 1e6."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.TimeToUnix):
            micros = exp.Anonymous(this="UNIX_MICROS", expressions=[exp.Anonymous(this="TIMESTAMP", expressions=[node.this])])
            return exp.Div(this=micros, expression=exp.Literal.number("1000000.0"))
        return node

    return tree.transform(rewrite, copy=False)


TRANSFORMS = (_iso_weeks, _epoch_seconds)
