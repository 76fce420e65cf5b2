"""The vendors' readings: the figures ChartMogul, Stripe, Baremetrics and ProfitWell show, each a
named variant (or the provenance key and figure of the catalog variant that already equals it).
Each was checked against the vendor's own help pages; docs/choices.md says where a page and
csframe's wording of it differ, and docs/vendors.md (generated) lists every figure."""

from __future__ import annotations

__all__ = ["VARIANTS", "csframe_register_metrics"]

from csframe.core.hookspecs import hookimpl
from csframe.core.models import Example as X
from csframe.core.models import Figure, Variant

from . import vendor_nodes

WINDOW_30D = "--grain day --window 30d"
_CHURN = "ref('churn_rate', 'lost_over_start')"
_SIX_INPUTS = tuple(f"previous({_CHURN}, {n})" for n in range(1, 7))  # the six months before the current one
_SIX_MONTHS = " + ".join(_SIX_INPUTS)

# (metric, variant) added to the catalog's metrics
VARIANTS: tuple[tuple[str, Variant], ...] = (
    ("net_mrr_churn_rate", Variant(
        "chartmogul", "(churned_mrr + contraction_mrr - expansion_mrr - reactivation_mrr) / mrr_start", ("chartmogul",),
        "(churned + contraction − expansion − reactivation) / M(p.start): ChartMogul's Standard (B2B) net MRR churn, "
        "which also offsets reactivation", examples=(
            X("start 100; churn 10, contraction 10, expansion 10", {"mrr_start": 100, "churned_mrr": 10,
              "contraction_mrr": 10, "expansion_mrr": 10, "reactivation_mrr": 0}, 0.10, "chartmogul"),
            X("the same with 5 reactivated", {"mrr_start": 100, "churned_mrr": 10, "contraction_mrr": 10,
                                              "expansion_mrr": 10, "reactivation_mrr": 5}, 0.05)),
        figures=(Figure("chartmogul", "Net MRR Churn Rate (Standard B2B formula)", "--grain month"),))),
    ("churn_rate", Variant(
        "chartmogul_daily", "CASE WHEN customers_start + active_not_at_start > 0 THEN daily_churn_rate_sum END",
        ("chartmogul",),
        "Σ over the days d of p of |L_d| / |S_d| (the calendar's days): ChartMogul's Shopify (B2C) formula; NULL when nobody "
        "was active in p", examples=(
            X("lost 1 of 10 on one day, 1 of 9 on another", {"daily_churn_rate_sum": 0.1 + 1 / 9,
              "customers_start": 10, "active_not_at_start": 0}, 0.1 + 1 / 9),
            X("nobody active", {"daily_churn_rate_sum": 0, "customers_start": 0, "active_not_at_start": 0}, None)),
        figures=(Figure("chartmogul", "Customer Churn Rate (Shopify B2C formula)", "--grain month"),))),
    ("churn_rate", Variant(
        "stripe", "paying_stops / (customers_start + paying_starts)", ("stripe",),
        "stops / (|S| + starts): every time a customer stopped paying in p, over the customers paying at p.start "
        "plus every time one started paying in p (new or returning)", examples=(
            X("100 at start; 20 started; 12 stopped, 3 of them new", {"paying_stops": 12, "customers_start": 100,
              "paying_starts": 20}, 0.10),
            X("nobody", {"paying_stops": 0, "customers_start": 0, "paying_starts": 0}, None)),
        figures=(Figure("stripe", "Subscriber churn rate", WINDOW_30D),))),
    ("churn_rate", Variant(
        "baremetrics", "paying_stops / customers_start", ("baremetrics",),
        "stops / |S|: every cancellation in p (sign-ups who cancel in p included) over the customers paying at "
        "p.start", examples=(
            X("5 cancelled of 100 active 30 days ago", {"paying_stops": 5, "customers_start": 100}, 0.05,
              "baremetrics"),),
        figures=(Figure("baremetrics", "User Churn", WINDOW_30D),))),
    ("customer_lifetime_value", Variant(
        "chartmogul", f"ref('arpu', 'mrr') / (({_SIX_MONTHS}) / 6)", ("chartmogul",),
        "arpu:mrr / the mean of churn_rate:lost_over_start over the six periods before p (ChartMogul: ARPA ÷ the "
        "six-month trailing average of customer churn, the current month excluded); NULL when that mean is 0 or "
        "one of the six is NULL", examples=(
            X("ARPA 100; trailing six-month churn 5 %", {"arpu:mrr": 100, **{k: 0.05 for k in _SIX_INPUTS}}, 2_000,
              "chartmogul"),
            X("ARPA 100; churn 3, 4, 5, 6, 7, 5 %", {"arpu:mrr": 100, **dict(zip(_SIX_INPUTS, (0.03, 0.04, 0.05,
              0.06, 0.07, 0.05)))}, 100 / 0.05),
            X("no churn in six months", {"arpu:mrr": 100, **{k: 0 for k in _SIX_INPUTS}}, None)),
        figures=(Figure("chartmogul", "Customer Lifetime Value (LTV)", "--grain month"),))),
    ("customer_lifetime_value", Variant(
        "baremetrics", "ref('arpu', 'mrr') / ref('churn_rate', 'baremetrics')", ("baremetrics",),
        "arpu:mrr / churn_rate:baremetrics (ARPU ÷ User Churn); NULL when churn is 0", examples=(
            X("ARPU 100; user churn 0.05", {"arpu:mrr": 100, "churn_rate:baremetrics": 0.05}, 2_000),
            X("churn 0", {"arpu:mrr": 100, "churn_rate:baremetrics": 0}, None)),
        figures=(Figure("baremetrics", "LTV", WINDOW_30D),))),
)


@hookimpl
def csframe_register_metrics(registrar) -> None:
    for node in vendor_nodes.NODES:
        registrar.node(node)
    for metric, variant in VARIANTS:
        registrar.variant(metric, variant)
