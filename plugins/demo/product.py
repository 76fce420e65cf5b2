"""People and product usage: the users of each customer and their events (onboarding steps of the
admin, then logins, feature use and meetings on active days while the customer is in the product)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import attrs

from .billing import _Lifecycle
from .calendar import _DAY, _HOUR, _MINUTE, _Calendar, _ts
from .customers import _Customers
from .draws import _exp, _skip

__all__ = ["_Users", "_make_events", "_make_users"]

_USERS = ((1, 3), (2, 6), (4, 12))  # seats that log in, per segment: low, high
_ACTIVITY = ((0.15, 2.5), (0.6, 0.8), (1.0, 0.25))  # cumulative share of users, active days a week
_FEATURES = (("report_export", 0.6), ("dashboard_share", 0.4), ("alert_created", 0.3), ("api_call", 0.15))
_P_FEATURE_ON_ACTIVE_DAY = 0.35
_P_MEETING_USER = 0.2


@attrs.frozen
class _Users:
    rows: list[tuple[Any, ...]]
    by_customer: list[list[tuple[str, int]]]  # per customer: (user_id, created seconds), first = admin


def _last_active(cust: _Customers, cal: _Calendar, life: _Lifecycle, i: int) -> int:
    """When customer ``i`` was last in the product; a week after sign-up for those never in it."""
    window = life.windows[i]
    return max(b for _, b in window) if window else min(cust.created[i] + 7 * _DAY, cal.end_s)


def _make_users(cust: _Customers, cal: _Calendar, life: _Lifecycle, rng: random.Random) -> _Users:
    r = rng.random
    end_s = cal.end_s
    rows: list[tuple[Any, ...]] = []
    by_customer: list[list[tuple[str, int]]] = []
    for i, cid in enumerate(cust.ids):
        c0 = cust.created[i]
        low, high = _USERS[cust.segment[i]] if life.windows[i] else (1, 1)
        horizon = min(max(_last_active(cust, cal, life, i) - c0, _HOUR), 240 * _DAY)
        members: list[tuple[str, int]] = []
        for j in range(low + int(r() * (high - low + 1))):
            t = c0 + int(r() * 10 * _MINUTE) if j == 0 else c0 + int(r() * r() * horizon)
            if t < end_s:
                uid = f"U{len(rows) + 1:07d}"
                rows.append((uid, cid, _ts(t)))
                members.append((uid, t))
        by_customer.append(members)
    return _Users(rows, by_customer)


def _onboarding(r: Callable[[], float], created: int, in_product: bool) -> list[tuple[str, int]]:
    """The admin's onboarding: the first step, then the team and the first report (the value moment)."""
    slow = 6.0 if r() < 0.12 else 1.0
    if not in_product:  # signed up, never tried: a few connect their data, and leave
        return [("connected_data", created + _HOUR + int(_exp(r, _DAY)))] if r() < 0.3 else []
    if r() >= 0.9:
        return []
    connected = created + _HOUR + int(_exp(r, 1.5 * _DAY * slow))
    steps = [("connected_data", connected)]
    invited = connected + int(_exp(r, 3 * _DAY * slow)) if r() < 0.72 else None
    report = connected + int(_exp(r, 4 * _DAY * slow)) if r() < 0.78 else None
    if invited is not None:
        steps.append(("invited_team", invited))
    if report is not None:
        steps += [("created_report", report), ("activated", report + _MINUTE)]
        if invited is not None:
            steps.append(("onboarding_completed", max(invited, report) + 2 * _MINUTE))
    return steps


def _make_events(
    cust: _Customers, cal: _Calendar, life: _Lifecycle, users: _Users, rng: random.Random
) -> list[tuple[Any, ...]]:
    r = rng.random
    end_s = cal.end_s
    ts = _ts
    rows: list[tuple[Any, ...]] = []
    for i, cid in enumerate(cust.ids):
        members = users.by_customer[i]
        if not members:
            continue
        c0 = cust.created[i]
        window = life.windows[i]
        last = min(_last_active(cust, cal, life, i), end_s)
        admin = members[0][0]

        for name, t in _onboarding(r, c0, bool(window)):
            if t < last:
                rows.append((admin, cid, name, ts(t)))
        # everyday use: active days of each user while the customer is in the product
        for uid, created in members:
            u = r()
            rate = next(days for upto, days in _ACTIVITY if u < upto)
            log_q = math.log(1.0 - rate / 7.0)
            features = [name for name, p in _FEATURES if r() < p]
            meetings = r() < _P_MEETING_USER
            for a, b in window or ((c0, last),):
                lo, hi = max(a, created), min(b, end_s)
                if lo >= hi:
                    continue
                d = lo // _DAY + _skip(r, log_q)
                while True:
                    t = d * _DAY + 7 * _HOUR + int(r() * 12 * _HOUR)
                    if t >= hi:
                        break
                    if t >= lo:
                        rows.append((uid, cid, "login", ts(t)))
                        for name in features:
                            if r() < _P_FEATURE_ON_ACTIVE_DAY:
                                x = t + int(r() * 2 * _HOUR)
                                if x < hi:
                                    rows.append((uid, cid, name, ts(x)))
                        if meetings:
                            for _ in range(int(r() * 4)):
                                x = t + int(r() * 8 * _HOUR)
                                if x < hi:
                                    rows.append((uid, cid, "meeting", ts(x)))
                    d += 1 + _skip(r, log_q)
    return rows
