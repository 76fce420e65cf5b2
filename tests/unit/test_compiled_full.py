"""Compiled.full, the query before pruning (read by `csframe check` and by the explanation of a
failed run), is assembled on first access only, once, and is the unpruned query of the plan."""

from __future__ import annotations

from sqlglot import exp

from csframe.core import compiler
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session


def _compile(monkeypatch):
    project = Project(dir=".", adapter={"name": "duckdb"},
                      sources={n: SourceBinding(n, table=n) for n in ("customers", "subscriptions")})
    s = Session.open(project=project, entry_points=False)
    plan = s.plan(s.request(s.keys(["mrr"]), start="2024-01-01", end="2024-04-01"))
    assembled = []
    whole_query = compiler._whole_query
    monkeypatch.setattr(compiler, "_whole_query", lambda *a: assembled.append(1) or whole_query(*a))
    return compiler.compile_plan(s.registry, plan, s.scans(plan, "duckdb"), s.graph.default_variant), assembled


def _columns(query: exp.Select) -> dict[str, int]:
    return {c.alias_or_name: len(c.this.selects) for c in query.args["with_"].expressions}


def test_compiling_assembles_the_query_once_and_not_the_unpruned_one(monkeypatch):
    compiled, assembled = _compile(monkeypatch)
    assert assembled == [1]  # the pruned query's; no copy or second assembly for full


def test_full_is_assembled_on_first_access_once(monkeypatch):
    compiled, assembled = _compile(monkeypatch)
    full = compiled.full
    assert assembled == [1, 1] and compiled.full is full and assembled == [1, 1]
    pruned, whole = _columns(compiled.query), _columns(full)
    # mrr alone reads few columns of subscriptions: the unpruned steps output more, and every pruned step is one of them
    assert set(pruned) <= set(whole) and whole["src_subscriptions"] > pruned["src_subscriptions"]
    assert full is not compiled.query and compiled.query.find(exp.Table) is not full.find(exp.Table)  # its own tree
