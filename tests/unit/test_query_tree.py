"""The metrics query reaches an adapter that has ``execute_tree`` as csframe's tree (after the
adapter's TRANSFORMS), so Spark and ClickHouse split its shared steps without parsing the SQL
csframe rendered: the pieces are the same as those split from the text."""

from __future__ import annotations

import datetime as dt

from types import SimpleNamespace

import pytest
import sqlglot

from csframe.adapters import clickhouse_run, spark_run
from csframe.core.contract import SOURCES
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from tests.support.projects import make_project

T = dt.datetime


def _all_plan():
    project = Project(dir=".", adapter={"name": "duckdb"}, sources={s.name: SourceBinding(s.name, table=s.name)
                                                                      for s in SOURCES})
    s = Session.open(project=project, entry_points=False)
    keys = [k for k in s.all_keys()[0] if not s.graph.needs_by(k)]  # as compute --all
    return s, s.plan(s.request(keys, start="2024-01-01", end="2025-01-01"))


@pytest.mark.parametrize("dialect, module", [("clickhouse", clickhouse_run), ("spark", spark_run)])
def test_the_tree_splits_as_its_sql_does_without_parsing(dialect, module, monkeypatch):
    s, plan = _all_plan()
    _, sql = s.compile(plan, dialect)
    tree = s.query_tree(plan, dialect)
    assert tree.sql(dialect, pretty=True) == sql  # the tree whose SQL compile gives
    from_text = module.split_query(sql, "p_")
    assert len(from_text[0]) >= 3  # the catalog's shared steps: this compares real splits

    def no_parse(*args, **kwargs):
        raise AssertionError("the tree was parsed again")

    monkeypatch.setattr(module, "sqlglot", SimpleNamespace(parse_one=no_parse))
    from_tree = module.split_query(tree, "p_")
    monkeypatch.undo()
    # the same statements; the text's went through one more parse and generation, which may spell a
    # function otherwise (ClickHouse: dateDiff('month', …) read back is written DATE_DIFF(MONTH, …))
    assert [name for name, _ in from_tree[0]] == [name for name, _ in from_text[0]]
    assert _spelt(from_tree, dialect) == _spelt(from_text, dialect)


def _spelt(split, dialect):
    """Each statement of a split as sqlglot writes it once read back."""
    return [sqlglot.parse_one(sql, read=dialect).sql(dialect) for sql in [*(body for _, body in split[0]), split[1]]]


def test_each_tree_is_a_copy_of_its_own():
    s, plan = _all_plan()
    first = s.query_tree(plan, "clickhouse")
    clickhouse_run.split_query(first, "p_")  # changes it in place
    again = s.query_tree(plan, "clickhouse")
    assert again is not first and again.sql("clickhouse", pretty=True) == s.compile(plan, "clickhouse")[1]


def test_the_run_gives_the_tree_to_an_adapter_that_takes_it(tmp_path, monkeypatch):
    """DuckDB given an ``execute_tree`` for this test: the run's metrics query goes there, as a
    tree (never as text), and its rows are the run's. mrr (M at each period's end) and customers
    (paying at the end): c1 100 from Jan 10, c2 50 from Feb 5 to Mar 15 → Jan 100/1, Feb 150/2, Mar 100/1."""
    from csframe.adapters.duckdb import DuckDBAdapter

    trees, texts = [], []
    real = DuckDBAdapter.execute

    def execute_tree(self, tree):
        trees.append(tree)
        return real(self, tree.sql(self.DIALECT))

    monkeypatch.setattr(DuckDBAdapter, "execute_tree", execute_tree, raising=False)
    monkeypatch.setattr(DuckDBAdapter, "execute", lambda self, sql: texts.append(sql) or real(self, sql))
    project = make_project(tmp_path / "p", {
        "customers": [{"customer_id": "c1", "created_at": T(2024, 1, 1)}, {"customer_id": "c2", "created_at": T(2024, 1, 1)}],
        "subscriptions": [
            {"subscription_id": "s1", "customer_id": "c1", "started_at": T(2024, 1, 10), "ended_at": None, "mrr": 100.0},
            {"subscription_id": "s2", "customer_id": "c2", "started_at": T(2024, 2, 5), "ended_at": T(2024, 3, 15),
             "mrr": 50.0}],
    })
    with Session.open(project) as s:
        result = s.compute(["mrr", "customers"], start="2024-01-01", end="2024-04-01")
    assert len(trees) == 1 and result.sql not in texts
    values = {(r[0], str(r[2])[:10]): r[-1] for r in result.rows}
    assert values == {("mrr", "2024-01-01"): 100, ("mrr", "2024-02-01"): 150, ("mrr", "2024-03-01"): 100,
                      ("customers", "2024-01-01"): 1, ("customers", "2024-02-01"): 2, ("customers", "2024-03-01"): 1}
