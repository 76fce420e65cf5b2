"""The BigQuery adapter runs the metrics query from csframe's tree (``execute_tree``): its value
literals become ``@p`` parameters in the tree and it is rendered once, never parsed. What it
sends is what parameterizing the rendered SQL sends (the same tokens but for the layout, which
follows the width of what stands in the text; the same parameters), for every metric of the
catalog at several grains, with and without ``--by``."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import sqlglot
from sqlglot import exp

from csframe.adapters import bigquery as bq
from csframe.adapters.bigquery import BigQueryAdapter, parameterize, parse_query
from csframe.adapters.bigquery_tree_params import parameterize_tree
from csframe.core.contract import SOURCES
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session


@pytest.fixture(scope="module")
def session():
    project = Project(dir=".", adapter={"name": "bigquery", "project": "p", "dataset": "d"},
                      sources={s.name: SourceBinding(s.name, table=s.name) for s in SOURCES})
    return Session.open(project=project, entry_points=False)


def _plan(s, grain="month", by=()):
    keys = [k for k in s.all_keys()[0]
            if set(s.graph.needs_by(k)) <= set(by) and not (by and s.graph.unsplittable_sources(k))]
    return s.plan(s.request(keys, start="2024-01-01", end="2025-01-01", grain=grain, by=by))


def _tokens(sql: str) -> list[tuple]:
    return [(t.token_type, t.text) for t in sqlglot.tokenize(sql, read="bigquery")]


def _no_parse(*args, **kwargs):
    raise AssertionError("the SQL was parsed again")


@pytest.mark.parametrize("grain, by", [("month", ()), ("day", ()), ("quarter", ("segment",)), ("year", ("cohort",))])
def test_the_tree_gives_the_texts_parameters_without_a_parse(session, grain, by, monkeypatch):
    plan = _plan(session, grain, by)
    _, sql = session.compile(plan, "bigquery")
    text, params = parameterize(sql)
    assert len(params) >= 15 and "'2025-01-01'" not in text  # real parameters to compare
    monkeypatch.setattr(bq, "parse_query", _no_parse)
    monkeypatch.setattr(sqlglot, "parse", _no_parse)
    monkeypatch.setattr(sqlglot, "parse_one", _no_parse)
    got = parameterize_tree(session.query_tree(plan, "bigquery"))
    monkeypatch.undo()
    assert got is not None
    assert got[1] == params  # names, types and values, in the order of the text
    assert _tokens(got[0]) == _tokens(text)


def test_the_dialects_constant_stays_a_literal_in_the_tree(session):
    """The 1000000 of CAST(UNIX_MICROS(…) AS NUMERIC) / 1000000 (csframe's tree spells UNIX_MICROS
    as an anonymous function, the parse as exp.UnixMicros): as an INT64 parameter the emulator
    computes the seconds in FLOAT64."""
    text, params = parameterize_tree(session.query_tree(_plan(session), "bigquery"))
    assert "AS NUMERIC) / 1000000" in text and ("INT64", 1000000) not in [(t, v) for _, t, v in params]


def test_values_are_numbered_in_the_order_of_the_text_and_shared():
    tree = sqlglot.parse_one("SELECT 'b' AS x, -5 AS y, 'a' AS z, 'b' AS w, DATE_TRUNC(d, MONTH) AS m, "
                             "2.5 AS f FROM t LIMIT 10", read="bigquery")
    tree.find(exp.Neg).replace(exp.Literal.number(-5))  # csframe writes a negative number as one literal
    text, params = parameterize_tree(tree, taken=("p1",))
    assert text == ("SELECT\n  @p0 AS x,\n  -@p2 AS y,\n  @p3 AS z,\n  @p0 AS w,\n  DATE_TRUNC(d, MONTH) AS m,\n"
                    "  @p4 AS f\nFROM t\nLIMIT 10")
    assert params == [("p0", "STRING", "b"), ("p2", "INT64", 5), ("p3", "STRING", "a"), ("p4", "FLOAT64", 2.5)]


def test_a_mark_the_text_does_not_hold_once_gives_the_tree_back_as_it_was():
    """A query that already holds the mark's name (here a parameter of its own): None, the tree unchanged."""
    sql = "SELECT @csframe_value_0 AS x, 'a' AS y"
    tree = sqlglot.parse_one(sql, read="bigquery")
    before = tree.sql("bigquery")
    assert parameterize_tree(tree) is None
    assert tree.sql("bigquery") == before


class _Client:
    """What the adapter asks of google-cloud-bigquery's client to run a query: the text and config sent."""

    def __init__(self):
        self.sent = []

    def query(self, text, job_config=None, location=None):
        self.sent.append((text, job_config))
        row = SimpleNamespace(values=lambda: (dt.date(2024, 1, 1), 1))
        return SimpleNamespace(result=lambda timeout=None: [row])


def _adapter(**settings):
    adapter = BigQueryAdapter({"name": "bigquery", "project": "p", "dataset": "d", **settings}, project_dir=".")
    adapter.client = _Client()
    return adapter


def test_execute_tree_sends_the_tree_parameterized_without_a_parse(session, monkeypatch):
    plan = _plan(session)
    _, sql = session.compile(plan, "bigquery")
    want_text, want_params = parameterize(sql)
    adapter = _adapter()
    tree = session.query_tree(plan, "bigquery")
    monkeypatch.setattr(bq, "parse_query", _no_parse)
    monkeypatch.setattr(sqlglot, "parse", _no_parse)
    assert adapter.execute_tree(tree) == [(dt.date(2024, 1, 1), 1)]
    monkeypatch.undo()
    [(text, config)] = adapter.client.sent
    assert _tokens(text) == _tokens(want_text)
    assert [(p.name, p.type_, p.value) for p in config.query_parameters] == want_params
    assert config.default_dataset.dataset_id == "d"


def test_execute_tree_without_parameters_sends_the_sql_compile_gives(session, monkeypatch):
    plan = _plan(session)
    _, sql = session.compile(plan, "bigquery")
    adapter = _adapter(query_parameters=False)
    monkeypatch.setattr(bq, "parse_query", _no_parse)
    adapter.execute_tree(session.query_tree(plan, "bigquery"))
    [(text, config)] = adapter.client.sent
    assert text == sql and not config.query_parameters


def test_execute_tree_falls_back_to_the_text_when_a_mark_is_lost():
    adapter = _adapter()
    adapter.execute_tree(sqlglot.parse_one("SELECT @csframe_value_0 AS x, 'a' AS y", read="bigquery"))
    [(text, config)] = adapter.client.sent
    assert text == "SELECT\n  @csframe_value_0 AS x,\n  @p0 AS y"
    assert [(p.name, p.type_, p.value) for p in config.query_parameters] == [("p0", "STRING", "a")]


def test_execute_tree_refuses_what_is_not_a_query():
    from csframe.core.errors import MetricFailedError

    adapter = _adapter()
    with pytest.raises(MetricFailedError, match="one query"):
        adapter.execute_tree(sqlglot.parse_one("DELETE FROM t WHERE TRUE", read="bigquery"))
    assert adapter.client.sent == []
