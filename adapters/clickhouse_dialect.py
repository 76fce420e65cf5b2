"""ClickHouse's differences from the neutral tree, as AST→AST transforms.

Every query csframe renders for ClickHouse goes through ``TRANSFORMS`` (in order), then sqlglot's
``clickhouse`` generator. Each transform rewrites the tree it is given in place (``render`` hands
them a copy) and leaves alone a subtree marked ``meta[USER_SQL]``: a source's own SQL, written in
ClickHouse's dialect by the user.

What the session settings do instead (adapters/clickhouse_client.py ``SESSION_SETTINGS``):
``join_use_nulls`` (a LEFT JOIN's missing side is NULL, not 0 or ''),
``aggregate_functions_null_for_empty`` (SUM of no rows is NULL), ``session_timezone = 'UTC'``,
``cast_keep_nullable``. tests/unit/test_clickhouse_dialect.py states the SQL of each transform.
"""

from __future__ import annotations

__all__ = ["TRANSFORMS", "plain_type", "timestamp_type"]

import re

from sqlglot import exp

from csframe.core.adapter import in_user_sql

from .bigquery_dialect import _rewrite

T = exp.DataType.Type
_WRAPPER = re.compile(r"^(?:Nullable|LowCardinality)\((.*)\)$")
_DIALECT = "clickhouse"


def plain_type(kind: str) -> str:
    """A ClickHouse column type without its Nullable/LowCardinality wrappers."""
    while (m := _WRAPPER.match(kind)) is not None:
        kind = m.group(1)
    return "Date" if kind == "Date32" else kind  # a date either way (sqlglot knows Date's type only)


def timestamp_type() -> exp.DataType:
    """``DateTime64(6, 'UTC')``: the contract's TIMESTAMP (microseconds, UTC) on ClickHouse."""
    return exp.DataType.build("DateTime64(6, 'UTC')", dialect=_DIALECT)


def _no_materialized(tree: exp.Expression) -> exp.Expression:
    """``WITH x AS MATERIALIZED (…)`` → ``WITH x AS (…)``: ClickHouse has no materialized CTE."""
    for node in tree.find_all(exp.CTE):
        node.set("materialized", None)
    return tree


def _types(tree: exp.Expression) -> exp.Expression:
    """The neutral TIMESTAMP → ``DateTime64(6, 'UTC')`` (sqlglot writes ``DateTime``: whole
    seconds); DATE → ``Date32`` (``Date`` ends in 2149 and starts in 1970)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.DataType) and isinstance(node.parent, (exp.Cast, exp.TryCast)):
            if node.is_type(T.TIMESTAMP, T.DATETIME, T.TIMESTAMPNTZ, T.TIMESTAMPTZ):
                return timestamp_type()
            if node.is_type(T.DATE):
                return exp.DataType.build("Date32", dialect=_DIALECT)
        return node

    return _rewrite(tree, rewrite)


def _epoch_seconds(tree: exp.Expression) -> exp.Expression:
    """EPOCH_SECONDS(x) → ``toUnixTimestamp64Micro(CAST(x AS DateTime64(6, 'UTC'))) / 1000000``:
    a Float64 of the microseconds, as DuckDB's ``epoch`` (sqlglot writes ``TIME_TO_UNIX``, which
    ClickHouse has not)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.TimeToUnix):
            micros = exp.Anonymous(this="toUnixTimestamp64Micro",
                                   expressions=[exp.cast(node.this, timestamp_type())])
            return exp.paren(exp.Div(this=micros, expression=exp.Literal.number(1000000)), copy=False)
        return node

    return _rewrite(tree, rewrite)


def _date_series(array: exp.GenerateDateArray) -> exp.Expression:
    """GENERATE_DATE_ARRAY(s, e, INTERVAL 'n' unit) → ``arrayMap(i -> DATE_ADD(unit, i * n, s),
    range(toUInt64(intDiv(dateDiff('unit', s, e), n)) + 1))``."""
    start, end, step = array.args["start"], array.args["end"], array.args.get("step")
    n, unit = (exp.Literal.number(1), "DAY") if step is None else (step.this, step.unit.name.upper())
    n = exp.Literal.number(int(n.name)) if isinstance(n, exp.Literal) else n
    if unit == "WEEK":
        n, unit = exp.Literal.number(7 * int(n.name)), "DAY"
    if unit == "QUARTER":
        n, unit = exp.Literal.number(3 * int(n.name)), "MONTH"
    i = exp.to_identifier("i")
    added = exp.Anonymous(this="DATE_ADD", expressions=[exp.Var(this=unit), exp.Mul(this=exp.column(i.copy()), expression=n.copy()),
                                                        exp.cast(start.copy(), "Date32", dialect=_DIALECT)])
    count = exp.Anonymous(this="dateDiff", expressions=[exp.Literal.string(unit.lower()),
                                                        exp.cast(start.copy(), "Date32", dialect=_DIALECT),
                                                        exp.cast(end.copy(), "Date32", dialect=_DIALECT)])
    length = exp.Add(this=exp.Anonymous(this="toUInt64", expressions=[
        exp.Anonymous(this="intDiv", expressions=[count, n.copy()])]), expression=exp.Literal.number(1))
    return exp.Anonymous(this="arrayMap", expressions=[
        exp.Lambda(this=added, expressions=[i]), exp.Anonymous(this="range", expressions=[length])])


def _unnests(tree: exp.Expression) -> exp.Expression:
    """``FROM UNNEST(array) AS t(c)`` → ``FROM (SELECT arrayJoin(array) AS c) AS t``: ClickHouse
    has no UNNEST table function; a GENERATE_DATE_ARRAY (the period spine) becomes an arrayMap
    over a range (:func:`_date_series`)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Unnest) or len(node.expressions) != 1:
            return node
        alias = node.args.get("alias")
        columns = alias.columns if alias is not None else []
        if len(columns) != 1:
            return node
        array = node.expressions[0]
        if isinstance(array, exp.GenerateDateArray):
            array = _date_series(array)
        joined = exp.alias_(exp.Anonymous(this="arrayJoin", expressions=[array]), columns[0].copy())
        return exp.Subquery(this=exp.select(joined), alias=exp.TableAlias(this=alias.this.copy()))

    return _rewrite(tree, rewrite)


def _column_names(tree: exp.Expression) -> exp.Expression:
    """``SELECT t.c FROM t`` → ``SELECT t.c AS c FROM t``: ClickHouse names such a column
    ``t.c`` (where standard SQL names it ``c``), and a query reading the step by ``c`` fails."""
    for select in tree.find_all(exp.Select):
        if in_user_sql(select):
            continue
        for i, projection in enumerate(select.expressions):
            if isinstance(projection, exp.Column) and projection.table and not isinstance(projection.this, exp.Star):
                select.expressions[i] = exp.alias_(projection, projection.this.copy())
                select.expressions[i].parent = select
    return tree


def _try_casts(tree: exp.Expression) -> exp.Expression:
    """TRY_CAST (a source value that may not convert; sqlglot writes a plain CAST, which fails
    the query): to a timestamp, ``parseDateTime64BestEffortOrNull(toString(x), 6, 'UTC')`` (an
    offset honoured, text without one UTC); to another type, ``accurateCastOrNull(x, 'T')`` (NULL
    for text that is not a number or a boolean, and for NaN or ±infinity into a decimal)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.TryCast):
            return node
        to = node.to
        if to.is_type(T.TIMESTAMP, T.TIMESTAMPTZ, T.TIMESTAMPNTZ, T.DATETIME):
            text = exp.Anonymous(this="toString", expressions=[node.this])
            return exp.Anonymous(this="parseDateTime64BestEffortOrNull", expressions=[
                text, exp.Literal.number(6), exp.Literal.string("UTC")])
        if to.is_type(*exp.DataType.TEXT_TYPES):
            return exp.cast(node.this, to)
        kind = exp.DataType.build("Date32", dialect=_DIALECT) if to.is_type(T.DATE) else to.copy()
        kind.set("nullable", False)
        return exp.Anonymous(this="accurateCastOrNull", expressions=[node.this, exp.Literal.string(kind.sql(_DIALECT))])

    return _rewrite(tree, rewrite)


def _utc(tree: exp.Expression) -> exp.Expression:
    """x AT TIME ZONE 'UTC' → x: a ClickHouse DateTime64 is an instant, and the neutral tree casts
    it to ``DateTime64(6, 'UTC')`` right after (its civil time in UTC)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        zone = node.args.get("zone") if isinstance(node, exp.AtTimeZone) else None
        if isinstance(zone, exp.Literal) and zone.is_string and zone.this.upper() == "UTC":
            return node.this
        return node

    return _rewrite(tree, rewrite)


def _rounded_decimals(tree: exp.Expression) -> exp.Expression:
    """CAST(a - b AS DECIMAL(p, s)) → CAST(round(a - b, s) AS DECIMAL(p, s)) for arithmetic: DuckDB
    rounds a Float64 to the decimal's scale, ClickHouse truncates (2592000.00000095, a difference of
    two EPOCH_SECONDS one microsecond apart, would become 2592000.000000 and tie the window's edge)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Cast) and node.to.is_type(T.DECIMAL) and len(node.to.expressions) == 2:
            inner = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
            if isinstance(inner, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
                scale = node.to.expressions[1]
                digits = scale.this if isinstance(scale, exp.DataTypeParam) else scale
                node.set("this", exp.Anonymous(this="round", expressions=[inner, digits.copy()]))
        return node

    return _rewrite(tree, rewrite)


TRANSFORMS = (_no_materialized, _column_names, _utc, _try_casts, _rounded_decimals, _types, _epoch_seconds, _unnests)
