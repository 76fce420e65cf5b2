"""A session keeps the last plan's query: an equal plan compiles nothing, another one does."""

from __future__ import annotations

from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session


def _session():
    project = Project(dir=".", adapter={"name": "duckdb"},
                      sources={n: SourceBinding(n, table=n) for n in ("customers", "subscriptions")})
    return Session.open(project=project, entry_points=False)


def _plan(s, params=None, by=()):
    return s.plan(s.request(s.keys(["mrr", "churn_rate"]), start="2024-01-01", end="2024-04-01", by=by), params)


def test_an_equal_plan_is_compiled_once_and_rendered_once_per_dialect():
    s = _session()
    first, sql = s.compile(_plan(s))
    again, sql_again = s.compile(_plan(s))  # a new Plan object, equal to the first
    assert again is first and sql_again is sql
    _, bq = s.compile(_plan(s), dialect="bigquery")
    assert bq != sql
    assert s.compile(_plan(s))[1] is sql
    s.forget_compiled()  # what the benchmark does before timing a compile
    assert s.compile(_plan(s))[0] is not first


def test_another_plan_or_other_absent_columns_compile_again():
    s = _session()
    first, plain = s.compile(_plan(s))
    by_segment, _ = s.compile(_plan(s, by=("segment",)))
    assert by_segment is not first and by_segment.plan.by == ("segment",)
    absent, sql = s.compile(_plan(s), absent={"subscriptions": {"is_trial"}})
    assert absent is not by_segment and sql != plain  # is_trial read as its default, false
    assert s.compile(_plan(s), absent={"subscriptions": {"is_trial"}})[0] is absent


def test_rendering_leaves_the_kept_tree_as_it_was():
    # PostgreSQL has no transforms, so its SQL is generated from the kept tree itself (no copy);
    # neither that nor another dialect's transforms (on a copy) may change the tree
    from csframe.core.render import dialect_profile, render

    s = _session()
    compiled, _ = s.compile(_plan(s, by=("segment",)))
    before = compiled.query.sql(dialect="duckdb")
    for name in ("postgres", "bigquery", "duckdb", "postgres"):
        render(compiled.query, dialect_profile(s.registry, name))
    assert compiled.query.sql(dialect="duckdb") == before
    assert render(compiled.query, dialect_profile(s.registry, "postgres")) == s.compile(_plan(s, by=("segment",)),
                                                                                       dialect="postgres")[1]
