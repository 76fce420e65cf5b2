"""Deterministic, realistic demo data for every canonical source of the data contract.

``generate()`` simulates a seat-based SaaS business month by month, in pure Python, and returns a
:class:`Dataset` of plain tuples: one :class:`Table` per canonical source, with the columns of
``data-contract.md`` in its order and neutral SQL types. The same arguments always give the same
rows: every random draw comes from a ``random.Random`` seeded with a string made from ``seed`` and
the table family, and only ``Random.random()`` is used (the one method Python promises to keep
stable across versions). Each family has its own stream, so ``generate(sources={"costs"})`` gives
exactly the ``costs`` rows of a full ``generate()``.

The simulation covers what real billing data has: trials (free and paid pilots) converting into
paid rows of the same subscription, free plans upgraded later, customers who never pay, seat
changes mid-period (expansion and contraction), usage-based add-ons re-rated each billing cycle,
cross-sold modules, annual contracts with renewals (uplifts, down-sells and losses), churn,
reactivations months later, and a fifth of the customers billed on the 1st at 00:00, so that
starts, price changes and churn fall exactly on month boundaries. Acquisition grows over the span.

Time runs as integer seconds since 1970-01-01 (UTC) inside; timestamps come out as naive
``datetime.datetime`` in UTC, dates as ``datetime.date``, money as ``Decimal`` with two places.
Nothing happens at or after ``end``: rows still running then have ``ended_at`` NULL.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import math
import random
from collections.abc import Callable, Collection, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

__all__ = [
    "COLUMN_TYPES",
    "SCHEMAS",
    "SOURCES",
    "Column",
    "Dataset",
    "Table",
    "generate",
]

COLUMN_TYPES: frozenset[str] = frozenset(
    {"VARCHAR", "TIMESTAMP", "DATE", "DECIMAL(18,2)", "DOUBLE", "INTEGER", "BOOLEAN"}
)


def _check_type(_instance: object, _attribute: object, value: str) -> None:
    if value not in COLUMN_TYPES:
        raise ValueError(f"unknown column type {value!r}; expected one of {sorted(COLUMN_TYPES)}")


@attrs.frozen
class Column:
    """A column of a demo table: its canonical name and a neutral SQL type."""

    name: str
    type: str = attrs.field(validator=_check_type)


@attrs.frozen
class Table:
    """One canonical source: its columns in contract order and its rows (tuples in that order)."""

    name: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


@attrs.frozen
class Dataset:
    """The generated tables, in the contract's order of sources."""

    tables: tuple[Table, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(table.name for table in self.tables)

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"no table {name!r} in this dataset; it has {', '.join(self.names) or 'none'}")

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables)


# the data contract's columns, as DDL: "name TYPE, name TYPE, ..."
_DDL = {
    "customers": "customer_id VARCHAR, created_at TIMESTAMP, segment VARCHAR, plan VARCHAR, region VARCHAR, "
    "csm VARCHAR",
    "subscriptions": "subscription_id VARCHAR, customer_id VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, "
    "mrr DECIMAL(18,2), is_trial BOOLEAN",
    "invoices": "invoice_id VARCHAR, customer_id VARCHAR, paid_at TIMESTAMP, amount DECIMAL(18,2), kind VARCHAR",
    "renewals": "contract_id VARCHAR, customer_id VARCHAR, due_at DATE, value_up DECIMAL(18,2), renewed BOOLEAN, "
    "renewed_value DECIMAL(18,2)",
    "trials": "trial_id VARCHAR, customer_id VARCHAR, started_at TIMESTAMP, converted_at TIMESTAMP",
    "users": "user_id VARCHAR, customer_id VARCHAR, created_at TIMESTAMP",
    "events": "user_id VARCHAR, customer_id VARCHAR, name VARCHAR, occurred_at TIMESTAMP",
    "survey_responses": "response_id VARCHAR, customer_id VARCHAR, survey VARCHAR, score DOUBLE, "
    "responded_at TIMESTAMP",
    "tickets": "ticket_id VARCHAR, customer_id VARCHAR, created_at TIMESTAMP, first_response_at TIMESTAMP, "
    "resolved_at TIMESTAMP, contacts INTEGER, reopened BOOLEAN",
    "costs": "incurred_at TIMESTAMP, category VARCHAR, amount DECIMAL(18,2)",
    "referrals": "referral_id VARCHAR, referrer_customer_id VARCHAR, referred_at TIMESTAMP, converted_at TIMESTAMP",
    "kb_ratings": "article_id VARCHAR, rated_at TIMESTAMP, rating DOUBLE",
}

SCHEMAS: Mapping[str, tuple[Column, ...]] = MappingProxyType(
    {name: tuple(Column(*column.split(" ")) for column in ddl.split(", ")) for name, ddl in _DDL.items()}
)
SOURCES: tuple[str, ...] = tuple(SCHEMAS)

# ---------------------------------------------------------------------------------------------
# time and money helpers

_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_MINUTE, _HOUR, _DAY = 60, 3_600, 86_400
_MONTH = 2_629_800  # 30.4375 days


def _ts(seconds: int) -> _dt.datetime:
    return _EPOCH + _dt.timedelta(seconds=seconds)


def _ts_or_none(seconds: int | None) -> _dt.datetime | None:
    return None if seconds is None else _EPOCH + _dt.timedelta(seconds=seconds)


def _date(seconds: int) -> _dt.date:
    return _dt.date.fromordinal(_EPOCH_ORDINAL + seconds // _DAY)


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _exp(r: Callable[[], float], mean: float) -> float:
    """An exponential draw from a uniform one (inversion), so only ``random()`` is used."""
    return -math.log(1.0 - r()) * mean


def _skip(r: Callable[[], float], log_q: float) -> int:
    """Failures before the next success of a Bernoulli(p) sequence, with ``log_q = log(1 - p)``."""
    return int(math.log(1.0 - r()) / log_q)


@attrs.frozen
class _Calendar:
    """Month starts (seconds) of the span: index 0 is the first month, ``months`` is ``end``."""

    months: int
    starts: tuple[int, ...]  # months + 2 entries
    days: tuple[int, ...]  # days in each month, months + 1 entries

    @classmethod
    def ending(cls, end: _dt.date, months: int) -> _Calendar:
        first = end.year * 12 + end.month - 1 - months
        dates = []
        for i in range(months + 3):
            year, month = divmod(first + i, 12)
            dates.append(_dt.date(year, month + 1, 1))
        starts = tuple((d.toordinal() - _EPOCH_ORDINAL) * _DAY for d in dates)
        days = tuple((starts[i + 1] - starts[i]) // _DAY for i in range(months + 2))
        return cls(months, starts[: months + 2], days)

    @property
    def start_s(self) -> int:
        return self.starts[0]

    @property
    def end_s(self) -> int:
        return self.starts[self.months]

    def month_of(self, seconds: int) -> int:
        return bisect.bisect_right(self.starts, seconds) - 1

    def next_month_start(self, seconds: int) -> int:
        """The first month start at or after ``seconds`` (past ``end`` when none is in the span)."""
        i = bisect.bisect_left(self.starts, seconds)
        return self.starts[i] if i < len(self.starts) else self.starts[-1] + 31 * _DAY


# ---------------------------------------------------------------------------------------------
# customers

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


# ---------------------------------------------------------------------------------------------
# the billing lifecycle: subscriptions, trials, invoices, renewals

# per segment (smb, mid_market, enterprise)
_P_TRIAL = (0.45, 0.30, 0.10)
_P_FREE = (0.05, 0.02, 0.0)
_P_NEVER = 0.06  # created, then nothing: no trial, no subscription
_P_CONVERT = 0.6
_P_ANNUAL = (0.05, 0.50, 0.95)
_P_MONTHLY_CHURN = (0.032, 0.02, 0.012)
_P_TERM_CHURN = (0.25, 0.18, 0.10)  # annual contracts, at the renewal date
_P_REACTIVATE = (0.22, 0.12, 0.05)  # after the 1st, 2nd, 3rd churn
_SEATS = ((1, 6), (5, 30), (25, 150))  # initial seats: low, high
_DISCOUNT = (0.0, 0.10, 0.25)
_USAGE_MRR = ((2_000, 8_000), (10_000, 60_000), (50_000, 300_000))  # cents
_MODULE_MRR = ((1_900, 4_900), (19_900, 49_900), (99_900, 299_900))  # cents
_P_USAGE_AT_START = (0.5, 0.65, 0.75)
_P_MODULE_ADD = (0.02, 0.03, 0.04)
_P_MODULE_CANCEL = 0.03
_P_USAGE_RERATE = 0.9
_P_USAGE_ADD = 0.04  # per billing cycle, when the customer has no usage add-on
_P_SEAT_CHANGE = (0.45, 0.15)  # per billing cycle: monthly billing, annual contract
_P_SEAT_UP = 0.62
_P_ALIGNED = 0.22  # billed on the 1st at 00:00 (changes and churn on month boundaries)
_P_ONBOARDING_FEE = (0.0, 0.4, 0.8)

_MAIN, _USAGE, _MODULE = 0, 1, 2  # kinds of subscription: seats (or a trial, a free plan), usage, module


@attrs.define
class _Running:
    """A subscription during the simulation, and the start and MRR (cents) of its current row."""

    sid: str
    kind: int
    start: int
    mrr: int


@attrs.frozen
class _Lifecycle:
    subscriptions: list[tuple[Any, ...]]
    trials: list[tuple[Any, ...]]
    invoices: list[tuple[Any, ...]]
    renewals: list[tuple[Any, ...]]
    windows: list[list[tuple[int, int]]]  # per customer: time in the product (trial, free or paid)
    paid: list[list[tuple[int, int]]]  # per customer: paying spells, [start, end)
    new_by_month: list[list[int]]  # [month][segment]: customers whose first payment falls in the month
    paying_at_start: list[int]  # [month]: customers paying at the month's start


def _simulate(
    cust: _Customers,
    cal: _Calendar,
    rng: random.Random,
    invoice_rng: random.Random,
    want_subscriptions: bool,
    want_trials: bool,
    want_invoices: bool,
    want_renewals: bool,
) -> _Lifecycle:
    r = rng.random
    ir = invoice_rng.random
    starts, days, end_s = cal.starts, cal.days, cal.end_s
    month_of = cal.month_of
    ts, money = _ts, _money
    subs: list[tuple[Any, ...]] = []
    trials: list[tuple[Any, ...]] = []
    invoices: list[tuple[Any, ...]] = []
    renewals: list[tuple[Any, ...]] = []
    windows: list[list[tuple[int, int]]] = []
    paid: list[list[tuple[int, int]]] = []
    new_by_month = [[0, 0, 0] for _ in range(cal.months)]
    diff = [0] * (cal.months + 2)
    counters = {"sub": 0, "trial": 0, "invoice": 0, "contract": 0}

    def new_id(kind: str, prefix: str, width: int) -> str:
        counters[kind] += 1
        return f"{prefix}{counters[kind]:0{width}d}"

    def close(cid: str, sub: _Running, at: int | None, trial: bool = False) -> None:
        """Write the row of ``sub`` running from its current start to ``at`` (None: still running)."""
        if want_subscriptions:
            subs.append((sub.sid, cid, ts(sub.start), None if at is None else ts(at), money(sub.mrr), trial))

    def invoice(cid: str, issued: int, cents: int, kind: str | None) -> None:
        if not want_invoices or cents <= 0:
            return
        if ir() < 0.7:
            paid_at = issued + int(ir() * 15 * _MINUTE)  # card
        else:
            paid_at = issued + int((1 + ir() * 24) * _DAY)  # bank transfer, net terms
        if kind == "subscription" and ir() < 0.03:
            kind = None  # legacy rows without a kind
        if paid_at < end_s:
            invoices.append((new_id("invoice", "I", 8), cid, ts(paid_at), money(cents), kind))

    def seat_change(seats: int) -> int:
        if r() < _P_SEAT_UP:
            return seats + 1 + int(r() * max(1.0, seats * 0.25))
        return max(1, seats - 1 - int(r() * max(1.0, seats * 0.15)))

    def spell(
        i: int, cid: str, t0: int, sid: str | None, aligned: bool, annual: bool, paid_windows: list[tuple[int, int]]
    ) -> int | None:
        """One paying spell from ``t0``; returns the churn instant, or None when still paying at end.

        ``sid`` continues a trial's or free plan's subscription; the spell is appended to
        ``paid_windows``, and the customer's first spell (an empty list) counts as new.
        """
        first = not paid_windows
        s = cust.segment[i]
        m0 = month_of(t0)
        off = t0 - starts[m0]
        day, sod = off // _DAY + 1, off % _DAY
        low, high = _SEATS[s]
        seats = low + int(r() * (high - low + 1))
        seat_price = int(_SEAT_PRICE[cust.plan[i]] * (1.0 - _DISCOUNT[s]))
        main = _Running(sid or new_id("sub", "S", 7), _MAIN, t0, seats * seat_price)
        opened = [main]
        if r() < _P_USAGE_AT_START[s]:
            lo, hi = _USAGE_MRR[s]
            opened.append(_Running(new_id("sub", "S", 7), _USAGE, t0, lo + int(r() * (hi - lo))))
        if first:
            new_by_month[m0][s] += 1
            if r() < _P_ONBOARDING_FEE[s]:
                invoice(cid, t0, (1 + int(r() * 10)) * (50_000 if s == 1 else 250_000), "one_time")
        mrr = sum(x.mrr for x in opened)
        invoice(cid, t0, 12 * mrr if annual else mrr, "subscription")
        prev, k = t0, 1
        p_seat = _P_SEAT_CHANGE[annual]
        while True:
            mk = m0 + k
            cycle = starts[mk] + (min(day, days[mk]) - 1) * _DAY + sod
            if not aligned and r() < p_seat:  # a seat change between two billing dates
                at = prev + _HOUR + int(r() * (cycle - prev - 2 * _HOUR))
                if at < end_s:
                    new_seats = seat_change(seats)
                    if new_seats != seats:
                        close(cid, main, at)
                        delta = (new_seats - seats) * seat_price
                        seats, main.start, main.mrr = new_seats, at, new_seats * seat_price
                        if delta > 0:  # prorated upsell: the rest of this cycle, or of the annual term
                            share = (cycle - at) / (cycle - prev) + (11 - (k - 1) % 12 if annual else 0)
                            invoice(cid, at, int(delta * share), "upsell")
            if cycle >= end_s:
                break
            term_end = annual and k % 12 == 0
            # annual contracts end only at a renewal date; monthly plans at any billing date
            churn = (term_end and r() < _P_TERM_CHURN[s]) if annual else r() < _P_MONTHLY_CHURN[s]
            before = sum(x.mrr for x in opened)
            if churn:
                for x in opened:
                    close(cid, x, cycle)
                if term_end and want_renewals:
                    renewals.append(
                        (new_id("contract", "K", 6), cid, _date(cycle), money(12 * before), False, money(0))
                    )
                paid_windows.append((t0, cycle))
                return cycle
            kept = []
            for x in opened:
                value = x.mrr
                if x.kind == _MAIN:
                    if aligned and r() < p_seat:
                        seats = seat_change(seats)
                    value = seats * seat_price
                    if term_end:
                        u = r()
                        if u < 0.35:  # uplift at renewal
                            seat_price = int(seat_price * (1.05 + 0.2 * r()))
                        elif u < 0.45:  # down-sell at renewal
                            seats = max(1, int(seats * (0.7 + 0.25 * r())))
                        value = seats * seat_price
                elif x.kind == _USAGE:
                    if r() < _P_USAGE_RERATE:
                        value = max(500, int(value * (0.82 + 0.42 * r())))
                elif r() < _P_MODULE_CANCEL:
                    close(cid, x, cycle)
                    continue
                if value != x.mrr:
                    close(cid, x, cycle)
                    x.start, x.mrr = cycle, value
                kept.append(x)
            opened = kept
            if r() < _P_USAGE_ADD and not any(x.kind == _USAGE for x in opened):
                lo, hi = _USAGE_MRR[s]
                opened.append(_Running(new_id("sub", "S", 7), _USAGE, cycle, lo + int(r() * (hi - lo))))
            billed = sum(x.mrr for x in opened)
            if not annual or term_end:
                invoice(cid, cycle, 12 * billed if annual else billed, "subscription")
            if r() < _P_MODULE_ADD[s] and sum(1 for x in opened if x.kind == _MODULE) < 2:
                lo, hi = _MODULE_MRR[s]
                price = (lo + int(r() * (hi - lo))) // 100 * 100
                opened.append(_Running(new_id("sub", "S", 7), _MODULE, cycle, price))
                # invoiced on its own: the first month, or the months left in the annual term
                invoice(cid, cycle, price * (12 - k % 12 if annual else 1), "cross_sell")
            if term_end and want_renewals:
                after = sum(x.mrr for x in opened)
                renewals.append(
                    (new_id("contract", "K", 6), cid, _date(cycle), money(12 * before), True, money(12 * after))
                )
            if r() < 0.01:  # professional services
                invoice(cid, cycle + int(r() * 20 * _DAY), (2 + int(r() * 20)) * 10_000, "one_time")
            prev, k = cycle, k + 1
        for x in opened:
            close(cid, x, None)
        paid_windows.append((t0, end_s))
        return None

    for i, cid in enumerate(cust.ids):
        s = cust.segment[i]
        c0 = cust.created[i]
        aligned = r() < _P_ALIGNED
        annual = r() < _P_ANNUAL[s]
        u = 1.0 if i == 0 else r()  # the first customer pays from its first day
        window: list[tuple[int, int]] = []
        paid_windows: list[tuple[int, int]] = []
        start: int | None = None  # when the first paying spell starts
        carry: str | None = None  # the subscription a trial or free plan converts on
        if u < _P_NEVER:
            pass
        elif u < _P_NEVER + _P_FREE[s]:
            t = c0 + int(r() * 10 * _MINUTE)
            upgrade = t + int((30 + r() * 200) * _DAY) if r() < 0.35 else None
            if upgrade is not None and aligned:
                upgrade = cal.next_month_start(upgrade)
            if t < end_s:
                sid = new_id("sub", "S", 7)
                free = _Running(sid, _MAIN, t, 0)  # a free plan: not a trial, and no MRR
                if upgrade is not None and upgrade < end_s:
                    close(cid, free, upgrade)
                    window.append((t, upgrade))
                    start, carry = upgrade, sid
                else:
                    close(cid, free, None)
                    window.append((t, end_s))
        elif u < _P_NEVER + _P_FREE[s] + _P_TRIAL[s]:
            t = c0 + int(r() * 2 * _HOUR)
            trial_end = cal.next_month_start(t + 10 * _DAY) if aligned else t + (14 if s == 0 else 30) * _DAY
            pilot = 0 if r() < 0.8 else (5 + int(r() * 20)) * 1_000
            converts = r() < _P_CONVERT
            late_buyer = not converts and r() < 0.1
            if t < end_s:
                sid = new_id("sub", "S", 7)
                tid = new_id("trial", "T", 6)
                trial = _Running(sid, _MAIN, t, pilot)
                invoice(cid, t, pilot, "one_time")
                if trial_end >= end_s:
                    close(cid, trial, None, trial=True)
                    converted = None
                    window.append((t, end_s))
                else:
                    close(cid, trial, trial_end, trial=True)
                    window.append((t, trial_end))
                    converted = trial_end if converts else None
                    if converts:
                        start, carry = trial_end, sid
                    elif late_buyer:
                        start = trial_end + int((20 + r() * 100) * _DAY)
                        if aligned:
                            start = cal.next_month_start(start)
                if want_trials:
                    trials.append((tid, cid, ts(t), None if converted is None else ts(converted)))
        else:
            start = cal.next_month_start(c0) if aligned else c0 + int(r() * 5 * _DAY)
        churned = (
            spell(i, cid, start, carry, aligned, annual, paid_windows) if start is not None and start < end_s else None
        )
        n_reactivations = 0
        while churned is not None and n_reactivations < len(_P_REACTIVATE):
            if r() >= _P_REACTIVATE[n_reactivations]:
                break
            again = churned + int((45 + r() * 270) * _DAY)
            if aligned:
                again = cal.next_month_start(again)
            if again >= end_s:
                break
            churned = spell(i, cid, again, None, aligned, annual, paid_windows)
            n_reactivations += 1
        for a, b in paid_windows:
            diff[bisect.bisect_right(starts, a)] += 1
            diff[min(bisect.bisect_right(starts, b), cal.months + 1)] -= 1
        window.extend(paid_windows)
        windows.append(window)
        paid.append(paid_windows)
    paying_at_start, running = [], 0
    for m in range(cal.months):
        running += diff[m]
        paying_at_start.append(running)
    return _Lifecycle(subs, trials, invoices, renewals, windows, paid, new_by_month, paying_at_start)


# ---------------------------------------------------------------------------------------------
# people and product usage: users, events

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


# ---------------------------------------------------------------------------------------------
# support and satisfaction: tickets, survey responses, knowledge-base ratings

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


def _pick(r: Callable[[], float], cumulative: tuple[float, ...]) -> int:
    u = r()
    return next((k for k, upto in enumerate(cumulative) if u < upto), len(cumulative) - 1)


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


# ---------------------------------------------------------------------------------------------
# growth: costs and referrals

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


# ---------------------------------------------------------------------------------------------
# the entry point


def _first_of_current_utc_month() -> _dt.date:
    return _dt.datetime.now(_dt.UTC).date().replace(day=1)


def generate(
    customers: int = 2000,
    months: int = 36,
    end: _dt.date | None = None,
    seed: int = 42,
    sources: Collection[str] | None = None,
) -> Dataset:
    """Simulate ``customers`` customers over the ``months`` months before ``end``.

    ``end`` is the first day of a month and is exclusive: nothing happens at or after it (default:
    the first day of the current UTC month). ``sources`` limits the tables generated (default:
    every canonical source); a table comes out the same whichever others are asked for. The same
    arguments always give the same rows.
    """
    if isinstance(customers, bool) or not isinstance(customers, int) or customers < 0:
        raise ValueError(f"customers must be an integer >= 0, not {customers!r}")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f"months must be an integer >= 1, not {months!r}")
    if end is None:
        end = _first_of_current_utc_month()
    if isinstance(end, _dt.datetime) or not isinstance(end, _dt.date) or end.day != 1:
        raise ValueError(f"end must be a datetime.date on the first day of a month, not {end!r}")
    if isinstance(sources, str):
        sources = (sources,)
    wanted = set(SOURCES) if sources is None else set(sources)
    unknown = sorted(wanted - set(SOURCES))
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(map(repr, unknown))}; known: {', '.join(SOURCES)}")

    cal = _Calendar.ending(end, months)

    def stream(name: str) -> random.Random:
        return random.Random(f"csframe.demo:{seed}:{name}")

    cust = _make_customers(customers, cal, stream("customers"))
    rows: dict[str, list[tuple[Any, ...]]] = {}
    if "customers" in wanted:
        rows["customers"] = cust.rows()
    if wanted - {"customers"}:
        life = _simulate(
            cust,
            cal,
            stream("lifecycle"),
            stream("invoices"),
            want_subscriptions="subscriptions" in wanted,
            want_trials="trials" in wanted,
            want_invoices="invoices" in wanted,
            want_renewals="renewals" in wanted,
        )
        rows["subscriptions"] = life.subscriptions
        rows["invoices"] = life.invoices
        rows["renewals"] = life.renewals
        rows["trials"] = life.trials
        if wanted & {"users", "events"}:
            users = _make_users(cust, cal, life, stream("users"))
            rows["users"] = users.rows
            if "events" in wanted:
                rows["events"] = _make_events(cust, cal, life, users, stream("events"))
        if wanted & {"tickets", "survey_responses"}:
            tickets = _make_tickets(cust, cal, life, stream("tickets"))
            rows["tickets"] = tickets.rows
            if "survey_responses" in wanted:
                rows["survey_responses"] = _make_surveys(cust, cal, life, tickets, stream("surveys"))
        if "costs" in wanted:
            rows["costs"] = _make_costs(cal, life, stream("costs"))
        if "referrals" in wanted:
            rows["referrals"] = _make_referrals(cust, cal, life, stream("referrals"))
        if "kb_ratings" in wanted:
            rows["kb_ratings"] = _make_kb_ratings(cal, life, stream("kb_ratings"))
    return Dataset(tuple(Table(name, SCHEMAS[name], rows[name]) for name in SOURCES if name in wanted))
