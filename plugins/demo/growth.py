"""Growth: the costs of acquiring and keeping customers, and the referrals paying customers make."""

from __future__ import annotations

import random
from typing import Any

from .billing import _Lifecycle
from .calendar import _DAY, _MONTH, _Calendar, _money, _ts, _ts_or_none
from .customers import _Customers
from .draws import _exp

__all__ = ["_make_costs", "_make_referrals"]

_CAC = (60_000, 400_000, 2_000_000)  # cents per new customer
_RETENTION_COST = 3_000  # cents per paying customer and month
_REFERRALS_PER_MONTH = 0.012


def _make_costs(cal: _Calendar, life: _Lifecycle, rng: random.Random) -> list[tuple[Any, ...]]:
    r = rng.random
    rows: list[tuple[int, str, int]] = []
    for m in range(cal.months):
        lo, hi = cal.starts[m], cal.starts[m + 1]
        acquisition = 200_000 + sum(n * cac for n, cac in zip(life.new_by_month[m], _CAC))
        retention = 100_000 + life.paying_at_start[m] * _RETENTION_COST
        for category, total, shares in (
            ("acquisition", acquisition, (0.5, 0.3, 0.2)),  # sales payroll, ads, events
            ("retention", retention, (0.7, 0.3)),  # CS payroll, tools
        ):
            for k, share in enumerate(shares):
                at = lo if k == 0 else lo + int(r() * (hi - lo))  # payroll on the 1st at 00:00
                rows.append((at, category, max(100, int(total * share * (0.85 + 0.3 * r())))))
    rows.sort()
    return [(_ts(t), category, _money(cents)) for t, category, cents in rows]


def _make_referrals(cust: _Customers, cal: _Calendar, life: _Lifecycle, rng: random.Random) -> list[tuple[Any, ...]]:
    r = rng.random
    end_s = cal.end_s
    made: list[tuple[int, str, int | None]] = []
    gap = _MONTH / _REFERRALS_PER_MONTH
    for i, cid in enumerate(cust.ids):
        for a, b in life.paid[i]:
            t = a + int(_exp(r, gap))
            while t < min(b, end_s):
                converted = t + int((2 + 43 * r()) * _DAY) if r() < 0.3 else None
                made.append((t, cid, converted if converted is not None and converted < end_s else None))
                t += 1 + int(_exp(r, gap))
    made.sort(key=lambda x: (x[0], x[1]))
    return [(f"RF{k:06d}", cid, _ts(t), _ts_or_none(c)) for k, (t, cid, c) in enumerate(made, 1)]
