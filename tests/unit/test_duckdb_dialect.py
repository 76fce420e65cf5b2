"""DuckDB's one rewrite (adapters/duckdb_dialect.py): a month, quarter or year bucket as
MAKE_DATE(YEAR(x), first month, 1) instead of CAST(DATE_TRUNC(unit, x) AS DATE). Both forms
are run on DuckDB over instants at and around period boundaries and compared with the first
day of the period worked out in Python."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from csframe.adapters.duckdb_dialect import month_dates

INSTANTS = [
    dt.datetime(2024, 2, 29, 23, 59, 59, 999999), dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 31, 12),
    dt.datetime(2024, 6, 30, 23, 59, 59, 999999), dt.datetime(2024, 7, 1), dt.datetime(2024, 9, 30, 23, 59, 59),
    dt.datetime(2024, 10, 1), dt.datetime(2024, 12, 31, 23, 59, 59, 999999), dt.datetime(2025, 1, 1),
    dt.datetime(1970, 1, 1), dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59),
    *[dt.datetime(2023, m, 15, 8, 30) for m in range(1, 13)],
]
FIRST_MONTH = {"MONTH": lambda m: m, "QUARTER": lambda m: (m - 1) // 3 * 3 + 1, "YEAR": lambda m: 1}


def bucket(unit: str, x: exp.Expression) -> exp.Expression:
    return exp.cast(exp.DateTrunc(this=x, unit=exp.Var(this=unit)), "DATE")


@pytest.mark.parametrize("unit", ["MONTH", "QUARTER", "YEAR"])
@pytest.mark.parametrize("kind", ["TIMESTAMP", "DATE"])
def test_the_rewrite_gives_the_first_day_of_the_period(unit, kind):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    x = exp.cast(exp.column("x"), kind)
    plain, fast = bucket(unit, x), month_dates(bucket(unit, x.copy()))
    assert fast.sql("duckdb").startswith("MAKE_DATE(")
    values = [*INSTANTS, None]
    rows = con.execute(f"SELECT x, {plain.sql('duckdb')}, {fast.sql('duckdb')} FROM UNNEST(?) AS t(x)",
                       [values]).fetchall()
    assert len(rows) == len(values)
    for when, by_trunc, by_parts in rows:
        want = None if when is None else dt.date(when.year, FIRST_MONTH[unit](when.month), 1)
        assert by_trunc == want and by_parts == want, (unit, kind, when)


def test_weeks_days_and_user_sql_are_left_alone():
    tree = sqlglot.parse_one("SELECT CAST(DATE_TRUNC('WEEK', t) AS DATE), CAST(t AS DATE), "
                             "CAST(DATE_TRUNC('MONTH', t) AS DATE) FROM (SELECT 1) AS u", read="duckdb")
    user = tree.args["from_"].this.this
    user_sql = sqlglot.parse_one("SELECT CAST(DATE_TRUNC('MONTH', t) AS DATE) AS m")
    user_sql.meta["user_sql"] = True
    user.replace(user_sql)
    out = month_dates(tree).sql("duckdb")
    assert out.count("DATE_TRUNC('WEEK', t)") == 1 and out.count("CAST(t AS DATE)") == 1
    assert out.count("MAKE_DATE(YEAR(t), MONTH(t), 1)") == 1  # the month bucket of csframe's own SQL
    assert out.count("DATE_TRUNC('MONTH', t)") == 1  # the user's, as written
