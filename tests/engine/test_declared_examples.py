"""Every worked example declared on a built-in variant, evaluated on DuckDB through the
formula compiler (the article's inputs as measures, the article's stated value): through the
public ``csframe.core.examples.check_example`` over the built registry, and with the variant's
formula compiled alone by ``csframe.core.compiler.compile_formula`` (every metric it refers to
stubbed, so the example must give each input the formula reads, and the formula must read each
input the example gives). The catalog must declare the numbers of metrics.md's worked examples.

The same examples run on DuckDB, PostgreSQL and BigQuery through the test kit
(``csframe_case.examples`` in ``tests/kit/test_catalog_examples_*.py``), beside the worked
examples computed from source rows.
"""

from __future__ import annotations

import duckdb
import pytest
from sqlglot import exp

from csframe.core.compiler import compile_formula
from csframe.core.examples import check_example, previous_input
from csframe.core.formula import literal, parse_formula
from csframe.core.graph import Graph
from csframe.core.models import Variant
from csframe.core.plugin_manager import load_plugins
from csframe.core.registry import RegisteredVariant, build_registry

REGISTRY = build_registry(load_plugins(entry_points=False))
GRAPH = Graph(REGISTRY)
CASES = [((rv.metric, rv.variant.name), ex) for rv in REGISTRY.all_variants() for ex in rv.variant.examples]
IDS = [f"{k[0]}:{k[1]}:{e.text}" for k, e in CASES]

# (metric, variant, the value metrics.md states) of every worked example of metrics.md
ARTICLES = [
    # Revenue and retention, and its rows of "More worked examples"
    ("churn_rate", "lost_over_start", 0.08), ("churn_rate", "lost_over_start", 0.10), ("churn_rate", "net_loss", 0.10),
    ("retention_rate", "end_minus_new", 0.938), ("mrr", "default", 25_000), ("arpu", "invoiced", 20.8),
    ("arpu", "mrr", 3), ("expansion_rate", "cohort_net_change", 0.20), ("expansion_rate", "upsell_invoices", 0.10),
    ("renewal_rate", "default", 0.95), ("renewal_rate", "default", 0.98), ("net_renewal_rate", "contracts", 0.70),
    ("customer_lifetime_value", "arpa_x_lifespan", 16_800), ("customer_lifetime_value", "arpa_x_lifespan", 2_000),
    ("customer_lifetime_value", "arpa_x_lifespan", None),
    ("customer_lifetime_value", "historical_revenue_per_customer", 2_400),
    ("revenue_churn_rate", "default", 0.20), ("net_mrr_churn_rate", "default", 0.10),
    ("gross_revenue_retention", "default", 0.85), ("net_revenue_retention", "default", 1.03),
    ("quick_ratio", "default", 3.5),
    # Onboarding, adoption and engagement
    ("free_to_paid_conversion", "over_population", 0.60), ("feature_adoption_rate", "default", 0.30),
    ("stickiness", "default", 0.0662),
    # Satisfaction and support
    ("nps", "default", 62), ("nps", "default", 10), ("csat", "percent_satisfied", 0.60),
]


def test_the_catalog_declares_its_worked_examples():
    declared = {(k[0], k[1], e.expected) for k, e in CASES}
    missing = [want for want in ARTICLES if want not in declared]
    assert not missing, f"metrics.md's worked examples not declared on their variants: {missing}"


@pytest.mark.parametrize("key,example", CASES, ids=IDS)
def test_declared_example(key, example):
    con = duckdb.connect()

    def run(query):
        return con.execute(query.sql("duckdb")).fetchone()[0]

    ok, value = check_example(REGISTRY, GRAPH, key, example, run)
    assert ok, f"{key[0]}:{key[1]} — {example.text}: got {value}, the article says {example.expected}"


class _Stubbed(dict):
    """The variant under test, and a stub (one measure ``ref__<metric>__<variant>``) for every
    metric its formula refers to."""

    def __missing__(self, key):
        stub = Variant("input", f"ref__{key[0]}__{key[1]}")
        return RegisteredVariant(key[0], stub, parse_formula(stub.formula), "test")


@pytest.mark.parametrize("key,example", CASES, ids=IDS)
def test_declared_example_formula_alone(key, example):
    rv = REGISTRY.variants[key]
    registry = type("Stubs", (), {"variants": _Stubbed({key: rv})})()
    read: set[str] = set()

    def measure(name: str) -> exp.Expression:
        metric, _, variant = name.removeprefix("ref__").partition("__") if name.startswith("ref__") else (name, "", "")
        label = f"{metric}:{variant}" if variant else metric
        assert label in example.inputs, f"{key[0]}:{key[1]} — {example.text}: no input {label!r}"
        read.add(label)
        return exp.Null() if example.inputs[label] is None else literal(example.inputs[label])

    def lag(_expr: exp.Expression, _n: int, text: str) -> exp.Expression:  # previous(): the example's input
        label = previous_input(example.inputs, text)
        assert label is not None, f"{key[0]}:{key[1]} — {example.text}: no input {text!r}"
        read.add(label)
        return exp.Null() if example.inputs[label] is None else literal(example.inputs[label])

    lag.by_text = True  # type: ignore[attr-defined]
    tree = compile_formula(registry, key, lambda m, v: (m, v or ""), {}, measure, lag=lag)
    assert read == set(example.inputs), f"inputs the formula does not read: {set(example.inputs) - read}"
    with duckdb.connect() as con:
        value = con.execute(exp.select(exp.cast(tree, "DOUBLE")).sql("duckdb")).fetchone()[0]
    if example.expected is None:
        assert value is None
    else:
        assert value == pytest.approx(example.expected, rel=max(example.tolerance, 1e-12),
                                      abs=0 if example.expected else 1e-12)
