"""The Plan is the one place a run's metric variants are resolved: each (key, --by reading)
once, while planning; the compiler and the fingerprints read the closures kept on the Plan."""

from __future__ import annotations

from collections import Counter

import pytest

from csframe.core.fingerprint import fingerprints
from csframe.core.graph import Graph
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session

from csframe.core.contract import SOURCES as CONTRACT

SOURCES = tuple(s.name for s in CONTRACT)


def _session():
    project = Project(dir=".", adapter={"name": "duckdb"},
                      sources={n: SourceBinding(n, table=n) for n in SOURCES})
    return Session.open(project=project, entry_points=False)


def _keys(s):
    return s.keys(["mrr", "arpu", "customer_health_score"])


@pytest.mark.parametrize("metrics, by", [
    (["mrr", "arpu", "customer_health_score"], ()),  # arpu references mrr; the health score has two readings
    (["customer_health_score"], ("health_band",)),  # computed by one of its readings
])
def test_each_key_and_reading_is_resolved_once_for_plan_compile_and_fingerprints(monkeypatch, metrics, by):
    s = _session()
    calls: Counter = Counter()
    resolve = Graph.resolve

    def counted(self, key, split=None):
        calls[(key, split)] += 1
        return resolve(self, key, split)

    monkeypatch.setattr(Graph, "resolve", counted)
    plan = s.plan(s.request(s.keys(metrics), start="2024-01-01", end="2024-04-01", by=by))
    s.compile(plan)
    fingerprints(s.registry, s.graph, plan.keys, plan.parameters, plan.closures)
    health = next(k for k in plan.keys if k[0] == "customer_health_score")
    # every key plain; the health score also by each of its readings, health_band and customer_id
    assert set(calls) == {(k, None) for k in plan.keys} | {(health, "health_band"), (health, "customer_id")}
    assert set(calls.values()) == {1}, calls
    assert plan.closure(health) is plan.closures[(health, by[0] if by else None)]


def test_the_plans_closures_give_the_fingerprints_a_fresh_resolve_gives():
    s = _session()
    plan = s.plan(s.request(_keys(s), start="2024-01-01", end="2024-04-01"))
    kept = fingerprints(s.registry, s.graph, plan.keys, plan.parameters, plan.closures)
    assert kept == s.fingerprints(list(plan.keys))
    assert set(kept) == set(plan.keys)
