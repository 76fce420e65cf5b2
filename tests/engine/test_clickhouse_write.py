"""Write-back on ClickHouse (chdb): staging tables swapped in by EXCHANGE TABLES
(adapters/clickhouse_write.py). Run twice = the same table; a run of other periods adds its own
keys and leaves the others; a failure before the swap leaves the previous rows; a table of
another shape is refused before anything is computed."""

from __future__ import annotations

import datetime as dt

import pytest

from csframe.core.errors import MetricFailedError, UsageError
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session

pytest.importorskip("chdb", reason="the clickhouse adapter's tests need chdb (pip install 'csframe[clickhouse]')")

END = dt.date(2024, 7, 1)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    from csframe.adapters.clickhouse_init import test_namespace
    from csframe.plugins.demo import generate

    tmp = tmp_path_factory.mktemp("ch_write")
    settings, drop = test_namespace("write_" + tmp.name.replace("-", "_"), tmp, lambda name: None)
    data = generate(customers=30, months=12, end=END, seed=3)
    names = ("customers", "subscriptions")
    s = Session.open(project=Project(dir=tmp, adapter=settings,
                                     sources={n: SourceBinding(n, table=n) for n in names}), entry_points=False)
    s.adapter().connect(write=True)
    s.adapter().load_tables(type(data)(tuple(t for t in data.tables if t.name in names)))
    yield s
    s.close()
    drop()


def _table(s, name):
    return sorted(tuple(r[:7]) for r in s.adapter().execute(f'SELECT * FROM "{name}"'))


def test_a_rerun_leaves_the_same_table(session):
    session.compute(["mrr", "customers"], start="2024-01-01", end=END, target="wb_rerun")
    first = _table(session, "wb_rerun")
    # 2 metrics × 6 months (January to June 2024), no dimensions
    assert len(first) == 12 and {r[5] for r in first} == {"{}"}
    session.compute(["mrr", "customers"], start="2024-01-01", end=END, target="wb_rerun")
    assert _table(session, "wb_rerun") == first


def test_a_run_of_other_periods_keeps_the_rows_of_the_first(session):
    session.compute(["mrr"], start="2024-01-01", end="2024-04-01", target="wb_overlap")  # Jan, Feb, Mar
    session.compute(["mrr"], start="2024-03-01", end=END, target="wb_overlap")  # Mar (replaced) .. Jun
    rows = _table(session, "wb_overlap")
    assert [r[3] for r in rows] == [dt.date(2024, m, 1) for m in range(1, 7)]  # six months, March once


def test_a_failure_before_the_swap_leaves_the_previous_rows(session, monkeypatch):
    session.compute(["mrr"], start="2024-01-01", end=END, target="wb_fail")
    before = _table(session, "wb_fail")
    client_type = type(session.adapter()._require())
    original = client_type.command

    def failing(self, sql, settings=None):
        if sql.startswith("EXCHANGE TABLES"):
            raise __import__("csframe.adapters.clickhouse_client", fromlist=["x"]).ClickHouseError("killed")
        return original(self, sql, settings)

    monkeypatch.setattr(client_type, "command", failing)
    with pytest.raises(MetricFailedError, match="could not write wb_fail"):
        session.compute(["mrr", "customers"], start="2024-01-01", end=END, target="wb_fail")
    monkeypatch.undo()
    assert _table(session, "wb_fail") == before
    left = session.adapter().execute("SELECT name FROM system.tables WHERE database = currentDatabase() "
                                     "AND name LIKE 'wb_fail__csframe_%'")
    assert left == []  # the staging tables were dropped


def test_a_table_of_another_shape_is_refused_before_anything_is_computed(session):
    session.adapter().run('CREATE TABLE "wb_shape" (metric String) ENGINE = MergeTree ORDER BY tuple()', "setup")
    with pytest.raises(UsageError, match="not a csframe result table"):
        session.compute(["mrr"], start="2024-01-01", end=END, target="wb_shape")
