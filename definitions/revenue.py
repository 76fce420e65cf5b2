"""The "Revenue and retention" catalog of metrics.md, registered through the same
hook a third-party plugin uses."""

from __future__ import annotations

__all__ = ["METRICS", "csframe_register_metrics"]

import attrs

from csframe.core.hookspecs import hookimpl
from csframe.core.models import Example as X
from csframe.core.models import Figure, Metric, Variant

from . import billing_nodes, cohorts, growth, subscription_sets

S_START = "customers_start"
MOVEMENTS = "new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churned_mrr"


def _single(name: str, unit: str, description: str, formula: str, provenance: tuple[str, ...] = ("industry",),
            examples: tuple[X, ...] = (), figures: tuple[Figure, ...] = (), **kwargs) -> Metric:
    return Metric(name, unit, description, (Variant("default", formula, provenance, description, examples=examples,
                                                    figures=figures),),
                  family="revenue", **kwargs)


METRICS: tuple[Metric, ...] = (
    _single("customers", "count", "|E|: customers paying at the end of the period", "customers_end", ("dock",)),
    _single("new_customers", "count", "|N|: customers whose first paid start falls in the period", "new_customers"),
    _single("churned_customers", "count", "|L|: customers paying at the start and not at the end", "churned_customers"),
    _single("reactivated_customers", "count", "|R|: paying at the end, not at the start, and paid before",
            "reactivated_customers"),
    Metric("churn_rate", "share", "the share of customers lost", (
        Variant("lost_over_start", "churned_customers / customers_start",
                ("dock", "guide13", "chartmogul", "profitwell"), "|L| / |S|", examples=(
            X("32 lost of 400", {"churned_customers": 32, "customers_start": 400}, 0.08, "dock"),
            X("10 of 100", {"churned_customers": 10, "customers_start": 100}, 0.10, "guide13"),
            X("100 at start; 12 churned, one of whom came back and one of whom joined in the month",
              {"churned_customers": 10, "customers_start": 100}, 0.10, "chartmogul"),
            X("no customers at start", {"churned_customers": 0, "customers_start": 0}, None)),
            figures=(Figure("chartmogul", "Customer Churn Rate (Standard B2B formula)", "--grain month"),
                     Figure("profitwell", "Customer churn (new and churned in the same month not counted)",
                            "--grain month"))),
        Variant("net_loss", "(customers_start - customers_end) / customers_start", ("agile",),
                "(|S| − |E|) / |S|: new customers offset losses", examples=(
                    X("100 at start, 90 at end", {"customers_start": 100, "customers_end": 90}, 0.10, "agile"),)),
        Variant("lost_over_active", "churned_customers / (customers_start + active_not_at_start)", ("podium",),
                "|L| / |A|: churned over all customers of the period", examples=(
                    X("10 lost; 90 at start and 10 more active", {"churned_customers": 10, "customers_start": 90,
                                                                   "active_not_at_start": 10}, 0.10),)),
    ), family="revenue"),
    Metric("retention_rate", "share", "the share of customers kept", (
        Variant("end_minus_new", "(customers_end - new_customers) / customers_start", ("dock", "podium", "parative"),
                "(|E| − |N|) / |S|", examples=(
                    X("500 at start, 43 new, 512 at end", {"customers_start": 500, "new_customers": 43,
                                                           "customers_end": 512}, 0.938, "dock"),)),
        Variant("cohort", "(customers_start - churned_customers) / customers_start", ("industry",), "|S ∩ E| / |S|"),
    ), family="revenue"),
    attrs.evolve(
        _single("mrr", "money", "M(p.end): monthly recurring revenue at the end of the period", "mrr_end",
                ("dock", "stripe"),
                (X("ARPU 25 × 1000 users", {"mrr_end": 25_000}, 25_000, "dock"),
                 X("100 × 100 USD per month + 50 × 600 USD per year / 12 (Stripe's page writes 800/12)",
                   {"mrr_end": 100 * 100 + 50 * 600 / 12}, 12_500, "stripe")),
                figures=(Figure("stripe", "MRR", "", "trials excluded, as the data contract does"),)),
        rejected=("mrr as \"ARPU × active customers\" (dock, guide13, podium) equals M(p.end) whenever ARPU is "
               "taken as MRR per customer, so it is no variant.",)),
    _single("arr", "money", "12 × mrr", "12 * ref('mrr')"),
    _single("new_mrr", "money", "Σ over N ∩ E of B_c(p.end)", "new_mrr", ("industry", "profitwell"),
            (X("paid 100 on 12/5, churned on 12/6: no new revenue in December", {"new_mrr": 0}, 0, "profitwell"),),
            figures=(Figure("profitwell", "New revenue", "--grain month",
                            "a customer new and churned in the same month adds nothing"),)),
    _single("expansion_mrr", "money", "Σ over S ∩ E with Δ_c > 0 of Δ_c", "expansion_mrr"),
    _single("contraction_mrr", "money", "Σ over S ∩ E with Δ_c < 0 of −Δ_c", "contraction_mrr"),
    _single("churned_mrr", "money", "Σ over L of B_c(p.start)", "churned_mrr", ("industry", "profitwell"),
            (X("paid 100 on 12/5, churned on 12/6: no churned revenue in December", {"churned_mrr": 0}, 0,
               "profitwell"),),
            figures=(Figure("profitwell", "Churned revenue", "--grain month",
                            "a customer new and churned in the same month adds nothing"),)),
    _single("reactivation_mrr", "money", "Σ over R of B_c(p.end)", "reactivation_mrr"),
    _single("net_new_mrr", "money", "new + reactivation + expansion − contraction − churned", MOVEMENTS),
    _single("quick_ratio", "multiple", "(new + reactivation + expansion) / (contraction + churned)",
            "(new_mrr + reactivation_mrr + expansion_mrr) / (contraction_mrr + churned_mrr)", ("industry",), (
                X("new 20k; expansion 8k; churned 5k; contraction 3k", {"new_mrr": 20_000, "reactivation_mrr": 0,
                  "expansion_mrr": 8_000, "churned_mrr": 5_000, "contraction_mrr": 3_000}, 3.5),)),
    Metric("arpu", "money", "average revenue per customer", (
        Variant("invoiced", "invoiced_amount / (customers_start + active_not_at_start)", ("dock",),
                "Σ invoices.amount paid in p / |A|", examples=(
                    X("52,000 / 2,500", {"invoiced_amount": 52_000, "customers_start": 2_000,
                                         "active_not_at_start": 500}, 20.8, "dock"),)),
        Variant("mrr", "mrr_end / customers_end", ("industry",), "M(p.end) / |E| (ARPA)", examples=(
            X("five customers paying 1, 1, 3, 5, 5", {"mrr_end": 15, "customers_end": 5}, 3),)),
    ), family="revenue", aliases=("arpa",)),
    Metric("expansion_rate", "share", "growth of revenue from existing customers", (
        Variant("gross_mrr", "expansion_mrr / mrr_start", ("agile",), "expansion MRR / M(p.start)"),
        Variant("cohort_net_change", "start_cohort_mrr_change / mrr_start", ("dock",),
                "(Σ_{c∈S} B_c(p.end) − Σ_{c∈S} B_c(p.start)) / Σ_{c∈S} B_c(p.start); negative = contraction",
                examples=(X("25k → 30k", {"start_cohort_mrr_change": 5_000, "mrr_start": 25_000}, 0.20, "dock"),)),
        Variant("upsell_invoices", "upsell_invoiced_amount / invoiced_amount_previous", ("parative",),
                "Σ invoices of kind upsell or cross_sell paid in p / Σ invoices paid in p−1", examples=(
                    X("10,000 / 100,000", {"upsell_invoiced_amount": 10_000, "invoiced_amount_previous": 100_000},
                      0.10, "parative"),)),
    ), family="revenue"),
    _single("net_revenue_retention", "share", "(M(p.start) + expansion − contraction − churned) / M(p.start)",
            "(mrr_start + expansion_mrr - contraction_mrr - churned_mrr) / mrr_start", ("dock",), (
                X("start 10.0M; contraction 0.6M; churned 0.9M; expansion 1.8M", {"mrr_start": 10_000_000,
                  "contraction_mrr": 600_000, "churned_mrr": 900_000, "expansion_mrr": 1_800_000}, 1.03),),
            aliases=("nrr", "ndr")),
    _single("gross_revenue_retention", "share", "(M(p.start) − contraction − churned) / M(p.start)",
            "(mrr_start - contraction_mrr - churned_mrr) / mrr_start", ("industry",), (
                X("start 10.0M; contraction 0.6M; churned 0.9M", {"mrr_start": 10_000_000,
                  "contraction_mrr": 600_000, "churned_mrr": 900_000}, 0.85),), aliases=("grr",)),
    _single("net_mrr_churn_rate", "share", "(churned + contraction − expansion) / M(p.start); negative is good",
            "(churned_mrr + contraction_mrr - expansion_mrr) / mrr_start", ("parative",), (
                X("MRR at start 100; churned 10; contraction 10; expansion 10", {"mrr_start": 100, "churned_mrr": 10,
                  "contraction_mrr": 10, "expansion_mrr": 10}, 0.10),)),
    _single("revenue_churn_rate", "share", "(churned + contraction) / M(p.start)",
            "(churned_mrr + contraction_mrr) / mrr_start", ("parative", "chartmogul", "baremetrics"), (
                X("MRR at start 100; churned 10; contraction 10", {"mrr_start": 100, "churned_mrr": 10,
                  "contraction_mrr": 10}, 0.20),
                X("start 100; churn 10, contraction 10, expansion 10", {"mrr_start": 100, "churned_mrr": 10,
                  "contraction_mrr": 10}, 0.20, "chartmogul")),
            figures=(Figure("chartmogul", "Gross MRR Churn Rate (Standard B2B formula)", "--grain month"),
                     Figure("baremetrics", "Revenue Churn", "--grain day --window 30d"))),
    _single("renewal_rate", "share", "contracts due in p that renewed / contracts due in p",
            "renewals_renewed / renewals_due", ("agile", "dock"), (
                X("950 of 1000", {"renewals_renewed": 950, "renewals_due": 1000}, 0.95, "agile"),
                X("98 of 100", {"renewals_renewed": 98, "renewals_due": 100}, 0.98, "dock"))),
    Metric("net_renewal_rate", "share", "value kept at renewal", (
        Variant("contracts", "renewal_value_renewed / renewal_value_up", ("parative",),
                "Σ renewed_value / Σ value_up over contracts due in p", examples=(
                    X("1,000 up, 500 renewed + 200 expansion", {"renewal_value_renewed": 700,
                                                               "renewal_value_up": 1_000}, 0.70, "parative"),)),
        Variant("mrr", "ref('net_revenue_retention')", ("dock",), "net_revenue_retention, through the dependency graph"),
    ), family="revenue"),
    _single("customer_acquisition_cost", "money", "acquisition costs incurred in p / |N|",
            "acquisition_cost / new_customers", ("dock", "podium"), aliases=("cac",)),
    _single("customer_retention_cost", "money", "retention costs incurred in p / |S ∩ E|",
            "retention_cost / (customers_start - churned_customers)", ("agile", "dock"), aliases=("crc",)),
    Metric("average_customer_lifespan", "months", "how long a customer pays, in months", (
        Variant("inverse_churn", "grain_months / ref('churn_rate', 'lost_over_start')", ("industry",),
                "g / churn_rate:lost_over_start, g = the grain's length in months; NULL when churn is 0", examples=(
                    X("monthly churn 0.05", {"grain_months": 1, "churn_rate:lost_over_start": 0.05}, 20),
                    X("churn 0", {"grain_months": 1, "churn_rate:lost_over_start": 0}, None))),
        Variant("observed", "ended_lifespan_seconds / 2629800 / ended_customers", ("industry",),
                "as of p.end, over customers who paid before p.end and are not paying at p.end: the mean of "
                "(their latest paid ended_at − first_paid_c), in months"),
    ), family="revenue"),
    Metric("customer_lifetime_value", "money", "the revenue a customer brings over their life", (
        Variant("arpa_x_lifespan", "ref('arpu', 'mrr') * ref('average_customer_lifespan')", ("dock",),
                "arpu:mrr × average_customer_lifespan (the project's default variant of it)", examples=(
                    X("600 × 28 months", {"arpu:mrr": 600, "average_customer_lifespan": 28}, 16_800, "dock"),
                    X("ARPA 100; monthly churn 0.05", {"arpu:mrr": 100, "average_customer_lifespan": 20}, 2_000),
                    X("churn 0", {"arpu:mrr": 100, "average_customer_lifespan": None}, None))),
        Variant("aov_x_frequency_x_lifetime",
                "(invoiced_amount_to_date / invoices_to_date) * (invoices_to_date / invoiced_customers_to_date)"
                " * (invoice_span_seconds_to_date / 86400 / invoiced_customers_to_date / 365)", ("podium",),
                "over invoices paid before p.end: AOV × purchase frequency × mean customer lifetime in years"),
        Variant("historical_revenue_per_customer", "invoiced_amount_to_date / invoiced_customers_to_date",
                ("parative",), "Σ invoices paid before p.end / distinct customers with one", examples=(
                    X("100 × 1 per month × 24 months", {"invoiced_amount_to_date": 2_400,
                                                        "invoiced_customers_to_date": 1}, 2_400, "parative"),)),
        Variant("net_of_cac", "ref('customer_lifetime_value', 'arpa_x_lifespan') - ref('customer_acquisition_cost')",
                ("guide13",), "customer_lifetime_value:arpa_x_lifespan − customer_acquisition_cost"),
    ), family="revenue", aliases=("ltv", "clv", "cltv")),
    _single("ltv_to_cac", "multiple", "customer_lifetime_value / customer_acquisition_cost (default variants)",
            "ref('customer_lifetime_value') / ref('customer_acquisition_cost')", aliases=("ltv_cac",)),
    _single("customer_growth_rate", "share", "(|E| − |S|) / |S|", "(customers_end - customers_start) / customers_start",
            ("dock", "parative")),
)


@hookimpl
def csframe_register_metrics(registrar) -> None:
    for node in (*subscription_sets.NODES, *billing_nodes.NODES, *cohorts.NODES):
        registrar.node(node)
    for metric in (*METRICS, *cohorts.METRICS, *growth.METRICS):
        registrar.metric(metric)
