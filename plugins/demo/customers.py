"""The customers: when they sign up (acquisition grows over the span), their segment, plan, region
and CSM."""

from __future__ import annotations

import bisect
import math
import random
from typing import Any

import attrs

from .calendar import _Calendar, _ts

__all__ = ["_SEAT_PRICE", "_Customers", "_make_customers"]

_SEGMENTS = ("smb", "mid_market", "enterprise")
_SEGMENT_CUMULATIVE = (0.62, 0.90)  # 62 % smb, 28 % mid-market, 10 % enterprise
_REGIONS = (("na", 0.44), ("emea", 0.78), ("apac", 0.93), ("latam", 0.99))  # the last 1 %: NULL
_CSMS = (
    ("scale.team.1", "scale.team.2", "scale.team.3"),
    ("ana.lopez", "ben.okafor", "chloe.martin", "david.kim"),
    ("emma.schmidt", "farid.haddad", "grace.chen"),
)
_PLANS = (("starter", "growth"), ("growth", "pro"), ("enterprise", "enterprise"))
_PLAN_SPLIT = (0.55, 0.35, 1.0)  # share of the first plan of the segment
_SEAT_PRICE = {"starter": 2_900, "growth": 4_900, "pro": 7_900, "enterprise": 9_900}  # cents per seat
_ACQUISITION_GROWTH = 4.0  # new customers in the last month / in the first


@attrs.frozen
class _Customers:
    ids: list[str]
    created: list[int]
    segment: list[int]
    plan: list[str]
    region: list[str | None]
    csm: list[str]

    def rows(self) -> list[tuple[Any, ...]]:
        segments = [_SEGMENTS[s] for s in self.segment]
        return list(zip(self.ids, map(_ts, self.created), segments, self.plan, self.region, self.csm))


def _make_customers(n: int, cal: _Calendar, rng: random.Random) -> _Customers:
    r = rng.random
    g = math.log(_ACQUISITION_GROWTH) / max(cal.months - 1, 1)
    cumulative: list[float] = []
    total = 0.0
    for m in range(cal.months):
        total += math.exp(g * m)
        cumulative.append(total)
    starts = cal.starts
    created: list[int] = []
    for _ in range(n):
        m = min(bisect.bisect_right(cumulative, r() * total), cal.months - 1)
        if r() < 0.03:  # signed exactly at 00:00 on the 1st
            created.append(starts[m])
        else:
            created.append(starts[m] + int(r() * (starts[m + 1] - starts[m])))
    created.sort()
    if created:  # the first customer signs at the very start, so that even a tiny span has activity
        created[0] = starts[0]
    ids = [f"C{i:06d}" for i in range(1, n + 1)]
    segment, plan, region, csm = [], [], [], []
    for _ in range(n):
        u = r()
        s = 0 if u < _SEGMENT_CUMULATIVE[0] else 1 if u < _SEGMENT_CUMULATIVE[1] else 2
        segment.append(s)
        plan.append(_PLANS[s][0] if r() < _PLAN_SPLIT[s] else _PLANS[s][1])
        u = r()
        region.append(next((name for name, upto in _REGIONS if u < upto), None))
        pool = _CSMS[s]
        csm.append(pool[int(r() * len(pool))])
    return _Customers(ids, created, segment, plan, region, csm)
