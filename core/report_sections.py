"""What ``csframe report`` shows: its sections and their charts, as data.

A chart names metrics; the report shows the ones the registry has and the project can
compute (a plugin's catalog may lack some), each with its default variant or, where the
chart says so, every variant side by side. How a chart is drawn is its ``kind``:

* ``lines``: one line per metric variant (and per ``--by`` group), one chart per unit;
* ``waterfall``: a bridge of ``total`` (e.g. MRR) from period to period, through the metrics
  (movements), each counted with its sign (``signs``), one chart per ``--by`` group;
* ``movements``: the metrics as bars above (+) and below (−) zero per period;
* ``stacked``: one metric split by the key its rows carry (e.g. a health band), stacked;
* ``heatmap``: one metric split by a key, as a grid key × period (the cohort triangle).
"""

from __future__ import annotations

__all__ = ["ChartSpec", "SectionSpec", "SECTIONS", "COHORT_METRIC"]

import attrs

KINDS = ("lines", "waterfall", "movements", "stacked", "heatmap")


@attrs.frozen
class ChartSpec:
    id: str
    title: str
    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    metrics: tuple[str, ...]
    all_variants: bool = False
    signs: tuple[int, ...] = ()  # waterfall, movements: +1 or -1 per metric
    total: str | None = None  # waterfall: the level the movements bridge (its value at each period's end)


@attrs.frozen
class SectionSpec:
    id: str
    title: str
    charts: tuple[ChartSpec, ...]
    explain_variants: bool = False  # say why the variants differ (as `csframe compare` does)


COHORT_METRIC = "logo_retention"
"""The cohorts section appears when the registry has this metric (a cohort triangle)."""

SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("mrr", "MRR and its bridge", (
        ChartSpec("mrr", "MRR", "lines", ("mrr",)),
        ChartSpec("mrr_bridge", "MRR bridge", "waterfall",
                  ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr"),
                  signs=(1, 1, 1, -1, -1), total="mrr"),
    )),
    SectionSpec("customers", "Customers and movements", (
        ChartSpec("customers", "Customers", "lines", ("customers",)),
        ChartSpec("customer_movements", "Customer movements", "movements",
                  ("new_customers", "reactivated_customers", "churned_customers"), signs=(1, 1, -1)),
    )),
    SectionSpec("churn", "Churn and retention", (
        ChartSpec("churn_rate", "Churn rate, every variant", "lines", ("churn_rate",), all_variants=True),
        ChartSpec("retention_rate", "Retention rate, every variant", "lines", ("retention_rate",), all_variants=True),
    ), explain_variants=True),
    SectionSpec("nrr", "NRR and GRR", (
        ChartSpec("nrr_grr", "Net and gross revenue retention", "lines",
                  ("net_revenue_retention", "gross_revenue_retention")),
    )),
    SectionSpec("health", "CS health", (
        ChartSpec("nps", "NPS", "lines", ("nps",)),
        ChartSpec("csat_ces", "CSAT and CES", "lines", ("csat", "ces"), all_variants=True),
        ChartSpec("health_bands", "Customers per health band", "stacked", ("health_band_customers",)),
    ), explain_variants=True),
    SectionSpec("support", "Support", (
        ChartSpec("support_tickets", "Support tickets", "lines", ("support_tickets",)),
        ChartSpec("support_times", "First response and resolution times", "lines",
                  ("first_response_time", "time_to_resolution"), all_variants=True),
        ChartSpec("support_rates", "First-contact resolution and tickets per customer", "lines",
                  ("first_contact_resolution_rate", "tickets_per_customer"), all_variants=True),
    ), explain_variants=True),
    # the cohort triangle: shown when the registry has COHORT_METRIC (report_model.py), else left out
    # with the note "cohorts: not available"
    SectionSpec("cohorts", "Cohorts", (
        ChartSpec("cohort_triangle", "Logo retention by cohort", "heatmap", (COHORT_METRIC,)),
    )),
)
