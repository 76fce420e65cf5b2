"""Values of another type than the data contract's, on DuckDB, PostgreSQL, BigQuery (emulated) and Spark.

data-contract.md "Bad data": text timestamps with a UTC offset are converted to UTC honouring the
offset, text without one is UTC; a time-zoned timestamp is read as its UTC instant; a value that
does not convert (text in a number, NaN or ±infinity in money, a number where a timestamp
belongs) is bad data — reported by source, column and sample keys, left out by ``--lenient``.
Every expected number is worked out by hand in the test's docstring.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest

from csframe.core.dataset import Column, Dataset, Table
from csframe.core.errors import DataContractError
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from tests.support.bigquery_emulator import PROJECT, bq_emulator  # noqa: F401 - the fixture

ENGINES = ("duckdb", "postgres", "bigquery", "clickhouse", "spark")
JAN, FEB, MAR = "2024-01-01", "2024-02-01", "2024-03-01"
SUB_COLUMNS = ("subscription_id", "customer_id", "started_at", "ended_at", "mrr")


@pytest.fixture(params=ENGINES)
def open_tables(request, tmp_path):
    """open_tables(*tables) -> a Session over ``tables`` loaded on the engine (types as given)."""
    engine = request.param
    sessions, cleanups = [], []

    def open_(*tables: Table) -> Session:
        if engine == "duckdb":
            adapter = {"name": "duckdb", "database": str(tmp_path / f"{len(sessions)}.duckdb")}
        elif engine == "postgres":
            from tests.support.postgres import fresh_schema

            dsn = request.getfixturevalue("pg_dsn")
            schema, drop = fresh_schema(dsn)
            cleanups.append(drop)
            adapter = {"name": "postgres", "dsn": dsn, "schema": schema}
        elif engine == "clickhouse":
            pytest.importorskip("chdb", reason="the clickhouse adapter's tests need chdb")
            from csframe.adapters.clickhouse_init import test_namespace

            adapter, drop = test_namespace("conv_" + uuid.uuid4().hex[:10], tmp_path, lambda name: None)
            cleanups.append(drop)
        elif engine == "spark":
            pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'csframe[spark]')")
            adapter = {"name": "spark", "warehouse": str(tmp_path / "spark-warehouse"),
                       "database": "conv_" + uuid.uuid4().hex[:10]}
        else:
            emulator = request.getfixturevalue("bq_emulator")
            adapter = {"name": "bigquery", "project": PROJECT, "dataset": "conv_" + uuid.uuid4().hex[:10],
                       "api_endpoint": emulator.endpoint}
        bindings = {t.name: SourceBinding(t.name, table=t.name) for t in tables}
        s = Session.open(project=Project(dir=tmp_path, adapter=adapter, sources=bindings), entry_points=False)
        sessions.append(s)
        s.adapter().connect(write=True)
        s.adapter().load_tables(Dataset(tables))
        return s

    open_.engine = engine
    yield open_
    for s in sessions:
        s.close()
    for drop in cleanups:
        drop()


def _table(name: str, columns: dict[str, str], rows: list[tuple]) -> Table:
    return Table(name, tuple(Column(c, t) for c, t in columns.items()), rows)


def _values(result) -> dict[tuple[str, str], float | None]:
    """{(metric, period_start): value}."""
    return {(r[0], r[2].isoformat()): r[4] for r in result.rows}


def _problems(error: DataContractError) -> dict[tuple[str, str], tuple[int, tuple[str, ...], str]]:
    return {(p.source, p.column): (p.rows, p.sample, p.message) for p in error.problems}


def test_text_timestamps_with_a_utc_offset_are_converted_to_utc(open_tables):
    """Timestamps and mrr stored as text, around the January/February boundary (M(p.end),
    E = customers active at p.end):

    - s1 starts 2024-01-31 22:00-05:00 = 2024-02-01 03:00 UTC: not yet active at Feb 1 00:00;
    - s2 starts 2024-02-01 03:00+05:30 = 2024-01-31 21:30 UTC: active at Feb 1;
    - s3 runs from 2024-01-15 10:00Z to 2024-02-01 02:00+03:00 = 2024-01-31 23:00 UTC: ended by Feb 1;
    - s4 starts 2024-01-10 00:00 (no offset: UTC).
    January: mrr 50 + 7 = 57, customers 2 (c2, c4). February (Mar 1): 100 + 50 + 7 = 157, customers 3.
    With the offsets dropped January would be 100 + 20 + 7 = 127 and 3 customers."""
    text = {c: "VARCHAR" for c in SUB_COLUMNS}
    s = open_tables(_table("subscriptions", text, [
        ("s1", "c1", "2024-01-31 22:00:00-05:00", None, "100"),
        ("s2", "c2", "2024-02-01 03:00:00+05:30", None, "50"),
        ("s3", "c3", "2024-01-15T10:00:00Z", "2024-02-01 02:00:00+03:00", "20"),
        ("s4", "c4", "2024-01-10 00:00:00", None, "7.00"),
    ]))
    result = s.compute(["mrr", "customers"], start=JAN, end=MAR)
    assert _values(result) == {("mrr", JAN): 57, ("mrr", FEB): 157, ("customers", JAN): 2, ("customers", FEB): 3}
    assert result.warnings == ()


def test_zoned_timestamps_are_read_as_their_utc_instant(open_tables):
    """A time-zoned column (timestamptz / TIMESTAMPTZ / BigQuery TIMESTAMP): s1 starts at
    2024-02-01 03:00 UTC (Jan 31 22:00 in New York), s2 at 2024-01-31 21:30 UTC (Feb 1 03:00 in
    Kolkata). January (at Feb 1 00:00 UTC): s2 only, mrr 50, 1 customer; February: 150, 2.
    The same query gives the same numbers when the session's time zone is not UTC (read as
    Kolkata time, s2 would start Feb 1 03:00 and January would be 0)."""
    s = open_tables(_table("subscriptions", {"subscription_id": "VARCHAR", "customer_id": "VARCHAR",
                                             "started_at": "TIMESTAMPTZ", "ended_at": "TIMESTAMPTZ",
                                             "mrr": "DECIMAL(18, 2)"}, [
        ("s1", "c1", dt.datetime(2024, 1, 31, 22, tzinfo=dt.timezone(dt.timedelta(hours=-5))), None, 100),
        ("s2", "c2", dt.datetime(2024, 2, 1, 3, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))), None, 50),
    ]))
    expected = {("mrr", JAN): 50, ("mrr", FEB): 150, ("customers", JAN): 1, ("customers", FEB): 2}
    result = s.compute(["mrr", "customers"], start=JAN, end=MAR)
    assert _values(result) == expected
    adapter = s.adapter()
    if open_tables.engine == "duckdb":
        adapter.con.execute("SET TimeZone = 'Asia/Kolkata'")
    elif open_tables.engine == "postgres":
        adapter.con.execute("SET TIME ZONE 'Asia/Kolkata'")
    elif open_tables.engine == "spark":
        return  # the adapter sets its session's time zone to UTC at every connect (docs/spark.md)
    else:
        return  # BigQuery has no session time zone: a TIMESTAMP is an instant, converted in UTC
    rows = adapter.execute(result.sql)
    assert {(r[0], r[2].isoformat()): r[4] for r in rows} == expected


def test_text_in_mrr_is_bad_data(open_tables):
    """mrr as text: 'abc' (s3) is no number, '1e400' (s4) none an amount can hold. Lenient leaves
    them out: January mrr 10 + 2.5 = 12.5, customers 2, and says it left out 2 rows."""
    s = open_tables(_table("subscriptions", {"subscription_id": "VARCHAR", "customer_id": "VARCHAR",
                                             "started_at": "TIMESTAMP", "ended_at": "TIMESTAMP", "mrr": "VARCHAR"}, [
        ("s1", "c1", dt.datetime(2024, 1, 1), None, "10"),
        ("s2", "c2", dt.datetime(2024, 1, 1), None, "2.5"),
        ("s3", "c3", dt.datetime(2024, 1, 1), None, "abc"),
        ("s4", "c4", dt.datetime(2024, 1, 1), None, "1e400"),
    ]))
    with pytest.raises(DataContractError) as e:
        s.compute(["mrr", "customers"], start=JAN, end=FEB)
    problems = _problems(e.value)
    assert list(problems) == [("subscriptions", "mrr")]  # once: not also as a NULL mrr
    rows, sample, message = problems["subscriptions", "mrr"]
    assert rows == 2 and [k[:4] for k in sample] == ["(s3,", "(s4,"] and "text that is not a number" in message
    result = s.compute(["mrr", "customers"], start=JAN, end=FEB, lenient=True)
    assert _values(result) == {("mrr", JAN): 12.5, ("customers", JAN): 2}
    assert result.warnings == ("warning: left out 2 row(s) of subscriptions: " + message,)


def test_nan_and_infinity_in_money_are_bad_data(open_tables):
    """invoices.amount as a float: NaN (i2), +∞ (i3) and −∞ (i4) are no amount. Lenient: arpu
    (invoiced) of January = (10 + 2.5) / 1 active customer = 12.5, 3 rows left out."""
    s = open_tables(
        _table("subscriptions", {c: t for c, t in zip(SUB_COLUMNS, ("VARCHAR", "VARCHAR", "TIMESTAMP", "TIMESTAMP",
                                                                   "DECIMAL(18, 2)"))},
               [("s1", "c1", dt.datetime(2023, 12, 1), None, 10)]),
        _table("invoices", {"invoice_id": "VARCHAR", "customer_id": "VARCHAR", "paid_at": "TIMESTAMP",
                            "amount": "DOUBLE"}, [
            ("i1", "c1", dt.datetime(2024, 1, 5), 10.0),
            ("i2", "c1", dt.datetime(2024, 1, 6), math.nan),
            ("i3", "c1", dt.datetime(2024, 1, 7), math.inf),
            ("i4", "c1", dt.datetime(2024, 1, 8), -math.inf),
            ("i5", "c1", dt.datetime(2024, 1, 9), 2.5),
        ]))
    with pytest.raises(DataContractError) as e:
        s.compute(["arpu:invoiced"], start=JAN, end=FEB)
    problems = _problems(e.value)
    assert list(problems) == [("invoices", "amount")]
    rows, sample, message = problems["invoices", "amount"]
    assert (rows, sample) == (3, ("i2", "i3", "i4")) and "NaN, ±infinity" in message
    result = s.compute(["arpu:invoiced"], start=JAN, end=FEB, lenient=True)
    assert _values(result) == {("arpu", JAN): 12.5}
    assert result.warnings == ("warning: left out 3 row(s) of invoices: " + message,)


def test_a_number_where_a_timestamp_belongs_is_bad_data(open_tables):
    """subscriptions.ended_at as BIGINT (epoch seconds): s2's 1706745600 is no timestamp; s1's
    NULL (still running) is fine. Lenient leaves s2 out: January mrr 10, 1 customer."""
    s = open_tables(_table("subscriptions", {"subscription_id": "VARCHAR", "customer_id": "VARCHAR",
                                             "started_at": "TIMESTAMP", "ended_at": "BIGINT", "mrr": "DECIMAL(18, 2)"}, [
        ("s1", "c1", dt.datetime(2024, 1, 1), None, 10),
        ("s2", "c2", dt.datetime(2024, 1, 1), 1706745600, 5),
    ]))
    with pytest.raises(DataContractError) as e:
        s.compute(["mrr", "customers"], start=JAN, end=FEB)
    problems = _problems(e.value)
    assert list(problems) == [("subscriptions", "ended_at")]
    rows, sample, message = problems["subscriptions", "ended_at"]
    assert rows == 1 and sample[0].startswith("(s2, ") and "where the contract wants a timestamp" in message
    result = s.compute(["mrr", "customers"], start=JAN, end=FEB, lenient=True)
    assert _values(result) == {("mrr", JAN): 10, ("customers", JAN): 1}
    assert result.warnings == ("warning: left out 1 row(s) of subscriptions: " + message,)


def test_text_in_a_survey_score_is_bad_data(open_tables):
    """survey_responses.score as text: 'great' (r4) is no number. Lenient: nps of January over
    r1 10, r2 9 (promoters) and r3 3 (detractor) = 100 × (2 − 1) / 3 = 33.33…, 1 row left out."""
    s = open_tables(_table("survey_responses", {"response_id": "VARCHAR", "customer_id": "VARCHAR",
                                                "survey": "VARCHAR", "score": "VARCHAR", "responded_at": "TIMESTAMP"}, [
        ("r1", "c1", "nps", "10", dt.datetime(2024, 1, 3)),
        ("r2", "c2", "nps", "9", dt.datetime(2024, 1, 4)),
        ("r3", "c3", "nps", "3", dt.datetime(2024, 1, 5)),
        ("r4", "c4", "nps", "great", dt.datetime(2024, 1, 6)),
    ]))
    with pytest.raises(DataContractError) as e:
        s.compute(["nps"], start=JAN, end=FEB)
    problems = _problems(e.value)
    assert list(problems) == [("survey_responses", "score")]  # not also as outside the scale
    rows, sample, message = problems["survey_responses", "score"]
    assert (rows, sample) == (1, ("r4",)) and "text that is not a number" in message
    result = s.compute(["nps"], start=JAN, end=FEB, lenient=True)
    assert _values(result) == {("nps", JAN): pytest.approx(100 / 3, rel=1e-12)}
    assert result.warnings == ("warning: left out 1 row(s) of survey_responses: " + message,)


def test_text_that_is_not_a_timestamp_is_bad_data(open_tables):
    """started_at as text: 'soon' (s2), '2024-13-01' (s3, no 13th month) and '2024-02-30' (s4) are
    no timestamp; s1's '2024-01-05T08:00:00+01:00' is. Lenient: January mrr 10, 1 customer, 3 rows
    left out."""
    s = open_tables(_table("subscriptions", {"subscription_id": "VARCHAR", "customer_id": "VARCHAR",
                                             "started_at": "VARCHAR", "ended_at": "TIMESTAMP", "mrr": "DECIMAL(18, 2)"}, [
        ("s1", "c1", "2024-01-05T08:00:00+01:00", None, 10),
        ("s2", "c2", "soon", None, 5),
        ("s3", "c3", "2024-13-01", None, 7),
        ("s4", "c4", "2024-02-30", None, 3),
    ]))
    with pytest.raises(DataContractError) as e:
        s.compute(["mrr", "customers"], start=JAN, end=FEB)
    problems = _problems(e.value)
    assert list(problems) == [("subscriptions", "started_at")]  # not also as NULL, nor as duplicate keys
    rows, sample, message = problems["subscriptions", "started_at"]
    assert (rows, sample) == (3, ("(s2, soon)", "(s3, 2024-13-01)", "(s4, 2024-02-30)")) and "not a timestamp" in message
    result = s.compute(["mrr", "customers"], start=JAN, end=FEB, lenient=True)
    assert _values(result) == {("mrr", JAN): 10, ("customers", JAN): 1}
    assert result.warnings == ("warning: left out 3 row(s) of subscriptions: " + message,)
