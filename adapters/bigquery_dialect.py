"""BigQuery's differences from the neutral tree, as pure AST→AST transforms.

Every query csframe renders for BigQuery goes through ``TRANSFORMS`` (in order), then
sqlglot's BigQuery generator. The neutral tree's TIMESTAMP (the data contract's
timestamps, UTC, no time zone) is BigQuery's **DATETIME**: sqlglot renders
``CAST(x AS TIMESTAMP)`` as ``CAST(x AS DATETIME)``, so every source scan turns a user's
TIMESTAMP or DATETIME column into a DATETIME (a TIMESTAMP read in UTC), the transforms
below assume DATETIME operands, and DATE literals compare with them directly.

Each transform rewrites the tree it is given in place and returns it (``render`` hands
them a copy of the neutral tree, which stays as it was). None of them touches a subtree
whose root carries ``meta[USER_SQL]``: a source's own SQL from the project file, already
written in BigQuery's dialect (its DATE_TRUNC on a DATE, its TIMESTAMP arithmetic and its
WEEK mean what the user wrote).

The tests analyze every query of the catalog with Google's own SQL front end (ZetaSQL,
``tests/bigquery/test_zetasql_analyze.py``) and pin the semantics these transforms rely
on with its reference implementation (``tests/bigquery/test_bigquery_semantics.py``).
"""

from __future__ import annotations

__all__ = ["TRANSFORMS", "median", "no_materialized"]

from collections.abc import Callable

from sqlglot import exp

from csframe.core.adapter import USER_SQL



def _rewrite(tree: exp.Expression, rule: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """``tree.transform(rule, copy=False)`` (top-down; a replacement is not walked again),
    except that subtrees marked ``meta[USER_SQL]`` are left as they are."""
    root: exp.Expression | None = None
    result: exp.Expression | None = None

    def prune(node: exp.Expression) -> bool:
        return node is not result or bool(node.meta_get(USER_SQL))

    for node in tree.dfs(prune=prune):
        if node.meta_get(USER_SQL):
            result = node
        else:
            parent, arg_key, index = node.parent, node.arg_key, node.index
            result = rule(node)
            if root is not None and parent is not None and arg_key and result is not node:
                parent.set(arg_key, result, index)
        if root is None:
            root = result
    assert root is not None
    return root

_TRUNCS = (exp.DateTrunc, exp.TimestampTrunc, exp.DatetimeTrunc)


def _unit_name(node: exp.Expression) -> str:
    unit = node.args.get("unit")
    # sqlglot keeps a DateTrunc's unit as a string literal, the others' as a Var
    return unit.name.upper() if isinstance(unit, (exp.Var, exp.Literal)) else ""


def _as_datetime(x: exp.Expression) -> exp.Expression:
    """CAST(x AS DATETIME), unless ``x`` is already a cast to TIMESTAMP or DATETIME (both
    are DATETIME on BigQuery)."""
    if isinstance(x, exp.Cast) and x.to.is_type(exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATETIME):
        return x
    return exp.cast(x, "DATETIME", copy=False)


def _iso_weeks(tree: exp.Expression) -> exp.Expression:
    """Truncation to WEEK → ISOWEEK: BigQuery's WEEK starts on Sunday, the data contract's
    weeks are ISO (Monday)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, _TRUNCS) and _unit_name(node) == "WEEK":
            node.set("unit", exp.Var(this="ISOWEEK"))
        return node

    return _rewrite(tree, rewrite)


def _datetime_trunc(tree: exp.Expression) -> exp.Expression:
    """DATE_TRUNC(x, unit) → DATETIME_TRUNC(CAST(x AS DATETIME), unit).

    The neutral tree truncates timestamps (DATETIME here). DATETIME_TRUNC is the function
    every BigQuery has for them (DATE_TRUNC took only DATEs until recently); the cast makes
    a DATE or (read in UTC) TIMESTAMP operand work too."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.DateTrunc, exp.TimestampTrunc)):
            unit = _unit_name(node)
            if unit:
                return exp.DatetimeTrunc(this=_as_datetime(node.this), unit=exp.Var(this=unit))
        return node

    return _rewrite(tree, rewrite)


def _epoch_seconds(tree: exp.Expression) -> exp.Expression:
    """Seconds since 1970 of a DATETIME read as UTC, exactly:
    CAST(UNIX_MICROS(TIMESTAMP(x)) AS NUMERIC) / 1000000, a NUMERIC that keeps the
    microseconds as decimals (a FLOAT64 has about 16 digits: 1.7e9 s with 6 decimals is
    at its edge)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.TimeToUnix):
            micros = exp.Anonymous(this="UNIX_MICROS", expressions=[exp.Anonymous(this="TIMESTAMP", expressions=[node.this])])
            return exp.Div(this=exp.cast(micros, "NUMERIC"), expression=exp.Literal.number(1000000))
        return node

    return _rewrite(tree, rewrite)


def _interval_literals(tree: exp.Expression) -> exp.Expression:
    """INTERVAL '1' MONTH → INTERVAL 1 MONTH: BigQuery reads a quoted interval as an
    INTERVAL-type literal (``INTERVAL '1-2' YEAR TO MONTH``), which GENERATE_DATE_ARRAY and
    DATETIME_ADD do not take; their step is an INT64 and a date part."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Interval):
            n = node.this
            if isinstance(n, exp.Literal) and n.is_string and n.this.strip().lstrip("-").isdigit():
                node.set("this", exp.Literal.number(int(n.this.strip())))
        return node

    return _rewrite(tree, rewrite)


def _interval_arithmetic(tree: exp.Expression) -> exp.Expression:
    """x ± INTERVAL n unit → DATETIME_ADD/DATETIME_SUB(CAST(x AS DATETIME), INTERVAL n unit).

    ``DATE + INTERVAL`` needs BigQuery's INTERVAL type (and an analyzer that knows it);
    DATETIME_ADD is the form every BigQuery accepts. Like DuckDB's and PostgreSQL's
    date + interval it returns a DATETIME (the neutral tree casts the result), takes a DATE,
    DATETIME or (read as UTC) TIMESTAMP operand, and clamps a month step to the month's
    last day (Jan 31 + 1 month = Feb 29 in 2024)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Add, exp.Sub)):
            left, right = node.this, node.expression
            if isinstance(left, exp.Interval) and isinstance(node, exp.Add):
                left, right = right, left
            if isinstance(right, exp.Interval) and not isinstance(left, exp.Interval):
                fn = "DATETIME_ADD" if isinstance(node, exp.Add) else "DATETIME_SUB"
                left = _interval_arithmetic(left)  # a replacement is not walked again: its operand first
                return exp.Anonymous(this=fn, expressions=[_as_datetime(left), right])
        return node

    return _rewrite(tree, rewrite)


def median(x: exp.Expression) -> exp.Expression:
    """The interpolated median of ``x`` over a group, as a BigQuery aggregate expression:
    the mean of the two middle values of the sorted non-NULL values (one value twice for an
    odd count), NULL over no values. Two ARRAY_AGGs sorted the same way, read at
    SAFE_OFFSET(DIV(n - 1, 2)) and SAFE_OFFSET(DIV(n, 2)) with n = COUNT(x)."""

    def sorted_values() -> exp.Expression:
        return exp.IgnoreNulls(this=exp.ArrayAgg(this=exp.Order(
            this=x.copy(), expressions=[exp.Ordered(this=x.copy(), nulls_first=True)])))

    def at(index: exp.Expression) -> exp.Expression:
        return exp.Bracket(this=sorted_values(), expressions=[index], offset=0, safe=True)

    n = exp.Count(this=x.copy())
    two = exp.Literal.number(2)
    low = at(exp.IntDiv(this=exp.Sub(this=n, expression=exp.Literal.number(1)), expression=two.copy()))
    high = at(exp.IntDiv(this=n.copy(), expression=two.copy()))
    return exp.Div(this=exp.paren(exp.Add(this=low, expression=high), copy=False), expression=two.copy())


def _is_half(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Literal) and not node.is_string and float(node.this) == 0.5


def _medians(tree: exp.Expression) -> exp.Expression:
    """MEDIAN(x), PERCENTILE_CONT(x, 0.5) and PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x),
    as aggregates → :func:`median`. BigQuery has no MEDIAN, and its PERCENTILE_CONT is an
    analytic (window) function only; a windowed PERCENTILE_CONT is left as it is."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node.parent, exp.Window):
            return node
        if isinstance(node, exp.Median):
            return median(node.this)
        if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup) and _is_half(node.expression):
            return median(node.this)
        if isinstance(node, exp.WithinGroup) and isinstance(node.this, exp.PercentileCont) and _is_half(node.this.this):
            order = node.expression
            keys = order.expressions if isinstance(order, exp.Order) else []
            if len(keys) == 1 and not keys[0].args.get("desc"):
                return median(keys[0].this)
        return node

    return _rewrite(tree, rewrite)


def no_materialized(tree: exp.Expression) -> exp.Expression:
    """BigQuery has no ``AS MATERIALIZED`` (the neutral query marks the steps several read): drop it."""
    with_ = tree.args.get("with_") if isinstance(tree, exp.Query) else None
    for cte in with_.expressions if with_ is not None else ():
        cte.set("materialized", None)
    return tree


def _utc_datetimes(tree: exp.Expression) -> exp.Expression:
    """x AT TIME ZONE 'UTC' → DATETIME_ADD(DATETIME '1970-01-01', INTERVAL UNIX_MICROS(x) MICROSECOND):
    a TIMESTAMP's (an instant's) civil time in UTC, by arithmetic that no default time zone
    (a project's ``default_time_zone``) touches. The neutral tree reads a time-zoned source
    column, and text parsed as a TIMESTAMP (its offset honoured), as
    ``CAST(x AT TIME ZONE 'UTC' AS TIMESTAMP)`` (:mod:`csframe.core.contract_types`).
    ``DATETIME(x, 'UTC')`` says the same, but the emulator the tests run on mistranslates it
    on a column; sqlglot's own rendering of AT TIME ZONE goes through it too."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        zone = node.args.get("zone") if isinstance(node, exp.AtTimeZone) else None
        if isinstance(zone, exp.Literal) and zone.is_string and zone.this.upper() == "UTC":
            epoch = exp.cast(exp.Literal.string("1970-01-01 00:00:00"), "DATETIME")
            micros = exp.Anonymous(this="UNIX_MICROS", expressions=[node.this])
            return exp.Anonymous(this="DATETIME_ADD", expressions=[
                epoch, exp.Interval(this=micros, unit=exp.Var(this="MICROSECOND"))])
        return node

    return _rewrite(tree, rewrite)


def _time_zones(tree: exp.Expression) -> exp.Expression:
    """CONVERT_TIMEZONE('UTC', zone, x) (the neutral tree's local time of a UTC timestamp, a
    project's ``[calendar] time_zone``) → DATETIME(instant, zone), and CAST(that AS DATE) →
    DATE(instant, zone), where instant = TIMESTAMP_MICROS(DATETIME_DIFF(x, DATETIME '1970-01-01',
    MICROSECOND)): the DATETIME ``x`` read as UTC by arithmetic that no default time zone touches
    (the zone's rules, daylight saving included, are BigQuery's own). The emulator the tests run
    on rejects TIMESTAMP(x, 'UTC') on a column and DATETIME(timestamp, zone); DATE(…, zone) it takes."""

    def instant(node: exp.ConvertTimezone) -> exp.Expression:
        x, source = node.args["timestamp"], node.args.get("source_tz")
        if source is not None and not (isinstance(source, exp.Literal) and source.this.upper() == "UTC"):
            return exp.Anonymous(this="TIMESTAMP", expressions=[x, source])
        epoch = exp.cast(exp.Literal.string("1970-01-01 00:00:00"), "DATETIME")
        micros = exp.Anonymous(this="DATETIME_DIFF", expressions=[x, epoch, exp.Var(this="MICROSECOND")])
        return exp.Anonymous(this="TIMESTAMP_MICROS", expressions=[micros])

    def rewrite(node: exp.Expression) -> exp.Expression:
        if (isinstance(node, exp.Cast) and isinstance(node.this, exp.ConvertTimezone)
                and node.to.is_type(exp.DataType.Type.DATE)):
            return exp.Anonymous(this="DATE", expressions=[instant(node.this), node.this.args["target_tz"]])
        if isinstance(node, exp.ConvertTimezone):
            return exp.Anonymous(this="DATETIME", expressions=[instant(node), node.args["target_tz"]])
        return node

    return _rewrite(tree, rewrite)


def _safe_cast_types(tree: exp.Expression) -> exp.Expression:
    """SAFE_CAST(x AS NUMERIC(38, 9)) → SAFE_CAST(x AS NUMERIC): BigQuery takes no parameterized
    type in a cast (sqlglot drops the parameters of a CAST's type, not of a SAFE_CAST's)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.TryCast) and node.to.expressions:
            node.set("to", exp.DataType(this=node.to.this))
        return node

    return _rewrite(tree, rewrite)


TRANSFORMS = (no_materialized, _time_zones, _utc_datetimes, _safe_cast_types, _iso_weeks, _datetime_trunc, _epoch_seconds, _interval_literals, _interval_arithmetic,
              _medians)
