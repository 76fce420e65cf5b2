"""Every worked example of the "Revenue and retention" section of metrics.md — the examples in
the formula column and the revenue rows of "More worked examples" — run through the whole
pipeline on DuckDB: source rows that realise the article's numbers are written to a fresh
project, ``Session.compute`` plans, compiles and runs the one query, and the value of the
period is the article's number (written out here, never recomputed).

Unless a test says otherwise the period is March 2024 ([2024-03-01, 2024-04-01)), customers
paying "at the start" have paid since 2024-01-01 and "leaving" rows end 2024-03-15 12:00.

The second part evaluates every ``Example`` declared on a variant of
``csframe.definitions.revenue.METRICS`` by compiling that variant's formula alone with
``csframe.core.compiler.compile_formula`` (measures and referenced metrics replaced by the
example's inputs, every input required to be read) and running the expression on DuckDB, and
again through the public ``csframe.core.examples.example_query`` over the built registry.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from csframe.core.compiler import compile_formula
from csframe.core.examples import example_query
from csframe.core.formula import literal, parse_formula
from csframe.core.graph import Graph
from csframe.core.models import Variant
from csframe.core.plugin_manager import load_plugins
from csframe.core.registry import RegisteredVariant, build_registry
from csframe.definitions.revenue import METRICS

T = dt.datetime
JAN = T(2024, 1, 1)
FEB = T(2024, 2, 1)
MAR = T(2024, 3, 1)
MID_MAR = T(2024, 3, 15, 12)
APR = T(2024, 4, 1)
MARCH = dt.date(2024, 3, 1)
RANGE = {"start": "2024-03-01", "end": "2024-04-01"}

_ids = itertools.count()


def money(x: Any) -> Decimal:
    return Decimal(str(x))


def sub(customer: str, start: T, end: T | None, mrr: Any, *, sid: str | None = None, trial: bool = False) -> dict:
    return {"subscription_id": sid or f"s{next(_ids)}", "customer_id": customer, "started_at": start,
            "ended_at": end, "mrr": money(mrr), "is_trial": trial}


def price_change(customer: str, start: T, at: T, before: Any, after: Any) -> list[dict]:
    """One subscription whose MRR goes from ``before`` to ``after`` at instant ``at``."""
    sid = f"s{next(_ids)}"
    return [sub(customer, start, at, before, sid=sid), sub(customer, at, None, after, sid=sid)]


def staying(prefix: str, n: int, mrr: Any = 100) -> list[dict]:
    """n customers paying from 2024-01-01, still paying after March."""
    return [sub(f"{prefix}{i}", JAN, None, mrr) for i in range(n)]


def leaving(prefix: str, n: int, mrr: Any = 100) -> list[dict]:
    """n customers paying at the start of March who stop mid-March."""
    return [sub(f"{prefix}{i}", JAN, MID_MAR, mrr) for i in range(n)]


def arriving(prefix: str, n: int, mrr: Any = 100) -> list[dict]:
    """n customers first paying mid-March, still paying at its end."""
    return [sub(f"{prefix}{i}", MID_MAR, None, mrr) for i in range(n)]


def inv(customer: str, paid_at: T, amount: Any, kind: str | None = "subscription") -> dict:
    return {"invoice_id": f"i{next(_ids)}", "customer_id": customer, "paid_at": paid_at, "amount": money(amount),
            "kind": kind}


# Column types of the canonical sources as the tests write them (any extra column is VARCHAR).
SCHEMAS = {
    "customers": {"customer_id": "VARCHAR", "created_at": "TIMESTAMP"},
    "subscriptions": {"subscription_id": "VARCHAR", "customer_id": "VARCHAR", "started_at": "TIMESTAMP",
                      "ended_at": "TIMESTAMP", "mrr": "DECIMAL(18,4)", "is_trial": "BOOLEAN"},
    "invoices": {"invoice_id": "VARCHAR", "customer_id": "VARCHAR", "paid_at": "TIMESTAMP", "amount": "DECIMAL(18,4)",
                 "kind": "VARCHAR"},
    "renewals": {"contract_id": "VARCHAR", "customer_id": "VARCHAR", "due_at": "DATE", "value_up": "DECIMAL(18,4)",
                 "renewed": "BOOLEAN", "renewed_value": "DECIMAL(18,4)"},
    "costs": {"incurred_at": "DATE", "category": "VARCHAR", "amount": "DECIMAL(18,4)"},
}


def _sql_literal(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime):
        return f"TIMESTAMP '{v.isoformat(sep=' ')}'"
    if isinstance(v, dt.date):
        return f"DATE '{v.isoformat()}'"
    if isinstance(v, (int, Decimal)):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def build(project, tables: dict[str, list[dict]], toml_extra: str = ""):
    """A session over a fresh project holding ``tables`` (typed columns, one multi-row INSERT
    per table: the conftest's row-by-row writer takes seconds for the article's 2,500 rows)."""
    s = project({}, toml_extra=toml_extra, sources=list(tables))
    con = duckdb.connect(str(s.project.dir / "data.duckdb"))
    try:
        for name, rows in tables.items():
            types = dict(SCHEMAS[name])
            for r in rows:
                types.update({c: "VARCHAR" for c in r if c not in types})
            con.execute(f'CREATE TABLE "{name}" (' + ", ".join(f'"{c}" {t}' for c, t in types.items()) + ")")
            if rows:
                values = ", ".join("(" + ", ".join(_sql_literal(r.get(c)) for c in types) + ")" for r in rows)
                con.execute(f'INSERT INTO "{name}" VALUES {values}')
    finally:
        con.close()
    return s


def approx(x: float) -> Any:
    """Relative 1e-9 (pytest.approx would also accept anything within 1e-12 absolute)."""
    return pytest.approx(x, rel=1e-9, abs=0 if x else 1e-12)


def march(session, metric: str, **kw: Any) -> float | None:
    """The one value of ``metric`` (name or name:variant) for March 2024."""
    r = session.compute([metric], grain="month", **{**RANGE, **kw})
    assert len(r.rows) == 1, r.rows
    return r.rows[0][-1]


# --------------------------------------------------------------------------------------------
# churn_rate
# --------------------------------------------------------------------------------------------


def test_churn_rate_32_lost_of_400(project):
    # dock: 400 customers at the start, 32 of them lost → 0.08 (the default, lost_over_start)
    s = build(project, {"subscriptions": staying("k", 368) + leaving("l", 32)})
    r = s.compute(["churn_rate"], grain="month", **RANGE)
    assert [(m, v, p) for m, v, p, *_ in r.rows] == [("churn_rate", "lost_over_start", MARCH)]
    assert r.value("churn_rate", MARCH) == approx(0.08)


def test_churn_rate_10_of_100(project):
    # guide13: 10 of 100 → 0.10
    s = build(project, {"subscriptions": staying("k", 90) + leaving("l", 10)})
    assert march(s, "churn_rate:lost_over_start") == approx(0.10)


def test_churn_rate_net_loss_new_customers_offset_losses(project):
    # agile: 100 at start, 90 at end → 0.10.  15 leave and 5 arrive: new customers offset losses
    s = build(project, {"subscriptions": staying("k", 85) + leaving("l", 15) + arriving("n", 5)})
    assert march(s, "customers") == 90
    assert march(s, "churn_rate:net_loss") == approx(0.10)
    assert march(s, "churn_rate:lost_over_start") == approx(0.15)


# --------------------------------------------------------------------------------------------
# retention_rate, mrr, arpu
# --------------------------------------------------------------------------------------------


def test_retention_rate_500_start_43_new_512_end(project):
    # dock: 500 at start, 43 new, 512 at end → 0.938 (so 31 were lost)
    s = build(project, {"subscriptions": staying("k", 469) + leaving("l", 31) + arriving("n", 43)})
    assert march(s, "customers") == 512
    assert march(s, "new_customers") == 43
    assert march(s, "retention_rate") == approx(0.938)
    assert march(s, "retention_rate:end_minus_new") == approx(0.938)


def test_mrr_arpu_25_times_1000(project):
    # dock: ARPU 25 × 1000 users → 25,000
    s = build(project, {"subscriptions": staying("k", 1000, 25)})
    assert march(s, "mrr") == approx(25_000)
    assert march(s, "arpu:mrr") == approx(25)


def test_arpu_invoiced_52000_over_2500(project):
    # dock: 52,000 invoiced / 2,500 customers → 20.8.  |A| = 2,000 paying all March + 500 arriving
    # in March; the 2,000 pay 20 each, the 500 pay 24 each (40,000 + 12,000 = 52,000); invoices
    # paid in February and April are outside the period.
    subs = staying("k", 2000, 20) + arriving("n", 500, 24)
    invoices = [inv(f"k{i}", T(2024, 3, 2), 20) for i in range(2000)]
    invoices += [inv(f"n{i}", T(2024, 3, 20), 24, kind=None) for i in range(500)]
    invoices += [inv("k0", T(2024, 2, 29, 23, 59, 59), 1_000), inv("k1", APR, 1_000)]
    s = build(project, {"subscriptions": subs, "invoices": invoices})
    assert march(s, "arpu") == approx(20.8)  # invoiced is the default variant
    assert march(s, "arpu:invoiced") == approx(20.8)


def test_arpa_five_customers_paying_1_1_3_5_5(project):
    # More worked examples: arpu:mrr, five customers paying 1, 1, 3, 5, 5 → 3
    subs = [sub(f"c{i}", JAN, None, m) for i, m in enumerate((1, 1, 3, 5, 5))]
    s = build(project, {"subscriptions": subs})
    assert march(s, "arpu:mrr") == approx(3)


# --------------------------------------------------------------------------------------------
# expansion_rate
# --------------------------------------------------------------------------------------------


def test_expansion_rate_cohort_net_change_25k_to_30k(project):
    # dock: the start cohort's MRR goes 25k → 30k → 0.20.  25 customers pay 1,000; five of them
    # double in mid-March.  A customer arriving in March (not in S) does not count.
    subs = staying("k", 20, 1_000) + arriving("n", 1, 7_000)
    for i in range(5):
        subs += price_change(f"x{i}", JAN, MID_MAR, 1_000, 2_000)
    s = build(project, {"subscriptions": subs})
    assert march(s, "expansion_rate:cohort_net_change") == approx(0.20)


def test_expansion_rate_upsell_invoices_10000_over_100000(project):
    # parative: upsell + cross-sell invoices of p 10,000 / all invoices of p−1 100,000 → 0.10.
    # p = March; p−1 = February lies before --start and is read from the data all the same.
    invoices = [
        # February: 100,000 of every kind (all of it is the denominator)
        inv("a", FEB, 60_000), inv("b", T(2024, 2, 10), 25_000, "upsell"), inv("c", T(2024, 2, 29, 23), 15_000, None),
        # March: 6,000 upsell + 4,000 cross-sell; subscription, one-time and NULL kinds do not count
        inv("a", MAR, 6_000, "upsell"), inv("b", T(2024, 3, 31, 23, 59), 4_000, "cross_sell"),
        inv("c", T(2024, 3, 5), 50_000), inv("a", T(2024, 3, 6), 3_000, "one_time"),
        inv("b", T(2024, 3, 7), 1_000, None),
        # January and April are in neither
        inv("a", T(2024, 1, 31), 999_999, "upsell"), inv("a", APR, 999_999, "upsell"),
    ]
    s = build(project, {"invoices": invoices})
    assert march(s, "expansion_rate:upsell_invoices") == approx(0.10)


# --------------------------------------------------------------------------------------------
# renewals
# --------------------------------------------------------------------------------------------


def _contracts(n: int, renewed: int, due: dt.date, prefix: str) -> list[dict]:
    return [{"contract_id": f"{prefix}{i}", "customer_id": f"c{i}", "due_at": due, "value_up": money(100),
             "renewed": i < renewed, "renewed_value": money(100 if i < renewed else 0)} for i in range(n)]


def test_renewal_rate_950_of_1000_and_98_of_100(project):
    # agile: 950 of 1000 → 0.95 (March); dock: 98 of 100 → 0.98 (April)
    rows = _contracts(1000, 950, dt.date(2024, 3, 10), "m") + _contracts(100, 98, dt.date(2024, 4, 1), "a")
    rows += _contracts(7, 0, dt.date(2024, 2, 29), "f")  # February: not in either period
    s = build(project, {"renewals": rows})
    r = s.compute(["renewal_rate"], grain="month", start="2024-03-01", end="2024-05-01")
    assert r.value("renewal_rate", MARCH) == approx(0.95)
    assert r.value("renewal_rate", dt.date(2024, 4, 1)) == approx(0.98)


def test_net_renewal_rate_contracts_1000_up_500_renewed_200_expansion(project):
    # parative: 1,000 up for renewal, 500 renewed + 200 expansion → 0.70.  k1 (500 up) renews at
    # 700 (its 500 + 200 expansion); k2 (500 up) does not renew.
    rows = [
        {"contract_id": "k1", "customer_id": "a", "due_at": dt.date(2024, 3, 1), "value_up": money(500),
         "renewed": True, "renewed_value": money(700)},
        {"contract_id": "k2", "customer_id": "b", "due_at": dt.date(2024, 3, 31), "value_up": money(500),
         "renewed": False, "renewed_value": money(0)},
        {"contract_id": "k3", "customer_id": "c", "due_at": dt.date(2024, 4, 1), "value_up": money(9_999),
         "renewed": False, "renewed_value": money(0)},
    ]
    s = build(project, {"renewals": rows})
    assert march(s, "net_renewal_rate") == approx(0.70)  # contracts is the default variant


# --------------------------------------------------------------------------------------------
# revenue retention, churn and quick ratio (More worked examples)
# --------------------------------------------------------------------------------------------


def test_grr_and_nrr_start_10m(project):
    # start 10.0M; contraction 0.6M; churned 0.9M; expansion 1.8M → GRR 0.85 and NRR 1.03
    subs = (
        [sub("steady", JAN, None, 6_500_000), sub("gone", JAN, MID_MAR, 900_000)]
        + price_change("down", JAN, MID_MAR, 1_600_000, 1_000_000)
        + price_change("up", JAN, T(2024, 3, 20), 1_000_000, 2_800_000)
    )
    s = build(project, {"subscriptions": subs})
    r = s.compute(["gross_revenue_retention", "net_revenue_retention", "net_renewal_rate:mrr"], grain="month", **RANGE)
    assert r.value("gross_revenue_retention", MARCH) == approx(0.85)
    assert r.value("net_revenue_retention", MARCH) == approx(1.03)
    # dock's net renewal rate is net_revenue_retention, through the dependency graph
    assert r.value("net_renewal_rate", MARCH, variant="mrr") == approx(1.03)


def test_revenue_churn_and_net_mrr_churn_start_100(project):
    # MRR at start 100; churned 10; contraction 10; expansion 10; no reactivation
    # → revenue_churn_rate 0.20, net_mrr_churn_rate 0.10
    subs = (
        [sub("gone", JAN, MID_MAR, 10), sub("steady", JAN, None, 30)]
        + price_change("down", JAN, MID_MAR, 30, 20)
        + price_change("up", JAN, MID_MAR, 30, 40)
    )
    s = build(project, {"subscriptions": subs})
    assert march(s, "revenue_churn_rate") == approx(0.20)
    assert march(s, "net_mrr_churn_rate") == approx(0.10)


def test_quick_ratio_3_5(project):
    # new 20k; expansion 8k; churned 5k; contraction 3k; no reactivation → 3.5
    subs = (
        arriving("n", 4, 5_000)  # new 20k
        + staying("k", 3, 1_000)
        + [sub("gone", JAN, MID_MAR, 5_000)]  # churned 5k
        + price_change("up", JAN, MID_MAR, 2_000, 10_000)  # expansion 8k
        + price_change("down", JAN, MID_MAR, 4_000, 1_000)  # contraction 3k
    )
    s = build(project, {"subscriptions": subs})
    assert march(s, "quick_ratio") == approx(3.5)


# --------------------------------------------------------------------------------------------
# customer_lifetime_value
# --------------------------------------------------------------------------------------------


def test_clv_arpa_100_monthly_churn_5_percent(project):
    # ARPA 100; monthly churn 0.05 → 2,000 (with average_customer_lifespan:inverse_churn, the
    # default): 20 customers at the start of March, one lost, the 19 left pay 100 each
    s = build(project, {"subscriptions": staying("k", 19, 100) + leaving("l", 1, 500)})
    assert march(s, "customer_lifetime_value") == approx(2_000)
    assert march(s, "customer_lifetime_value:arpa_x_lifespan") == approx(2_000)


def test_clv_arpa_with_churn_0_is_null(project):
    # ARPA 100 and churn 0 → NULL (the lifespan g / 0 has no value)
    s = build(project, {"subscriptions": staying("k", 20, 100)})
    assert march(s, "customer_lifetime_value:arpa_x_lifespan") is None


def test_clv_600_times_28_months_inverse_churn(project):
    # dock: ARPA 600 × lifespan 28 months → 16,800.  28 customers at the start of March, one
    # lost (churn 1/28, so the inverse_churn lifespan is 28 months); the 27 left pay 600 each.
    s = build(project, {"subscriptions": staying("k", 27, 600) + leaving("l", 1, 50)})
    assert march(s, "arpu:mrr") == approx(600)
    assert march(s, "average_customer_lifespan") == approx(28)
    assert march(s, "customer_lifetime_value:arpa_x_lifespan") == approx(16_800)


def test_clv_600_times_28_months_observed(project):
    # dock again, with the project choosing average_customer_lifespan:observed: two customers who
    # stopped paying before the end of March lasted 20 and 36 months (mean 28; months =
    # days / 30.4375), and the three paying at the end of March pay 600 each.
    month = dt.timedelta(days=30.4375)
    start_x, start_y = T(2021, 5, 3, 8), T(2020, 11, 17, 18, 30)
    subs = staying("k", 3, 600) + [sub("x", start_x, start_x + 20 * month, 75),
                                   sub("y", start_y, start_y + 36 * month, 900)]
    s = build(project, {"subscriptions": subs}, toml_extra='[variants]\naverage_customer_lifespan = "observed"\n')
    r = s.compute(["customer_lifetime_value:arpa_x_lifespan", "average_customer_lifespan"], grain="month", **RANGE)
    assert r.value("average_customer_lifespan", MARCH, variant="observed") == approx(28)
    assert r.value("customer_lifetime_value", MARCH) == approx(16_800)


def test_clv_historical_revenue_100_a_month_for_24_months(project):
    # parative: purchase value 100 × 1 purchase a month × 24 months → 2,400: one customer paid
    # 100 on the 15th of every month from March 2022 to February 2024 (24 invoices, all paid
    # before the end of March 2024)
    invoices = [inv("a", T(2022 + (2 + k) // 12, (2 + k) % 12 + 1, 15), 100) for k in range(24)]
    assert invoices[0]["paid_at"] == T(2022, 3, 15) and invoices[-1]["paid_at"] == T(2024, 2, 15)
    s = build(project, {"invoices": invoices})
    assert march(s, "customer_lifetime_value:historical_revenue_per_customer") == approx(2_400)


# --------------------------------------------------------------------------------------------
# Every declared Example, each variant's formula compiled alone
# --------------------------------------------------------------------------------------------


def _examples() -> list[Any]:
    out = []
    for metric in METRICS:
        for variant in metric.variants:
            for i, example in enumerate(variant.examples):
                out.append(pytest.param(metric.name, variant, example, id=f"{metric.name}:{variant.name}#{i}"))
    return out


class _Variants(dict):
    """The variant under test, and a stand-in for every metric its formula refers to."""

    def __missing__(self, key):
        metric, variant = key
        stub = Variant("input", f"ref__{metric}__{variant}")
        return RegisteredVariant(metric, stub, parse_formula(stub.formula), "test")


class _Registry:
    def __init__(self, variants: dict) -> None:
        self.variants = variants


def evaluate_example(metric: str, variant: Variant, inputs: dict[str, float | None]) -> float | None:
    """``variant``'s formula compiled by csframe with measures and refs bound to ``inputs``."""
    key = (metric, variant.name)
    registry = _Registry(_Variants({key: RegisteredVariant(metric, variant, parse_formula(variant.formula), "test")}))
    used: set[str] = set()

    def resolve_ref(m: str, v: str | None) -> tuple[str, str]:
        return (m, v or "")

    def measure(name: str) -> exp.Expression:
        if name.startswith("ref__"):
            m, _, v = name[len("ref__"):].partition("__")
            label = f"{m}:{v}" if v else m
        else:
            label = name
        assert label in inputs, f"example gives no input {label!r}"
        used.add(label)
        return exp.Null() if inputs[label] is None else literal(inputs[label])

    tree = compile_formula(registry, key, resolve_ref, {}, measure)
    assert used == set(inputs), f"inputs not read by the formula: {set(inputs) - used}"
    sql = exp.select(exp.alias_(exp.cast(tree, "DOUBLE"), "v")).sql("duckdb")
    with duckdb.connect() as con:
        return con.execute(sql).fetchone()[0]


_REGISTRY = build_registry(load_plugins(entry_points=False))
_GRAPH = Graph(_REGISTRY)


def _expect(value: float | None, example: Any) -> None:
    if example.expected is None:
        assert value is None
    else:
        tolerance = max(example.tolerance, 1e-12)
        assert value == pytest.approx(example.expected, rel=tolerance, abs=0 if example.expected else 1e-12)


@pytest.mark.parametrize(("metric", "variant", "example"), _examples())
def test_declared_example(metric, variant, example):
    # the formula as declared in METRICS, compiled alone: every input read, nothing else needed
    _expect(evaluate_example(metric, variant, example.inputs), example)
    # and through the public csframe.core.examples.example_query, against the built registry
    with duckdb.connect() as con:
        query = example_query(_REGISTRY, _GRAPH, (metric, variant.name), example)
        value = con.execute(query.sql("duckdb")).fetchone()[0]
    _expect(value, example)


def test_declared_examples_cover_the_articles_numbers():
    # the examples the catalog declares include the revenue examples of metrics.md
    declared = {(m.name, v.name, e.expected) for m in METRICS for v in m.variants for e in v.examples}
    for want in [
        ("churn_rate", "lost_over_start", 0.08), ("churn_rate", "lost_over_start", 0.10),
        ("churn_rate", "net_loss", 0.10), ("retention_rate", "end_minus_new", 0.938), ("mrr", "default", 25_000),
        ("arpu", "invoiced", 20.8), ("arpu", "mrr", 3), ("expansion_rate", "cohort_net_change", 0.20),
        ("expansion_rate", "upsell_invoices", 0.10), ("renewal_rate", "default", 0.95),
        ("renewal_rate", "default", 0.98), ("net_renewal_rate", "contracts", 0.70),
        ("customer_lifetime_value", "arpa_x_lifespan", 16_800), ("customer_lifetime_value", "arpa_x_lifespan", 2_000),
        ("customer_lifetime_value", "arpa_x_lifespan", None),
        ("customer_lifetime_value", "historical_revenue_per_customer", 2_400),
        ("revenue_churn_rate", "default", 0.20), ("net_mrr_churn_rate", "default", 0.10),
        ("gross_revenue_retention", "default", 0.85), ("net_revenue_retention", "default", 1.03),
        ("quick_ratio", "default", 3.5),
    ]:
        assert want in declared, want
