"""The ClickHouse adapter's tree rewrites (adapters/clickhouse_dialect.py), each with the SQL it
produces; no engine needed."""

from __future__ import annotations

import sqlglot

from csframe.adapters.clickhouse import ClickHouseAdapter
from csframe.adapters.clickhouse_dialect import plain_type
from csframe.adapters.clickhouse_io import column_type
from csframe.core.render import render


def _ch(neutral_sql: str) -> str:
    return render(sqlglot.parse_one(neutral_sql, read="duckdb"), ClickHouseAdapter, pretty=False)


def test_materialized_ctes_are_plain_ctes():
    assert _ch("WITH g AS MATERIALIZED (SELECT 1 AS x) SELECT x FROM g") == "WITH g AS (SELECT 1 AS x) SELECT x FROM g"


def test_a_qualified_column_keeps_its_own_name():
    # ClickHouse would name the column "t.grp"
    assert _ch("SELECT t.grp, t.x AS y, z FROM t") == "SELECT t.grp AS grp, t.x AS y, z FROM t"


def test_timestamps_are_microsecond_utc_and_dates_date32():
    assert _ch("SELECT CAST(a AS TIMESTAMP), TRY_CAST(b AS DATE)") == (
        "SELECT CAST(a AS DateTime64(6, 'UTC')), accurateCastOrNull(b, 'Date32')")


def test_epoch_seconds_is_microseconds_over_a_million():
    from sqlglot import exp

    tree = exp.select(exp.TimeToUnix(this=exp.column("t")))
    assert render(tree, ClickHouseAdapter, pretty=False) == (
        "SELECT (toUnixTimestamp64Micro(CAST(t AS DateTime64(6, 'UTC'))) / 1000000)")


def test_unnest_of_a_list_is_an_array_join():
    assert _ch("SELECT f FROM UNNEST(['a', 'b']) AS t(f)") == "SELECT f FROM (SELECT arrayJoin(['a', 'b']) AS f) AS t"


def test_the_period_spine_is_an_array_map_over_a_range():
    from sqlglot import exp

    arr = exp.GenerateDateArray(start=exp.cast(exp.Literal.string("2024-01-01"), "DATE"),
                                end=exp.cast(exp.Literal.string("2024-12-01"), "DATE"),
                                step=exp.Interval(this=exp.Literal.string("3"), unit=exp.Var(this="MONTH")))
    tree = exp.select("d").from_(exp.Unnest(expressions=[arr], alias=exp.TableAlias(
        this=exp.to_identifier("t"), columns=[exp.to_identifier("d")])))
    # four quarters: range(intDiv(11 months, 3) + 1) = 0, 1, 2, 3 → Jan, Apr, Jul, Oct
    assert render(tree, ClickHouseAdapter, pretty=False) == (
        "SELECT d FROM (SELECT arrayJoin(arrayMap(i -> DATE_ADD(MONTH, i * 3, CAST('2024-01-01' AS Date32)), "
        "range(toUInt64(intDiv(dateDiff('month', CAST('2024-01-01' AS Date32), CAST('2024-12-01' AS Date32)), 3)) + 1))) "
        "AS d) AS t")


def test_loaded_columns_are_nullable_and_timestamps_keep_microseconds():
    assert column_type("TIMESTAMP").sql("clickhouse") == "Nullable(DateTime64(6, 'UTC'))"
    assert column_type("DATE").sql("clickhouse") == "Nullable(Date32)"
    assert column_type("DECIMAL(18,2)").sql("clickhouse") == "Nullable(Decimal(18, 2))"


def test_engine_types_lose_their_wrappers():
    assert plain_type("LowCardinality(Nullable(String))") == "String"
    assert plain_type("Nullable(Date32)") == "Date"


def test_arithmetic_cast_to_a_decimal_is_rounded_as_duckdb_does():
    # DuckDB rounds a double to the decimal's scale, ClickHouse truncates
    assert _ch("SELECT CAST(a - b AS DECIMAL(38, 6)), CAST(c AS DECIMAL(38, 6))") == (
        "SELECT CAST(round(a - b, 6) AS Nullable(Decimal(38, 6))), CAST(c AS Nullable(Decimal(38, 6)))")


def test_try_cast_is_a_cast_or_null():
    assert _ch("SELECT TRY_CAST(a AS DECIMAL(38, 9)), TRY_CAST(b AS TIMESTAMPTZ)") == (
        "SELECT accurateCastOrNull(a, 'Decimal(38, 9)'), parseDateTime64BestEffortOrNull(toString(b), 6, 'UTC')")
