"""Support and satisfaction: tickets, survey responses (quarterly NPS, CSAT and CES after a ticket,
one product-market-fit survey) and knowledge-base ratings."""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from typing import Any

import attrs

from .billing import _Lifecycle
from .calendar import _DAY, _HOUR, _MINUTE, _MONTH, _Calendar, _ts, _ts_or_none
from .customers import _Customers
from .draws import _exp, _pick

__all__ = ["_Tickets", "_make_kb_ratings", "_make_surveys", "_make_tickets"]

_TICKETS_PER_MONTH = (0.25, 0.6, 1.5)
_FIRST_RESPONSE_MEAN = (8 * _HOUR, 4 * _HOUR, 2 * _HOUR)


@attrs.frozen
class _Tickets:
    rows: list[tuple[Any, ...]]
    resolved: list[tuple[int, int, bool]]  # (customer index, resolved seconds, reopened)


def _make_tickets(cust: _Customers, cal: _Calendar, life: _Lifecycle, rng: random.Random) -> _Tickets:
    r = rng.random
    end_s = cal.end_s
    rows: list[tuple[Any, ...]] = []
    resolved_tickets: list[tuple[int, int, bool]] = []
    for i, cid in enumerate(cust.ids):
        s = cust.segment[i]
        gap = _MONTH / _TICKETS_PER_MONTH[s]
        for a, b in life.windows[i]:
            t = a + int(_exp(r, gap))
            while t < min(b, end_s):
                first: int | None
                resolved: int | None
                contacts: int | None
                if r() < 0.04:  # never answered
                    first = resolved = contacts = None
                    reopened = False
                else:
                    first = t + _MINUTE + int(_exp(r, _FIRST_RESPONSE_MEAN[s]))
                    resolved = first + int(_exp(r, 30 * _HOUR)) if r() >= 0.02 else None  # 2 %: stale
                    contacts = 1 if r() < 0.6 else 2 + int(_exp(r, 1.2))
                    reopened = r() < 0.07
                    if reopened and resolved is not None:
                        contacts += 1
                        resolved += int(_exp(r, 2 * _DAY))
                    if first >= end_s:
                        first = resolved = None
                    if resolved is None or resolved >= end_s:
                        resolved = contacts = None
                        reopened = False
                rows.append(
                    (
                        f"TK{len(rows) + 1:07d}",
                        cid,
                        _ts(t),
                        _ts_or_none(first),
                        _ts_or_none(resolved),
                        contacts,
                        reopened,
                    )
                )
                if resolved is not None:
                    resolved_tickets.append((i, resolved, reopened))
                t += 1 + int(_exp(r, gap))
    return _Tickets(rows, resolved_tickets)


def _nps_score(r: Callable[[], float], mood: float) -> float:
    u = r()
    if u < 0.25 + 0.4 * mood:  # promoter
        return 10.0 if r() < 0.45 else 9.0
    if u < 0.65 + 0.25 * mood:  # passive
        return 8.0 if r() < 0.55 else 7.0
    return float(max(0, 6 - int(_exp(r, 1.4))))


_CSAT = (0.06, 0.13, 0.25, 0.55, 1.0)  # cumulative shares of 1..5
_CES = (0.03, 0.07, 0.13, 0.25, 0.5, 0.82, 1.0)  # cumulative shares of 1..7 (7 = very easy)
_PMF = (0.4, 0.8, 1.0)  # 1 very, 2 somewhat, 3 not disappointed without the product


def _make_surveys(
    cust: _Customers, cal: _Calendar, life: _Lifecycle, tickets: _Tickets, rng: random.Random
) -> list[tuple[Any, ...]]:
    r = rng.random
    end_s = cal.end_s
    answers: list[tuple[int, str, str, float]] = []
    for i, cid in enumerate(cust.ids):  # quarterly relationship NPS
        mood = r()
        for a, b in life.paid[i]:
            t = a + 30 * _DAY + int(r() * 60 * _DAY)
            while t < min(b, end_s):
                if r() < 0.3:
                    score = _nps_score(r, mood)
                    at = t + int(r() * 3 * _DAY)
                    if at < end_s:
                        answers.append((at, cid, "nps", score))
                t += 91 * _DAY
    for i, resolved, reopened in tickets.resolved:  # transactional CSAT and CES after a ticket
        u = r()
        if u < 0.5:
            survey, scale = ("csat", _CSAT) if u < 0.35 else ("ces", _CES)
            score = 1 + _pick(r, scale) - (1 if reopened and r() < 0.5 else 0)
            at = resolved + 10 * _MINUTE + int(r() * 2 * _DAY)
            if at < end_s:
                answers.append((at, cust.ids[i], survey, float(max(1, score))))
    campaign = cal.starts[max(0, cal.months - 6)]  # one product-market-fit survey
    for i, cid in enumerate(cust.ids):
        if any(a < campaign <= b for a, b in life.paid[i]) and r() < 0.1:
            at = campaign + int(r() * 20 * _DAY)
            if at < end_s:
                answers.append((at, cid, "pmf", float(1 + _pick(r, _PMF))))
    answers.sort()
    return [(f"SR{k:07d}", cid, survey, score, _ts(at)) for k, (at, cid, survey, score) in enumerate(answers, 1)]


def _make_kb_ratings(cal: _Calendar, life: _Lifecycle, rng: random.Random) -> list[tuple[Any, ...]]:
    r = rng.random
    articles = [f"KB{k:04d}" for k in range(1, 61)]
    quality = [2.3 + 2.5 * r() for _ in articles]
    popularity: list[float] = []
    total = 0.0
    for k in range(len(articles)):
        total += 1.0 / (k + 1)
        popularity.append(total)
    ratings: list[tuple[int, str, float]] = []
    for m in range(cal.months):
        lo, hi = cal.starts[m], cal.starts[m + 1]
        for _ in range(3 + int(life.paying_at_start[m] * 0.05 * (0.8 + 0.4 * r()))):
            k = min(bisect.bisect_right(popularity, r() * total), len(articles) - 1)
            noise = (r() + r() + r() - 1.5) * 1.4
            ratings.append((lo + int(r() * (hi - lo)), articles[k], float(min(5, max(1, round(quality[k] + noise))))))
    ratings.sort()
    return [(article, _ts(t), rating) for t, article, rating in ratings]
