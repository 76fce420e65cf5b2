"""The BigQuery semantics csframe's SQL relies on, pinned with Google's reference
implementation of its SQL (ZetaSQL's ``EvaluateQuery``, ``tests/support/zetasql.py``).

Each expression is built the way the compiler builds it (``bucket``, ``safe_div``,
``EPOCH_SECONDS``, the period spine, node SQL in sqlglot's neutral dialect) and rendered
through the BigQuery adapter's transforms, so these tests check csframe's rendering and
BigQuery's meaning together; a few raw BigQuery queries pin why a transform exists. The
expected values are the data contract's (data-contract.md, "Periods" and "Numbers, time
and empty sets"), computed in Python where they can be.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
import sqlglot
from csframe.adapters.bigquery import BigQueryAdapter
from csframe.core.calendar import bucket_in
from csframe.core.contract import SOURCES
from csframe.core.formula import literal, safe_div
from csframe.core.periods import floor, shift
from csframe.core.periods import grain as to_grain
from csframe.core.project import Project, SourceBinding
from csframe.core.render import render
from csframe.core.session import Session
from sqlglot import exp

from tests.support.zetasql import zetasql  # noqa: F401  (the session fixture)

DT = dt.datetime
D = dt.date
MICRO = dt.timedelta(microseconds=1)


def bq(tree_or_sql: exp.Expression | str) -> str:
    """A neutral tree (or neutral SQL, as node SQL is written) rendered for BigQuery."""
    tree = sqlglot.parse_one(tree_or_sql) if isinstance(tree_or_sql, str) else tree_or_sql
    return render(tree, BigQueryAdapter, pretty=False)


def value(zetasql, expression: exp.Expression):  # noqa: F811
    """The value of one neutral expression, rendered for and computed by BigQuery's SQL."""
    rows = zetasql.evaluate(bq(exp.select(exp.alias_(expression, "v"))))
    assert len(rows) == 1
    return rows[0][0]


def interval(n: int, unit: str) -> exp.Interval:
    """An interval as the compiler writes it (``compiler.interval``)."""
    return exp.Interval(this=exp.Literal.string(str(n)), unit=exp.Var(this=unit))


# -- periods ------------------------------------------------------------------------------

@pytest.mark.parametrize(("ts", "expected"), [
    (DT(2024, 1, 7), D(2024, 1, 1)),                        # a Sunday 00:00: still the week of Monday 1st
    (DT(2024, 1, 7, 23, 59, 59, 999999), D(2024, 1, 1)),    # the last microsecond of that week
    (DT(2024, 1, 8), D(2024, 1, 8)),                        # a Monday 00:00 starts its own week
    (DT(2025, 1, 1, 12), D(2024, 12, 30)),                  # across a year boundary
    (DT(2023, 1, 1), D(2022, 12, 26)),                      # a Sunday that opens a year
])
def test_week_bucket_is_the_iso_week(zetasql, ts, expected):  # noqa: F811
    assert expected == floor(ts.date(), to_grain("week"))
    assert value(zetasql, bucket_in(to_grain("week"), "UTC")(literal(ts))) == expected


def test_bigquery_week_alone_starts_on_sunday(zetasql):  # noqa: F811
    """Why the ISOWEEK transform exists."""
    assert zetasql.evaluate("SELECT DATETIME_TRUNC(DATETIME '2024-01-08 00:00:00', WEEK)") == [(DT(2024, 1, 7),)]


@pytest.mark.parametrize("grain", ["day", "month", "quarter", "year"])
@pytest.mark.parametrize("boundary", [DT(2024, 4, 1), DT(2025, 1, 1), DT(2024, 3, 1), DT(2024, 7, 1)])
def test_bucket_on_a_boundary_and_a_microsecond_before(zetasql, grain, boundary):  # noqa: F811
    g = to_grain(grain)
    for ts in (boundary, boundary - MICRO):
        assert value(zetasql, bucket_in(g, "UTC")(literal(ts))) == floor(ts.date(), g), ts


@pytest.mark.parametrize(("start", "n", "unit", "expected"), [
    (D(2024, 1, 31), 1, "MONTH", D(2024, 2, 29)),   # clamped to the month's last day (leap year)
    (D(2023, 1, 31), 1, "MONTH", D(2023, 2, 28)),
    (D(2024, 1, 31), 3, "MONTH", D(2024, 4, 30)),
    (D(2024, 2, 29), 12, "MONTH", D(2025, 2, 28)),
    (D(2024, 11, 1), 3, "MONTH", D(2025, 2, 1)),
    (D(2024, 12, 30), 7, "DAY", D(2025, 1, 6)),
    (D(2024, 2, 28), 1, "DAY", D(2024, 2, 29)),
])
def test_date_plus_interval_steps(zetasql, start, n, unit, expected):  # noqa: F811
    """CAST(d + INTERVAL 'n' unit AS DATE), as the spine computes each period's end."""
    assert value(zetasql, exp.cast(exp.Add(this=literal(start), expression=interval(n, unit)), "DATE")) == expected


def test_generate_date_array_bounds(zetasql):  # noqa: F811
    """Both bounds are included; a step that overshoots the end stops before it; an empty
    range gives an empty array. Month steps chain, each from the previous element, so they
    drift after a clamp (Jan 31 → Feb 29 → Mar 29): the spine always starts on the 1st."""
    def gda(a: D, b: D, n: int, unit: str):
        return value(zetasql, exp.GenerateDateArray(start=literal(a), end=literal(b), step=interval(n, unit)))

    assert gda(D(2024, 1, 1), D(2024, 1, 3), 1, "DAY") == [D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 3)]
    assert gda(D(2024, 1, 1), D(2024, 1, 20), 7, "DAY") == [D(2024, 1, 1), D(2024, 1, 8), D(2024, 1, 15)]
    assert gda(D(2024, 1, 1), D(2023, 12, 1), 1, "MONTH") == []
    assert gda(D(2024, 1, 31), D(2024, 4, 30), 1, "MONTH") == [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 29), D(2024, 4, 29)]
    assert gda(D(2023, 10, 1), D(2024, 4, 1), 3, "MONTH") == [D(2023, 10, 1), D(2024, 1, 1), D(2024, 4, 1)]


@pytest.fixture(scope="module")
def session():
    with tempfile.TemporaryDirectory() as d:
        project = Project(dir=Path(d), adapter={"name": "bigquery", "project": "p", "dataset": "d"},
                          sources={s.name: SourceBinding(s.name, table=s.name) for s in SOURCES})
        s = Session.open(project=project, entry_points=False)
        yield s
        s.close()


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
def test_the_compiled_spine_is_every_period_half_open(zetasql, session, grain):  # noqa: F811
    """The compiler's own spine CTE, rendered for BigQuery: one row per period from the one
    before the first reported, each [start, end) with end = the next start."""
    metric = next(iter(session.registry.metrics))
    key = (metric, session.graph.default_variant(metric))
    plan = session.plan(session.request([key], grain=grain, start="2024-01-31", end="2025-03-01"))
    compiled, _ = session.compile(plan, "bigquery")
    spine = next(c.this for c in compiled.query.find_all(exp.CTE) if c.alias == "spine")
    rows = zetasql.evaluate(bq(spine.copy()))
    g = to_grain(grain)
    expected, p = [], plan.spine_start
    while p <= plan.spine_last:
        expected.append((p, shift(p, g, 1)))
        p = shift(p, g, 1)
    assert rows == expected
    assert rows[0][0] == shift(floor(D(2024, 1, 31), g), g, -1)


# -- numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("ts", [
    DT(2024, 5, 6, 7, 8, 9, 123456), DT(2024, 5, 6, 7, 8, 9, 999999), DT(2038, 1, 19, 3, 14, 8, 1),
    DT(1970, 1, 1), DT(1969, 12, 31, 23, 59, 59, 500000), DT(9999, 12, 31, 23, 59, 59, 999999),
])
def test_epoch_seconds_are_exact(zetasql, ts):  # noqa: F811
    """EPOCH_SECONDS(ts) of a DATETIME with microseconds, read as UTC: exact decimals."""
    expected = Decimal((ts - DT(1970, 1, 1)) // MICRO).scaleb(-6)
    assert value(zetasql, exp.TimeToUnix(this=literal(ts))) == expected


def test_a_lifespan_in_seconds_is_exact(zetasql):  # noqa: F811
    """CAST(EPOCH_SECONDS(a) - EPOCH_SECONDS(b) AS DECIMAL(38, 6)), as the lifespan nodes write it."""
    a, b = DT(2024, 5, 6, 7, 8, 9, 123457), DT(2024, 5, 6, 7, 8, 9, 123456)
    diff = exp.Sub(this=exp.TimeToUnix(this=literal(a)), expression=exp.TimeToUnix(this=literal(b)))
    assert value(zetasql, exp.cast(diff, "DECIMAL(38, 6)")) == Decimal("0.000001")
    a = DT(2031, 7, 1, 0, 0, 0, 1)
    diff = exp.Sub(this=exp.TimeToUnix(this=literal(a)), expression=exp.TimeToUnix(this=literal(DT(2001, 1, 1))))
    assert value(zetasql, exp.cast(diff, "DECIMAL(38, 6)")) == Decimal((a - DT(2001, 1, 1)) // MICRO).scaleb(-6)


def test_decimal_sums_are_exact(zetasql):  # noqa: F811
    """DECIMAL(38, 9) is NUMERIC: 0.1 + 0.2 − 0.3 = 0 exactly (FLOAT64 would not give 0)."""
    rows = zetasql.evaluate(bq("SELECT SUM(CAST(x AS DECIMAL(38, 9))) AS exact, SUM(CAST(x AS DOUBLE)) AS inexact "
                               "FROM (VALUES ('0.1'), ('0.2'), ('-0.3')) AS t(x)"))
    assert rows == [(Decimal(0), pytest.approx(0, abs=1e-15))]
    assert rows[0][0] == 0 and rows[0][1] != 0


@pytest.mark.parametrize(("num", "den", "expected"), [
    (1, 0, None), (1, None, None), (0, 0, None), (1, 4, 0.25), (-3, 2, -1.5), (Decimal("0.3"), Decimal("0.1"), 0.3 / 0.1),
])
def test_safe_division(zetasql, num, den, expected):  # noqa: F811
    """x / NULLIF(y, 0) as safe_div builds it (as DOUBLE): NULL on a zero or NULL denominator."""
    def lit(v):
        return exp.Null() if v is None else exp.cast(exp.convert(str(v)), "DECIMAL(38, 9)") if isinstance(v, Decimal) else exp.convert(v)

    assert value(zetasql, safe_div(lit(num), lit(den))) == expected


@pytest.mark.parametrize(("x", "expected"), [("2.5", 3), ("-2.5", -3), ("0.5", 1), ("2.4999", 2), ("1.5", 2)])
def test_cast_to_integer_rounds_half_away_from_zero(zetasql, x, expected):  # noqa: F811
    assert value(zetasql, exp.cast(exp.Literal.number(x), "BIGINT")) == expected
    assert value(zetasql, exp.cast(exp.cast(exp.Literal.string(x), "DECIMAL(38, 9)"), "BIGINT")) == expected


# -- medians and empty sets ----------------------------------------------------------------------

@pytest.mark.parametrize(("values", "expected"), [
    (["1.0", "2.0", "4.0", "10.0"], 3.0),          # even count: the mean of the two middle values
    (["10.0", "1.0", "4.0"], 4.0),                 # odd count: the middle one (unsorted input)
    (["1.0", None, "3.0", None], 2.0),             # NULLs are left out
    (["5.0"], 5.0),
    ([], None),                                    # no values: NULL
])
def test_median_is_interpolated(zetasql, values, expected):  # noqa: F811
    """MEDIAN(x) of node SQL, through the BigQuery median transform."""
    rows = ", ".join(f"({'CAST(NULL AS DOUBLE)' if v is None else v})" for v in values or ["1.0"])
    where = " WHERE FALSE" if not values else ""
    assert zetasql.evaluate(bq(f"SELECT MEDIAN(x) FROM (VALUES {rows}) AS t(x){where}")) == [(expected,)]


def test_median_per_group_and_of_decimals(zetasql):  # noqa: F811
    sql = bq("SELECT g, MEDIAN(CAST(x AS DECIMAL(38, 9))) AS m FROM (VALUES (1, '0.1'), (1, '0.2'), (2, '7'), "
             "(2, '1'), (2, '3'), (3, NULL)) AS t(g, x) GROUP BY g ORDER BY g")
    assert zetasql.evaluate(sql) == [(1, Decimal("0.15")), (2, Decimal(3)), (3, None)]


def test_bigquery_percentile_cont_agrees(zetasql):  # noqa: F811
    """BigQuery's own PERCENTILE_CONT(x, 0.5) (a window function there) gives the same median."""
    rows = zetasql.evaluate("SELECT PERCENTILE_CONT(x, 0.5) OVER () FROM UNNEST([1.0, 2.0, 4.0, 10.0, NULL]) AS x LIMIT 1")
    assert rows == [(3.0,)]


def test_aggregates_over_no_rows(zetasql):  # noqa: F811
    """COUNT over no rows is 0, AVG is NULL, and SUM is NULL too (so the compiler's measures
    COALESCE sums to 0); GROUP BY over no rows gives no row at all (so the grid is joined)."""
    rows = zetasql.evaluate(bq("SELECT COUNT(*), COUNT(x), AVG(x), SUM(x), MAX(x) FROM (VALUES (1.0)) AS t(x) WHERE FALSE"))
    assert rows == [(0, 0, None, None, None)]
    assert zetasql.evaluate(bq("SELECT g, COUNT(*) FROM (VALUES (1, 1.0)) AS t(g, x) WHERE FALSE GROUP BY g")) == []


# -- time --------------------------------------------------------------------------------

@pytest.mark.parametrize(("ts", "before"), [
    (DT(2024, 6, 30, 23, 59, 59, 999999), True), (DT(2024, 7, 1), False), (DT(2024, 7, 1, 0, 0, 0, 1), False),
])
def test_a_timestamp_compares_with_a_date_as_its_midnight(zetasql, ts, before):  # noqa: F811
    """``t < :spine_end`` in node SQL: a DATETIME against a DATE literal, the DATE read as 00:00."""
    assert value(zetasql, exp.LT(this=literal(ts), expression=literal(D(2024, 7, 1)))) is before


def test_timestamp_columns_are_read_as_utc(zetasql):  # noqa: F811
    """A source column of BigQuery type TIMESTAMP, cast as the scan casts it, is its UTC time."""
    assert bq(exp.select(exp.cast(exp.column("x"), "TIMESTAMP"))) == "SELECT CAST(x AS DATETIME)"
    rows = zetasql.evaluate("SELECT CAST(x AS DATETIME) FROM UNNEST([TIMESTAMP '2024-01-01 00:30:00+01:00']) AS x")
    assert rows == [(DT(2023, 12, 31, 23, 30),)]


# -- the data-contract checks ---------------------------------------------------------------

@pytest.mark.parametrize(("score", "flagged"), [("NaN", 1), ("Infinity", 1), ("-Infinity", 1), ("10", 0), ("0", 0),
                                                ("10.5", 1)])
def test_a_nan_score_is_outside_the_scale(zetasql, score, flagged):  # noqa: F811
    # BigQuery's NaN compares FALSE with every number (DuckDB's and PostgreSQL's sorts above them),
    # so "score < 0 OR score > 10" alone would let a NaN nps answer through as a passive
    from csframe.core.contract import source
    from csframe.core.contract_checks import flagged_query, rules_for

    (rule,) = [r for r in rules_for(source("survey_responses")) if r.message.startswith("nps score outside")]
    scan = sqlglot.parse_one(f"SELECT 'nps' AS survey, CAST('{score}' AS DOUBLE) AS score")
    rows = zetasql.evaluate(bq(exp.select("bad_0").from_(flagged_query(scan, [rule]).subquery("f"))))
    assert [list(r) for r in rows] == [[flagged]]
