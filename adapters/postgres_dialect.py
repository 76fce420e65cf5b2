"""PostgreSQL's differences from the neutral tree, as AST→AST transforms.

PostgreSQL 15 has no ``TRY_CAST`` (and no ``pg_input_is_valid``): the neutral tree's
``TRY_CAST(x AS t)`` — a source value that may not convert to the data contract's type
(:mod:`csframe.core.contract_types`) — becomes a ``CAST`` guarded by nested ``CASE`` expressions (a
``CASE`` evaluates its condition before its result; an ``AND`` may evaluate either side
first): NULL, like DuckDB's TRY_CAST, for text that is not a number, a timestamp or a boolean,
and for a float's ``NaN`` and ``±Infinity`` (whose text matches no number). The text must match
a pattern of the type, then a number must fit the type (an unbounded NUMERIC compared with its
range), a date must exist (its day within its month). A source's own SQL (``meta[USER_SQL]``) is
left as written.
"""

from __future__ import annotations

__all__ = ["TRANSFORMS", "NUMBER", "TIMESTAMP", "BOOLEAN"]

from sqlglot import exp

from csframe.core.adapter import in_user_sql

NUMBER = r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*$"
"""Text PostgreSQL casts to a NUMERIC, without NaN and Infinity (an exponent of up to 3 digits)."""

TIMESTAMP = (r"^[1-9][0-9]{3}-(0?[1-9]|1[0-2])-(0?[1-9]|[12][0-9]|3[01])"
             r"([T ]([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?\s*(Z|z|[-+][0-9]{2}(:?[0-9]{2})?)?)?$")
"""An ISO 8601 date or date and time, with an optional UTC offset (``Z``, ``+05:30``, ``-0500``, ``+05``)."""

BOOLEAN = r"^(true|false|t|f|yes|no|y|n|1|0)$"
"""Text that both PostgreSQL and DuckDB cast to a boolean (any case)."""

_YEAR, _MONTH, _DAY = r"^([0-9]{4})", r"^[0-9]{4}-([0-9]{1,2})", r"^[0-9]{4}-[0-9]{1,2}-([0-9]{1,2})"
_DOUBLE_MAX, _DOUBLE_MIN = "1e308", "1e-307"  # within float8's range, with room: a value beyond is no number

T = exp.DataType.Type


def _part(text: exp.Expression, pattern: str) -> exp.Expression:
    return exp.cast(exp.Anonymous(this="SUBSTRING", expressions=[text.copy(), exp.Literal.string(pattern)]), "INT")


def _fits(text: exp.Expression, to: exp.DataType) -> exp.Expression | None:
    """Once ``text`` matches its pattern: whether its value fits ``to`` (None: it always does)."""
    if to.is_type(*exp.DataType.NUMERIC_TYPES):
        size = exp.Abs(this=exp.cast(text.copy(), "NUMERIC"))
        params = [int(p.name) for p in to.expressions]
        if to.is_type(T.DECIMAL) and len(params) == 2:
            return exp.LT(this=size, expression=exp.Literal.number(f"1e{params[0] - params[1]}"))
        if to.is_type(T.DOUBLE, T.FLOAT):
            return exp.and_(exp.LT(this=size, expression=exp.Literal.number(_DOUBLE_MAX)),
                            exp.or_(exp.EQ(this=size.copy(), expression=exp.Literal.number(0)),
                                    exp.GT(this=size.copy(), expression=exp.Literal.number(_DOUBLE_MIN))))
        return None
    if to.is_type(*exp.DataType.TEMPORAL_TYPES):
        first = exp.Anonymous(this="MAKE_DATE", expressions=[_part(text, _YEAR), _part(text, _MONTH), exp.Literal.number(1)])
        last = exp.Sub(this=exp.Add(this=first, expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.Var(this="MONTH"))),
                       expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.Var(this="DAY")))
        return exp.LTE(this=_part(text, _DAY), expression=exp.Extract(this=exp.Var(this="DAY"), expression=last))
    return None


def _guarded(value: exp.Expression, to: exp.DataType) -> exp.Expression:
    """CASE WHEN text ~ pattern THEN CASE WHEN it fits THEN CAST(value AS to) END END."""
    text = exp.cast(value.copy(), "TEXT")
    cast = exp.cast(value.copy(), to.copy())
    if to.is_type(*exp.DataType.NUMERIC_TYPES):
        match: exp.Expression = exp.RegexpLike(this=text, expression=exp.Literal.string(NUMBER))
    elif to.is_type(*exp.DataType.TEMPORAL_TYPES):
        match = exp.RegexpLike(this=text, expression=exp.Literal.string(TIMESTAMP))
    elif to.is_type(T.BOOLEAN):
        match = exp.RegexpILike(this=text, expression=exp.Literal.string(BOOLEAN))
    else:
        return cast  # text: every value converts
    fits = _fits(text, to)
    inner = cast if fits is None else exp.Case().when(fits, cast)
    return exp.paren(exp.Case().when(match, inner), copy=False)


def _try_casts(tree: exp.Expression) -> exp.Expression:
    """TRY_CAST(x AS t) → the guarded CAST of :func:`_guarded`; to text, a plain CAST."""
    for node in list(tree.find_all(exp.TryCast)):
        if in_user_sql(node):
            continue
        new = _guarded(node.this, node.to)
        if node is tree:
            return new
        node.replace(new)
    return tree


TRANSFORMS = (_try_casts,)
