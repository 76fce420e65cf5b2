"""Period-over-period metrics (issue 13 §3), built with the formula function ``previous()``.
Registered by :mod:`.revenue`'s hook."""

from __future__ import annotations

__all__ = ["METRICS"]

from csframe.core.models import Example as X
from csframe.core.models import Metric, Variant

METRICS: tuple[Metric, ...] = (
    Metric("mrr_growth_rate", "share", "MRR growth over the period before", (
        Variant("default", "(ref('mrr') - previous(ref('mrr'))) / previous(ref('mrr'))", ("industry",),
                "(mrr − previous(mrr)) / previous(mrr): M(p.end) against M(p.start); NULL when M(p.start) is 0",
                examples=(
                    X("MRR 100,000 → 110,000", {"mrr": 110_000, "previous(ref('mrr'))": 100_000}, 0.10),
                    X("MRR 50,000 → 45,000", {"mrr": 45_000, "previous(ref('mrr'))": 50_000}, -0.10),
                    X("from no MRR", {"mrr": 5_000, "previous(ref('mrr'))": 0}, None))),
    ), family="revenue", notes=("previous(mrr) is the mrr of the period before, read from the data even before "
                                "--start.",)),
)
