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
        Provenance("industry", "the common SaaS-analytics reading (subscription-analytics tools), added where the articles leave a gap"),
    )
}
