"""The billing lifecycle: subscriptions, trials, invoices and renewals of every customer.

:func:`_simulate` takes the customers one by one (:meth:`_Simulation.customer`): how each starts
(never, on a free plan, on a trial or paid pilot, or paying at once), its paying spells
(:meth:`_Simulation.spell`: from one billing date to the next until it churns) and its
reactivations. Invoices draw from a stream of their own, so the other tables come out the same
whether invoices are asked for or not.
"""

from __future__ import annotations

import bisect
import random
from typing import Any

import attrs

from .calendar import _DAY, _HOUR, _MINUTE, _Calendar, _date, _money, _ts
from .customers import _SEAT_PRICE, _Customers

__all__ = ["_Lifecycle", "_simulate"]

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


@attrs.define
class _Spell:
    """A paying spell during the simulation: its customer, billing date, seats and running subscriptions."""

    i: int  # the customer's index
    cid: str
    segment: int
    annual: bool
    aligned: bool
    m0: int  # the month the spell starts in; billing dates fall on its day and second of day
    day: int
    sod: int
    seats: int
    seat_price: int  # cents per seat, after the segment's discount
    main: _Running  # the seats subscription (also in ``opened``)
    opened: list[_Running]  # every subscription running now
    prev: int  # the last billing date
    k: int = 1  # the number of the coming billing date: 1 is a month after the start


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


class _Simulation:
    """One run of the billing lifecycle: the ids handed out so far and the rows written so far."""

    def __init__(
        self,
        cust: _Customers,
        cal: _Calendar,
        rng: random.Random,
        invoice_rng: random.Random,
        want_subscriptions: bool,
        want_trials: bool,
        want_invoices: bool,
        want_renewals: bool,
    ) -> None:
        self.cust = cust
        self.cal = cal
        self.r = rng.random
        self.ir = invoice_rng.random
        self.want_subscriptions = want_subscriptions
        self.want_trials = want_trials
        self.want_invoices = want_invoices
        self.want_renewals = want_renewals
        self.subs: list[tuple[Any, ...]] = []
        self.trials: list[tuple[Any, ...]] = []
        self.invoices: list[tuple[Any, ...]] = []
        self.renewals: list[tuple[Any, ...]] = []
        self.windows: list[list[tuple[int, int]]] = []
        self.paid: list[list[tuple[int, int]]] = []
        self.new_by_month = [[0, 0, 0] for _ in range(cal.months)]
        self.diff = [0] * (cal.months + 2)
        self.counters = {"sub": 0, "trial": 0, "invoice": 0, "contract": 0}

    # -- rows ----------------------------------------------------------------------------------

    def new_id(self, kind: str, prefix: str, width: int) -> str:
        self.counters[kind] += 1
        return f"{prefix}{self.counters[kind]:0{width}d}"

    def close(self, cid: str, sub: _Running, at: int | None, trial: bool = False) -> None:
        """Write the row of ``sub`` running from its current start to ``at`` (None: still running)."""
        if self.want_subscriptions:
            self.subs.append((sub.sid, cid, _ts(sub.start), None if at is None else _ts(at), _money(sub.mrr), trial))

    def invoice(self, cid: str, issued: int, cents: int, kind: str | None) -> None:
        if not self.want_invoices or cents <= 0:
            return
        ir = self.ir
        if ir() < 0.7:
            paid_at = issued + int(ir() * 15 * _MINUTE)  # card
        else:
            paid_at = issued + int((1 + ir() * 24) * _DAY)  # bank transfer, net terms
        if kind == "subscription" and ir() < 0.03:
            kind = None  # legacy rows without a kind
        if paid_at < self.cal.end_s:
            self.invoices.append((self.new_id("invoice", "I", 8), cid, _ts(paid_at), _money(cents), kind))

    def renewal(self, cid: str, due: int, before: int, after: int | None) -> None:
        """The row of an annual contract due at ``due`` of ``before`` MRR: renewed at ``after``, or lost (None)."""
        if after is None:
            row = (self.new_id("contract", "K", 6), cid, _date(due), _money(12 * before), False, _money(0))
        else:
            row = (self.new_id("contract", "K", 6), cid, _date(due), _money(12 * before), True, _money(12 * after))
        self.renewals.append(row)

    # -- one customer --------------------------------------------------------------------------

    def customer(self, i: int, cid: str) -> None:
        """Customer ``i`` from sign-up to ``end``: how it starts, its paying spells, its reactivations."""
        r, cal, end_s = self.r, self.cal, self.cal.end_s
        s = self.cust.segment[i]
        c0 = self.cust.created[i]
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
            start, carry = self.free_plan(cid, c0, aligned, window)
        elif u < _P_NEVER + _P_FREE[s] + _P_TRIAL[s]:
            start, carry = self.trial(cid, c0, s, aligned, window)
        else:
            start = cal.next_month_start(c0) if aligned else c0 + int(r() * 5 * _DAY)
        churned = (
            self.spell(i, cid, start, carry, aligned, annual, paid_windows)
            if start is not None and start < end_s
            else None
        )
        self.reactivations(i, cid, churned, aligned, annual, paid_windows)
        starts, diff = cal.starts, self.diff
        for a, b in paid_windows:
            diff[bisect.bisect_right(starts, a)] += 1
            diff[min(bisect.bisect_right(starts, b), cal.months + 1)] -= 1
        window.extend(paid_windows)
        self.windows.append(window)
        self.paid.append(paid_windows)

    def free_plan(
        self, cid: str, c0: int, aligned: bool, window: list[tuple[int, int]]
    ) -> tuple[int | None, str | None]:
        """A free plan from sign-up, which some upgrade later: (start, subscription) of the upgrade, if any."""
        r, cal, end_s = self.r, self.cal, self.cal.end_s
        t = c0 + int(r() * 10 * _MINUTE)
        upgrade = t + int((30 + r() * 200) * _DAY) if r() < 0.35 else None
        if upgrade is not None and aligned:
            upgrade = cal.next_month_start(upgrade)
        if t < end_s:
            sid = self.new_id("sub", "S", 7)
            free = _Running(sid, _MAIN, t, 0)  # a free plan: not a trial, and no MRR
            if upgrade is not None and upgrade < end_s:
                self.close(cid, free, upgrade)
                window.append((t, upgrade))
                return upgrade, sid
            self.close(cid, free, None)
            window.append((t, end_s))
        return None, None

    def trial(
        self, cid: str, c0: int, s: int, aligned: bool, window: list[tuple[int, int]]
    ) -> tuple[int | None, str | None]:
        """A trial (or a paid pilot) from sign-up: (start, subscription) of the paying spell after it, if any.

        A converted trial goes on paying in the same subscription; a late buyer pays months later.
        """
        r, cal, end_s = self.r, self.cal, self.cal.end_s
        start: int | None = None
        carry: str | None = None
        t = c0 + int(r() * 2 * _HOUR)
        trial_end = cal.next_month_start(t + 10 * _DAY) if aligned else t + (14 if s == 0 else 30) * _DAY
        pilot = 0 if r() < 0.8 else (5 + int(r() * 20)) * 1_000
        converts = r() < _P_CONVERT
        late_buyer = not converts and r() < 0.1
        if t < end_s:
            sid = self.new_id("sub", "S", 7)
            tid = self.new_id("trial", "T", 6)
            trial = _Running(sid, _MAIN, t, pilot)
            self.invoice(cid, t, pilot, "one_time")
            if trial_end >= end_s:
                self.close(cid, trial, None, trial=True)
                converted = None
                window.append((t, end_s))
            else:
                self.close(cid, trial, trial_end, trial=True)
                window.append((t, trial_end))
                converted = trial_end if converts else None
                if converts:
                    start, carry = trial_end, sid
                elif late_buyer:
                    start = trial_end + int((20 + r() * 100) * _DAY)
                    if aligned:
                        start = cal.next_month_start(start)
            if self.want_trials:
                self.trials.append((tid, cid, _ts(t), None if converted is None else _ts(converted)))
        return start, carry

    def reactivations(
        self, i: int, cid: str, churned: int | None, aligned: bool, annual: bool, paid_windows: list[tuple[int, int]]
    ) -> None:
        """Up to three returns after churn (each less likely than the last), each a new paying spell."""
        r, cal, end_s = self.r, self.cal, self.cal.end_s
        n_reactivations = 0
        while churned is not None and n_reactivations < len(_P_REACTIVATE):
            if r() >= _P_REACTIVATE[n_reactivations]:
                break
            again = churned + int((45 + r() * 270) * _DAY)
            if aligned:
                again = cal.next_month_start(again)
            if again >= end_s:
                break
            churned = self.spell(i, cid, again, None, aligned, annual, paid_windows)
            n_reactivations += 1

    # -- one paying spell ----------------------------------------------------------------------

    def spell(
        self,
        i: int,
        cid: str,
        t0: int,
        sid: str | None,
        aligned: bool,
        annual: bool,
        paid_windows: list[tuple[int, int]],
    ) -> int | None:
        """One paying spell from ``t0``; returns the churn instant, or None when still paying at end.

        ``sid`` continues a trial's or free plan's subscription; the spell is appended to
        ``paid_windows``, and the customer's first spell (an empty list) counts as new.
        """
        r, starts, days, end_s = self.r, self.cal.starts, self.cal.days, self.cal.end_s
        sp = self.open_spell(i, cid, t0, sid, aligned, annual, first=not paid_windows)
        s = sp.segment
        p_seat = _P_SEAT_CHANGE[annual]
        while True:
            mk = sp.m0 + sp.k
            cycle = starts[mk] + (min(sp.day, days[mk]) - 1) * _DAY + sp.sod
            if not aligned and r() < p_seat:  # a seat change between two billing dates
                self.change_seats_within(sp, cycle)
            if cycle >= end_s:
                break
            term_end = annual and sp.k % 12 == 0
            # annual contracts end only at a renewal date; monthly plans at any billing date
            churn = (term_end and r() < _P_TERM_CHURN[s]) if annual else r() < _P_MONTHLY_CHURN[s]
            before = sum(x.mrr for x in sp.opened)
            if churn:
                for x in sp.opened:
                    self.close(cid, x, cycle)
                if term_end and self.want_renewals:
                    self.renewal(cid, cycle, before, None)
                paid_windows.append((t0, cycle))
                return cycle
            self.rerate(sp, cycle, term_end)
            self.bill(sp, cycle, term_end, before)
            sp.prev, sp.k = cycle, sp.k + 1
        for x in sp.opened:
            self.close(cid, x, None)
        paid_windows.append((t0, end_s))
        return None

    def open_spell(
        self, i: int, cid: str, t0: int, sid: str | None, aligned: bool, annual: bool, first: bool
    ) -> _Spell:
        """The subscriptions a paying spell starts with at ``t0`` (seats, maybe usage), and its first invoices."""
        r, cust = self.r, self.cust
        s = cust.segment[i]
        m0 = self.cal.month_of(t0)
        off = t0 - self.cal.starts[m0]
        day, sod = off // _DAY + 1, off % _DAY
        low, high = _SEATS[s]
        seats = low + int(r() * (high - low + 1))
        seat_price = int(_SEAT_PRICE[cust.plan[i]] * (1.0 - _DISCOUNT[s]))
        main = _Running(sid or self.new_id("sub", "S", 7), _MAIN, t0, seats * seat_price)
        opened = [main]
        if r() < _P_USAGE_AT_START[s]:
            lo, hi = _USAGE_MRR[s]
            opened.append(_Running(self.new_id("sub", "S", 7), _USAGE, t0, lo + int(r() * (hi - lo))))
        if first:
            self.new_by_month[m0][s] += 1
            if r() < _P_ONBOARDING_FEE[s]:
                self.invoice(cid, t0, (1 + int(r() * 10)) * (50_000 if s == 1 else 250_000), "one_time")
        mrr = sum(x.mrr for x in opened)
        self.invoice(cid, t0, 12 * mrr if annual else mrr, "subscription")
        return _Spell(i, cid, s, annual, aligned, m0, day, sod, seats, seat_price, main, opened, prev=t0)

    def seat_change(self, seats: int) -> int:
        r = self.r
        if r() < _P_SEAT_UP:
            return seats + 1 + int(r() * max(1.0, seats * 0.25))
        return max(1, seats - 1 - int(r() * max(1.0, seats * 0.15)))

    def change_seats_within(self, sp: _Spell, cycle: int) -> None:
        """Seats changed between the last billing date and ``cycle``: a new row of the seats
        subscription, and a prorated invoice for seats added."""
        at = sp.prev + _HOUR + int(self.r() * (cycle - sp.prev - 2 * _HOUR))
        if at >= self.cal.end_s:
            return
        new_seats = self.seat_change(sp.seats)
        if new_seats == sp.seats:
            return
        main = sp.main
        self.close(sp.cid, main, at)
        delta = (new_seats - sp.seats) * sp.seat_price
        sp.seats, main.start, main.mrr = new_seats, at, new_seats * sp.seat_price
        if delta > 0:  # prorated upsell: the rest of this cycle, or of the annual term
            share = (cycle - at) / (cycle - sp.prev) + (11 - (sp.k - 1) % 12 if sp.annual else 0)
            self.invoice(sp.cid, at, int(delta * share), "upsell")

    def rerate(self, sp: _Spell, cycle: int, term_end: bool) -> None:
        """At the billing date ``cycle``: seats changed (billed on the 1st) or re-priced at a renewal,
        usage re-rated, modules cancelled. A subscription whose MRR changes gets a new row."""
        r = self.r
        p_seat = _P_SEAT_CHANGE[sp.annual]
        kept = []
        for x in sp.opened:
            value = x.mrr
            if x.kind == _MAIN:
                if sp.aligned and r() < p_seat:
                    sp.seats = self.seat_change(sp.seats)
                value = sp.seats * sp.seat_price
                if term_end:
                    u = r()
                    if u < 0.35:  # uplift at renewal
                        sp.seat_price = int(sp.seat_price * (1.05 + 0.2 * r()))
                    elif u < 0.45:  # down-sell at renewal
                        sp.seats = max(1, int(sp.seats * (0.7 + 0.25 * r())))
                    value = sp.seats * sp.seat_price
            elif x.kind == _USAGE:
                if r() < _P_USAGE_RERATE:
                    value = max(500, int(value * (0.82 + 0.42 * r())))
            elif r() < _P_MODULE_CANCEL:
                self.close(sp.cid, x, cycle)
                continue
            if value != x.mrr:
                self.close(sp.cid, x, cycle)
                x.start, x.mrr = cycle, value
            kept.append(x)
        sp.opened = kept

    def bill(self, sp: _Spell, cycle: int, term_end: bool, before: int) -> None:
        """The rest of the billing date ``cycle``: a usage add-on taken, the cycle's (or the term's)
        invoice, a module cross-sold, the renewal's row, professional services."""
        r, cid, s, annual = self.r, sp.cid, sp.segment, sp.annual
        opened = sp.opened
        if r() < _P_USAGE_ADD and not any(x.kind == _USAGE for x in opened):
            lo, hi = _USAGE_MRR[s]
            opened.append(_Running(self.new_id("sub", "S", 7), _USAGE, cycle, lo + int(r() * (hi - lo))))
        billed = sum(x.mrr for x in opened)
        if not annual or term_end:
            self.invoice(cid, cycle, 12 * billed if annual else billed, "subscription")
        if r() < _P_MODULE_ADD[s] and sum(1 for x in opened if x.kind == _MODULE) < 2:
            lo, hi = _MODULE_MRR[s]
            price = (lo + int(r() * (hi - lo))) // 100 * 100
            opened.append(_Running(self.new_id("sub", "S", 7), _MODULE, cycle, price))
            # invoiced on its own: the first month, or the months left in the annual term
            self.invoice(cid, cycle, price * (12 - sp.k % 12 if annual else 1), "cross_sell")
        if term_end and self.want_renewals:
            self.renewal(cid, cycle, before, sum(x.mrr for x in opened))
        if r() < 0.01:  # professional services
            self.invoice(cid, cycle + int(r() * 20 * _DAY), (2 + int(r() * 20)) * 10_000, "one_time")

    # -- the result ----------------------------------------------------------------------------

    def lifecycle(self) -> _Lifecycle:
        paying_at_start, running = [], 0
        for m in range(self.cal.months):
            running += self.diff[m]
            paying_at_start.append(running)
        return _Lifecycle(
            self.subs,
            self.trials,
            self.invoices,
            self.renewals,
            self.windows,
            self.paid,
            self.new_by_month,
            paying_at_start,
        )


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
    sim = _Simulation(
        cust, cal, rng, invoice_rng, want_subscriptions, want_trials, want_invoices, want_renewals
    )
    for i, cid in enumerate(cust.ids):
        sim.customer(i, cid)
    return sim.lifecycle()
