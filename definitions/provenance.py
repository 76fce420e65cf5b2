"""The published articles the catalog was built from, cited by key (metrics.md)."""

from __future__ import annotations

__all__ = ["PROVENANCE"]

from csframe.core.models import Provenance

PROVENANCE: dict[str, Provenance] = {
    p.key: p
    for p in (
        Provenance("agile", '"Top 10 customer success metrics to track", Agile CRM blog'),
        Provenance("dock", '"Customer Success Metrics: 22 goals & KPIs for CS teams", Dock (2023, updated 2024)'),
        Provenance("guide13", '"13 Customer Success Metrics You Should Measure" (2021, updated 2022)'),
        Provenance("podium", '"The Power of Metrics: Unlocking Customer Success with the Right KPIs", Podium'),
        Provenance("parative", '"Top 15 SaaS Customer Success Metrics (According to the Experts)", Parative (2022–23)'),
        Provenance("chartmogul", 'ChartMogul Help Center: "Churn rate formulas" (Standard B2B and Shopify B2C), '
                   '"Chart: Net MRR Churn Rate", "Chart: Customer Lifetime Value (LTV)"'),
        Provenance("stripe", 'Stripe: "Billing metric definitions" (docs.stripe.com) and "Calculating churn rate in '
                   'Billing" (support.stripe.com)'),
        Provenance("baremetrics", 'Baremetrics Help: "User and Revenue Churn", "Lifetime Value"; Baremetrics changelog '
                   '"Churn Update"'),
        Provenance("profitwell", 'ProfitWell Metrics (Paddle) help: "Are cancellations in the first month counted as '
                   'churn?"'),
        Provenance("industry", "the common SaaS-analytics reading (subscription-analytics tools), added where the articles leave a gap"),
    )
}
