"""Every worked example declared on a built-in variant, evaluated on DuckDB through the
formula compiler (the article's inputs as measures, the article's stated value)."""

from __future__ import annotations

import duckdb
import pytest

from csframe.core.examples import check_example
from csframe.core.graph import Graph
from csframe.core.plugin_manager import load_plugins
from csframe.core.registry import build_registry

REGISTRY = build_registry(load_plugins(entry_points=False))
GRAPH = Graph(REGISTRY)
CASES = [((rv.metric, rv.variant.name), ex) for rv in REGISTRY.all_variants() for ex in rv.variant.examples]


def test_the_catalog_declares_its_worked_examples():
    # metrics.md's revenue section has at least these examples on these variants
    keys = {k for k, _ in CASES}
    for k in [("churn_rate", "lost_over_start"), ("churn_rate", "net_loss"), ("retention_rate", "end_minus_new"),
              ("mrr", "default"), ("arpu", "invoiced"), ("arpu", "mrr"), ("expansion_rate", "cohort_net_change"),
              ("expansion_rate", "upsell_invoices"), ("renewal_rate", "default"), ("net_renewal_rate", "contracts"),
              ("customer_lifetime_value", "arpa_x_lifespan"), ("revenue_churn_rate", "default"),
              ("net_mrr_churn_rate", "default"), ("gross_revenue_retention", "default"),
              ("net_revenue_retention", "default"), ("quick_ratio", "default")]:
        assert k in keys, f"{k} declares no worked example"


@pytest.mark.parametrize("key,example", CASES, ids=[f"{k[0]}:{k[1]}:{e.text}" for k, e in CASES])
def test_declared_example(key, example):
    con = duckdb.connect()

    def run(query):
        return con.execute(query.sql("duckdb")).fetchone()[0]

    ok, value = check_example(REGISTRY, GRAPH, key, example, run)
    assert ok, f"{key[0]}:{key[1]} — {example.text}: got {value}, the article says {example.expected}"
