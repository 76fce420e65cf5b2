"""PostgreSQL's differences from the neutral tree, as AST→AST transforms.

PostgreSQL 15 has no ``TRY_CAST`` (and no ``pg_input_is_valid``): the neutral tree's
``TRY_CAST(x AS t)`` — a source value that may not convert to the data contract's type
(:mod:`csframe.core.contract_types`) — becomes ``CASE WHEN CAST(x AS TEXT) ~ <pattern of t>
THEN CAST(x AS t) END``: NULL, like DuckDB's TRY_CAST, for text that is not a number, a
timestamp or a boolean, and for a float's ``NaN`` and ``±Infinity`` (whose text matches no
number). A value that matches the pattern and still does not convert (a day that does not
exist, ``2024-02-30``; an amount beyond 10^29) fails the query with PostgreSQL's error.
A source's own SQL (``meta[USER_SQL]``) is left as written.
"""

from __future__ import annotations

__all__ = ["TRANSFORMS", "NUMBER", "TIMESTAMP", "BOOLEAN"]

from sqlglot import exp

from .bigquery_dialect import USER_SQL

NUMBER = r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
"""Text PostgreSQL casts to a number, without NaN and Infinity."""

TIMESTAMP = (r"^[0-9]{4}-(0?[1-9]|1[0-2])-(0?[1-9]|[12][0-9]|3[01])"
             r"([T ]([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?\s*(Z|z|[-+][0-9]{2}(:?[0-9]{2})?)?)?$")
"""An ISO 8601 date or date and time, with an optional UTC offset (``Z``, ``+05:30``, ``-0500``, ``+05``)."""

BOOLEAN = r"^(true|false|t|f|yes|no|y|n|1|0)$"
"""Text that both PostgreSQL and DuckDB cast to a boolean (any case)."""

T = exp.DataType.Type


def _guard(value: exp.Expression, to: exp.DataType) -> exp.Expression | None:
    text = exp.cast(value.copy(), "TEXT")
    if to.is_type(*exp.DataType.NUMERIC_TYPES):
        return exp.RegexpLike(this=text, expression=exp.Literal.string(NUMBER))
    if to.is_type(*exp.DataType.TEMPORAL_TYPES):
        return exp.RegexpLike(this=text, expression=exp.Literal.string(TIMESTAMP))
    if to.is_type(T.BOOLEAN):
        return exp.RegexpILike(this=text, expression=exp.Literal.string(BOOLEAN))
    return None


def _user_sql(node: exp.Expression) -> bool:
    while node is not None:
        if node.meta_get(USER_SQL):
            return True
        node = node.parent
    return False


def _try_casts(tree: exp.Expression) -> exp.Expression:
    """TRY_CAST(x AS t) → (CASE WHEN CAST(x AS TEXT) ~ <pattern of t> THEN CAST(x AS t) END);
    a type without a pattern (text) is a plain CAST: every value converts to it."""
    for node in list(tree.find_all(exp.TryCast)):
        if _user_sql(node):
            continue
        guard = _guard(node.this, node.to)
        cast = exp.cast(node.this.copy(), node.to.copy())
        new = cast if guard is None else exp.paren(exp.Case().when(guard, cast), copy=False)
        if node is tree:
            return new
        node.replace(new)
    return tree


TRANSFORMS = (_try_casts,)
