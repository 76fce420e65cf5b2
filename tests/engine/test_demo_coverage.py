"""The demo data exercises the whole catalog: every metric and variant (the defaults and all the
others), every dimension a metric carries and every ``--by`` reading has a meaningful series over
the last 12 months of ``generate(customers=300, months=24, end=2025-01-01, seed=42)``, loaded into
DuckDB with ``write_dataset`` and every source mapped.

"Meaningful": a row for every month, not all NULL, not all 0, NULL in no month where the business
has activity every month (documented exceptions in ``SPARSE``), and every value inside the range
its definition allows (a share in [0, 1], a score on its scale, a duration ≥ 0…). Additive counts
split ``--by segment`` add up to the unsplit number. Gaps of the demo generator that a test here
would otherwise hide are listed in ``SEGMENT_GAPS`` and ``SPARSE`` with the numbers seen.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import duckdb
import pytest

from csframe.adapters.duckdb_io import write_dataset
from csframe.core.project import Project, SourceBinding
from csframe.core.session import Session
from csframe.plugins.demo import SOURCES, generate

END = dt.date(2025, 1, 1)
START = dt.date(2024, 1, 1)
MONTHS = [dt.date(2024, m, 1) for m in range(1, 13)]
# the demo's onboarding events (plugins/demo/product.py, _onboarding)
ONBOARDING_STEPS = ("connected_data", "invited_team", "created_report", "activated", "onboarding_completed")
EVERYDAY = ("login", "report_export", "dashboard_share", "alert_created", "api_call", "meeting")

INF = float("inf")
SHARE = (0.0, 1.0)
# the values a definition allows, by metric or metric:variant; other metrics: ≥ 0
BOUNDS: dict[str, tuple[float, float]] = {
    "churn_rate:lost_over_start": SHARE, "churn_rate:lost_over_active": SHARE, "churn_rate:net_loss": (-INF, 1.0),
    "retention_rate:cohort": SHARE, "retention_rate:end_minus_new": (-INF, INF),
    "gross_revenue_retention": SHARE, "expansion_rate:cohort_net_change": (-1.0, INF),
    "net_mrr_churn_rate": (-INF, INF), "net_new_mrr": (-INF, INF), "customer_growth_rate": (-1.0, INF),
    "mrr_growth_rate": (-1.0, INF),
    "customer_lifetime_value:net_of_cac": (-INF, INF),
    "renewal_rate": SHARE, "trial_conversion_rate": SHARE, "activation_rate": SHARE,
    "onboarding_completion_rate": SHARE, "stickiness": SHARE, "feature_adoption_rate": SHARE,
    "engagement_rate": SHARE, "first_contact_resolution_rate": SHARE, "csat:percent_satisfied": SHARE,
    "customer_health_score": (0.0, 100.0), "nps": (-100.0, 100.0), "csat:mean_score": (1.0, 5.0),
    "ces": (1.0, 7.0), "kb_article_rating": (1.0, 5.0),
}
# metrics the demo leaves NULL in some month, with the months seen (seed 42): renewals come up
# in 11 of the 12 months only
SPARSE = {("renewal_rate", "default"): 1, ("net_renewal_rate", "contracts"): 1}
# a count the business has every month
EVERY_MONTH = ("customers", "new_customers", "churned_customers", "mrr", "new_mrr", "expansion_mrr",
               "contraction_mrr", "churned_mrr", "active_users", "support_tickets", "customer_health_score")
# (metric, segment) series that are all 0 or all NULL in the demo: its 27 enterprise customers
# (9 to 24 paying in 2024) neither churn nor reactivate nor start a trial in 2024
SEGMENT_GAPS = {
    ("churned_customers", "enterprise"), ("churned_mrr", "enterprise"), ("reactivated_customers", "enterprise"),
    ("reactivation_mrr", "enterprise"), ("churn_rate", "enterprise"), ("average_customer_lifespan", "enterprise"),
    ("customer_lifetime_value", "enterprise"), ("free_to_paid_conversion", "enterprise"),
    ("trial_conversion_rate", "enterprise"),
}
ADDITIVE = ("customers", "new_customers", "churned_customers", "reactivated_customers", "mrr", "new_mrr",
            "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "active_users", "support_tickets",
            "referrals", "health_band_customers")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo_coverage")
    con = duckdb.connect(str(tmp / "demo.duckdb"))
    try:
        write_dataset(con, generate(customers=300, months=24, end=END, seed=42))
    finally:
        con.close()
    project = Project(dir=tmp, adapter={"name": "duckdb", "database": "demo.duckdb"},
                      sources={name: SourceBinding(name, table=name) for name in SOURCES})
    s = Session.open(project=project, entry_points=False)
    yield s
    s.close()


@pytest.fixture(scope="module")
def catalog(demo):
    keys = [(rv.metric, rv.variant.name) for rv in demo.registry.all_variants()
            if not demo.graph.needs_by((rv.metric, rv.variant.name))]  # cohort metrics: with --by cohort only
    return keys, demo.compute(keys, start=START, end=END)


def _series(result) -> dict[tuple, dict[dt.date, float | None]]:
    """(metric, variant, *the dimension columns) → {period_start: value}."""
    idx = range(4, len(result.columns) - 1)
    out: dict[tuple, dict[dt.date, float | None]] = defaultdict(dict)
    for row in result.rows:
        k = (row[0], row[1], *(row[i] for i in idx))
        assert row[2] not in out[k], f"two rows for {k} at {row[2]}"
        out[k][row[2]] = row[-1]
    return out


def _bounds(metric: str, variant: str) -> tuple[float, float]:
    return BOUNDS.get(f"{metric}:{variant}") or BOUNDS.get(metric) or (0.0, INF)


def test_the_catalog_is_all_there(demo, catalog):
    keys, _ = catalog
    cohort_only = {m for m in demo.registry.metrics if demo.graph.needs_by((m, demo.graph.default_variant(m)))}
    assert len({m for m, _ in keys}) == len(demo.registry.metrics) - len(cohort_only) >= 52
    assert all(not demo.missing_sources(k) for k in keys)  # every source is mapped


def test_every_metric_and_variant_has_a_meaningful_series(demo, catalog):
    keys, result = catalog
    series = _series(result)
    problems = []
    for metric, variant in keys:
        lo, hi = _bounds(metric, variant)
        mine = {k: v for k, v in series.items() if k[:2] == (metric, variant)}
        if not mine:
            problems.append(f"{metric}:{variant}: no row")
            continue
        for k, by_month in mine.items():
            values = [by_month.get(m) for m in MONTHS]
            if set(by_month) != set(MONTHS):
                problems.append(f"{k}: months {sorted(by_month)}")
            present = [v for v in values if v is not None]
            if len(values) - len(present) > SPARSE.get((metric, variant), 0):
                problems.append(f"{k}: NULL in {len(values) - len(present)} months")
            if not any(present):
                problems.append(f"{k}: all 0 or NULL")
            if metric in EVERY_MONTH and (len(present) < len(values) or not all(present)):
                problems.append(f"{k}: 0 or NULL in some month: {values}")
            bad = [v for v in present if not lo - 1e-9 <= v <= hi + 1e-9]
            if bad:
                problems.append(f"{k}: outside [{lo}, {hi}]: {bad[:3]}")
    assert not problems, "\n".join(problems)


def test_feature_adoption_every_event_name_every_month(demo, catalog):
    _, result = catalog
    names = {r[0] for r in demo.adapter().execute("SELECT DISTINCT name FROM events")}
    assert set(EVERYDAY) | set(ONBOARDING_STEPS) == names  # what the demo generates
    series = _series(result)  # (metric, variant, feature, health_band)
    features = {k[2]: v for k, v in series.items() if k[0] == "feature_adoption_rate"}
    assert set(features) == names
    for f in EVERYDAY:  # used by some paying customer every month
        assert all(features[f][m] > 0 for m in MONTHS), f
    for f in ONBOARDING_STEPS:  # the first days of a paying customer: some month, not every month
        assert any(features[f][m] > 0 for m in MONTHS), f
    # a customer paying at the end of a month with a login that month is more common than any feature
    for m in MONTHS:
        assert features["login"][m] == max(v[m] for v in features.values())


def test_health_bands_partition_the_paying_customers(catalog):
    _, result = catalog
    bands = {k[3]: v for k, v in _series(result).items() if k[0] == "health_band_customers"}
    customers = _series(result)[("customers", "default", None, None)]
    assert set(bands) == {"at_risk", "needs_attention", "healthy"}
    for m in MONTHS:
        assert all(bands[b][m] > 0 for b in bands), m  # every band has customers in every month
        assert sum(bands[b][m] for b in bands) == customers[m]


def test_every_split(demo, catalog):
    _, plain = catalog
    plain_series = {k[:2]: v for k, v in _series(plain).items() if k[2:] == (None, None)}
    # --by step: every step of the demo's onboarding, each month; onboarding_completed is the metric itself
    r = demo.compute(["onboarding_completion_rate"], start=START, end=END, by=["step"],
                     params={"onboarding_steps": ONBOARDING_STEPS})
    steps = {k[2]: v for k, v in _series(r).items()}
    assert set(steps) == set(ONBOARDING_STEPS)
    for step, by_month in steps.items():
        assert all(0 < by_month[m] <= 1 for m in MONTHS), step
    for m in MONTHS:
        assert steps["onboarding_completed"][m] == pytest.approx(
            plain_series[("onboarding_completion_rate", "default")][m], rel=1e-12)
        assert steps["connected_data"][m] >= steps["onboarding_completed"][m]  # the first step comes first
    # --by health_band: each band's mean inside the band, every month
    r = demo.compute(["customer_health_score"], start=START, end=END, by=["health_band"])
    means = {k[2]: v for k, v in _series(r).items()}
    for m in MONTHS:
        assert 0 <= means["at_risk"][m] < 40 <= means["needs_attention"][m] < 70 <= means["healthy"][m] <= 100
    # --by customer_id: one row per paying customer, whose mean is the metric
    r = demo.compute(["customer_health_score"], start=START, end=END, by=["customer_id"])
    per_month: dict[dt.date, list[float]] = defaultdict(list)
    for row in r.rows:
        per_month[row[2]].append(row[-1])
    for m in MONTHS:
        assert len(per_month[m]) == plain_series[("customers", "default")][m]
        assert sum(per_month[m]) / len(per_month[m]) == pytest.approx(
            plain_series[("customer_health_score", "frequency_breadth_depth")][m], rel=1e-9)
    assert sum(1 for v in per_month[MONTHS[-1]] if v > 0) >= 0.9 * len(per_month[MONTHS[-1]])
    # --by article_id: every rated article of the source; the popular ones are rated every month
    r = demo.compute(["kb_article_rating"], start=START, end=END, by=["article_id"])
    articles = {k[2]: v for k, v in _series(r).items()}
    rated = [a for a, v in articles.items() if any(x is not None for x in v.values())]
    assert len(articles) >= 30 and len(rated) >= 0.7 * len(articles)
    assert all(v is not None and 1 <= v <= 5 for v in articles["KB0001"].values())


def test_by_segment(demo, catalog):
    keys, plain = catalog
    keys = [k for k in keys if not demo.graph.unsplittable_sources(k)]
    r = demo.compute(keys, start=START, end=END, by=["segment"])
    segments = {row[4] for row in r.rows}
    assert segments == {"smb", "mid_market", "enterprise"}
    series = _series(r)
    empty = set()
    for k, by_month in series.items():
        if not any(v for v in by_month.values() if v is not None):
            empty.add((k[0], k[2]))
    assert empty <= SEGMENT_GAPS, f"new all-0/NULL series by segment: {sorted(empty - SEGMENT_GAPS)}"
    assert empty == SEGMENT_GAPS, f"gaps the demo no longer has (update SEGMENT_GAPS): {sorted(SEGMENT_GAPS - empty)}"
    plain_series = _series(plain)
    for metric in ADDITIVE:
        for k, by_month in plain_series.items():
            if k[0] != metric:
                continue
            for m in MONTHS:
                parts = [series[(k[0], k[1], seg, *k[2:])][m] for seg in segments]
                assert sum(parts) == pytest.approx(by_month[m], rel=1e-9), (k, m)
