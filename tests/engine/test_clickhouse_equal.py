"""One definition, the same numbers on DuckDB and ClickHouse (chdb, in this process): what the
adapter conformance suite does not run (tests/engine/test_conformance.py runs the whole catalog,
the splits, the bad data, write-back and user strings on ClickHouse).

issue 13's Time options on the conformance suite's data (the demo generator's: 120 customers over
30 months), row for row at relative 1e-9 with NULL = NULL, as tests/engine/test_engines_equal.py
does on PostgreSQL and BigQuery — a few of its cases, each a whole-catalog run or the cohort
metrics: a calendar in New York (the 23-hour day, fiscal quarters from April), --by cohort,
previous() and --vs, trailing windows (--window); then the window metrics at the window's edge by
hand-counted values, and a column's name read as the column, never as an alias of its SELECT.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from csframe.plugins.demo import SOURCES
from csframe.testing.conformance import DEMO
from tests.engine.test_engines_equal import (
    CALENDAR, COHORT_METRICS, EDGE_CUSTOMERS, EDGE_EVENTS, END, FEB, JAN, _all_keys, _same)

pytest.importorskip("chdb", reason="the clickhouse adapter's tests need chdb (pip install 'csframe[clickhouse]')")


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    from csframe.adapters.clickhouse_init import test_namespace
    from csframe.plugins.demo import generate

    dataset = generate(**DEMO)
    tmp = tmp_path_factory.mktemp("ch_engines")
    settings, drop = test_namespace("equal_" + tmp.name.replace("-", "_"), tmp, lambda name: None)
    bindings = {s: SourceBinding(s, table=s) for s in SOURCES}
    out = {}
    for engine, adapter in {"duckdb": {"name": "duckdb", "database": "engines.duckdb"}, "clickhouse": settings}.items():
        s = out[engine] = Session.open(project=Project(dir=tmp, adapter=adapter, sources=bindings), entry_points=False)
        s.adapter().connect(write=True)
        s.adapter().load_tables(dataset)
    yield out
    for s in out.values():
        s.close()
    drop()


def _agree(sessions, keys, numbers=1, **kwargs):
    """DuckDB's result, after checking ClickHouse's equals it row for row (the last ``numbers``
    columns compared as numbers)."""
    kwargs.setdefault("end", END)
    a = sessions["duckdb"].compute(keys, **kwargs)
    b = sessions["clickhouse"].compute(keys, **kwargs)
    assert a.columns == b.columns
    assert a.warnings == b.warnings  # e.g. how many customers time_to_value leaves out
    assert len(a.rows) == len(b.rows) > 0
    diffs = [(ra, rb) for ra, rb in zip(a.rows, b.rows)
             if ra[:-numbers] != rb[:-numbers] or not all(_same(x, y) for x, y in zip(ra[-numbers:], rb[-numbers:]))]
    assert not diffs, f"clickhouse: {len(diffs)} rows differ from duckdb, e.g. {diffs[:3]}"
    assert any(r[-1] not in (None, 0) for r in a.rows)  # the data is not trivial
    return a


REVENUE = ["customers", "new_customers", "churned_customers", "mrr", "churn_rate", "net_new_mrr", "expansion_mrr",
           "reactivated_customers"]


@pytest.mark.parametrize("grain,start,end,metrics", [
    ("day", "2024-03-08", "2024-03-13", None),  # the 23-hour day of 2024-03-10: every metric and variant
    ("quarter", "2023-04-01", "2025-01-01", REVENUE),  # fiscal quarters from April: the revenue movements
])
def test_clickhouse_agrees_in_a_calendar(sessions, grain, start, end, metrics):
    """New York's calendar (weeks from Sunday, fiscal year from April)."""
    opened = {e: Session.open(project=attrs.evolve(s.project, calendar=CALENDAR), entry_points=False)
              for e, s in sessions.items()}
    try:
        _agree(opened, metrics or _all_keys(opened["duckdb"], ()), grain=grain, start=start, end=end)
    finally:
        for s in opened.values():
            s.close()


@pytest.mark.parametrize("by,grain,start,vs", [
    (("cohort", "segment"), "quarter", "2023-07-01", None),
    (("cohort",), "week", "2024-10-01", "previous"),
    (("segment",), "week", "2024-09-01", "year"),
    ((), "day", "2024-12-01", "previous"),
])
def test_clickhouse_agrees_on_cohorts_and_comparisons(sessions, by, grain, start, vs):
    keys = [m for m in COHORT_METRICS if "cohort" in by or m not in COHORT_METRICS[:4]]
    a = _agree(sessions, keys, numbers=3 if vs else 1, grain=grain, start=start, by=by, vs=vs)
    if "cohort" in by:
        i = a.columns.index("cohort")
        assert len({r[i] for r in a.rows}) >= 3


@pytest.mark.parametrize("grain,window,start,by,metrics", [
    ("day", "30d", "2024-12-10", (), None),  # every metric and variant
    ("month", "3m", "2024-01-01", ("segment",), REVENUE + ["active_users"]),
])
def test_clickhouse_agrees_on_windows(sessions, grain, window, start, by, metrics):
    a = _agree(sessions, metrics or _all_keys(sessions["duckdb"], by), grain=grain, start=start, by=by, window=window)
    values = {r[0] for r in a.rows if r[-1]}
    for metric in ("churned_customers", "expansion_mrr", "new_customers", "reactivated_customers", "active_users"):
        assert metric in values, f"{metric} is 0 or NULL everywhere: the fixture proves nothing for it"


def test_a_column_name_is_the_column_not_an_alias_of_its_select(sessions):
    # standard SQL: n is the source's 5 everywhere, so n * 2 = 10 and n + 1 = 6 (ClickHouse without
    # prefer_column_name_to_alias gives 11: n read as the alias n * 2); SUM(n) over 5 and 0 is 5,
    # and the count of n > 0 is 1 (refused as an aggregate inside an aggregate without it)
    adapter = sessions["clickhouse"].adapter()
    assert adapter.execute("SELECT n * 2 AS n, n + 1 AS m FROM (SELECT 5 AS n)") == [(10, 6)]
    assert adapter.execute("SELECT SUM(n) AS n, SUM(CASE WHEN n > 0 THEN 1 ELSE 0 END) AS m "
                           "FROM (SELECT 5 AS n UNION ALL SELECT 0)") == [(5, 1)]


# the window's edge, the rows and hand counts of tests/engine/test_engines_equal.py:
# January, window 30 d: activated a, c, e → 3 of 6; onboarded b, c → 2 of 6.
# February, window 30 d: g and h → 2 of 2; window 1 d: g → 1 of 2.
@pytest.fixture(scope="module")
def edge_session(tmp_path_factory):
    from csframe.adapters.clickhouse_init import test_namespace
    from csframe.core.dataset import Column, Dataset, Table

    customers = Table("customers", (Column("customer_id", "VARCHAR"), Column("created_at", "TIMESTAMP")),
                      list(EDGE_CUSTOMERS.items()))
    events = Table("events", tuple(Column(n, t) for n, t in (("user_id", "VARCHAR"), ("customer_id", "VARCHAR"),
                                                           ("name", "VARCHAR"), ("occurred_at", "TIMESTAMP"))),
                   [(f"u_{c}", c, name, EDGE_CUSTOMERS[c] + dt.timedelta(microseconds=us)) for c, name, us in EDGE_EVENTS])
    tmp = tmp_path_factory.mktemp("ch_edge")
    settings, drop = test_namespace("edge_" + tmp.name.replace("-", "_"), tmp, lambda name: None)
    bindings = {s: SourceBinding(s, table=s) for s in ("customers", "events")}
    s = Session.open(project=Project(dir=tmp, adapter=settings, sources=bindings), entry_points=False)
    s.adapter().connect(write=True)
    s.adapter().load_tables(Dataset((customers, events)))
    yield s
    s.close()
    drop()


@pytest.mark.parametrize("metric,by,params,expected", [
    ("activation_rate", (), None, {(JAN,): 3 / 6, (FEB,): 2 / 2}),
    ("activation_rate", (), {"window_days": 1}, {(FEB,): 1 / 2}),
    ("onboarding_completion_rate", ("step",), {"onboarding_steps": ("activated", "onboarding_completed")},
     {(JAN, "activated"): 3 / 6, (JAN, "onboarding_completed"): 2 / 6,
      (FEB, "activated"): 2 / 2, (FEB, "onboarding_completed"): 0 / 2}),
], ids=["activation", "activation-window-1d", "onboarding-by-step"])
def test_an_event_exactly_window_days_after_created_at_counts_on_clickhouse(edge_session, metric, by, params, expected):
    r = edge_session.compute([metric], start="2024-01-01", end="2024-03-01", by=by, params=params)
    got = {(row[2], *row[4:-1]): row[-1] for row in r.rows}
    for key, value in expected.items():
        assert got.get(key) == pytest.approx(value, rel=1e-12), f"{metric} {key}: {got}"
