"""Hypothesis strategies for revenue data that stresses period boundaries.

Timestamps are naive datetimes read as UTC, amounts are ``Decimal`` with two decimals (what a
``DECIMAL(18, 2)`` column holds), all within the periods of the grain that cover
:data:`RANGE_START` … :data:`RANGE_END` (18 months; :func:`periods_for` adds a spare period
either side).  About three in seven instants fall
exactly on a period boundary of the grain under test (00:00 of a day, Monday, 1st of a month,
quarter or year); the rest are one second off a boundary, midnights of other days, noon of a
boundary day, or arbitrary times of day.

``subscription_histories(grain)`` draws rows for 2–8 customers: several subscriptions each,
price changes (a row ending at the very instant the next row of the subscription starts),
gaps (churn, then reactivation), rows with ``mrr`` 0, trial rows (``is_trial`` true, some with
``mrr`` > 0), zero-length rows (``ended_at == started_at``, each under a subscription_id of its
own so that no key repeats) and open rows (``ended_at`` None).  Rows of one
``subscription_id`` never overlap.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from .revenue import GRAINS, period_bounds, shift_period

__all__ = [
    "RANGE_START",
    "RANGE_END",
    "boundaries",
    "instants",
    "amounts",
    "periods_for",
    "subscription_histories",
    "customers_of",
    "invoices_for",
    "renewals_for",
    "costs_rows",
    "customers_for",
    "revenue_data",
]

RANGE_START = datetime(2023, 1, 1)
RANGE_END = datetime(2024, 7, 1)

_SECONDS = int((RANGE_END - RANGE_START).total_seconds())
_DAYS = (RANGE_END - RANGE_START).days


def boundaries(grain: str) -> list[datetime]:
    """The period starts of ``grain`` from the one containing RANGE_START to the first ≥ RANGE_END."""
    periods = period_bounds(grain, RANGE_START, RANGE_END)
    return [s for s, _e in periods] + [periods[-1][1]]


def periods_for(grain: str) -> list[tuple[datetime, datetime]]:
    """Consecutive periods covering every instant the strategies draw, with spares either side."""
    bounds = boundaries(grain)
    return period_bounds(grain, shift_period(grain, bounds[0], -1), shift_period(grain, bounds[-1], 2))


def instants(grain: str) -> st.SearchStrategy[datetime]:
    """Instants that are often exactly on a boundary of ``grain`` and sometimes in between."""
    if grain not in GRAINS:
        raise ValueError(grain)
    bounds = boundaries(grain)
    on_boundary = st.sampled_from(bounds)
    one_second_off = st.tuples(on_boundary, st.sampled_from((-1, 1))).map(
        lambda t: t[0] + timedelta(seconds=t[1])
    )
    noon_of_boundary_day = on_boundary.map(lambda b: b + timedelta(hours=12))
    midnight = st.integers(0, _DAYS).map(lambda d: RANGE_START + timedelta(days=d))
    any_time = st.integers(0, _SECONDS).map(lambda s: RANGE_START + timedelta(seconds=s))
    return st.one_of(
        on_boundary,
        on_boundary,
        on_boundary,
        one_second_off,
        noon_of_boundary_day,
        midnight,
        any_time,
    )


def amounts(max_cents: int = 100_000, zero: bool = True) -> st.SearchStrategy[Decimal]:
    """Non-negative amounts with two decimals, often round, sometimes 0."""
    cents = st.one_of(
        st.integers(1, max_cents),
        st.sampled_from((100, 1_000, 2_500, 5_000, 9_999)),
        *([st.just(0)] if zero else []),
    )
    return cents.map(lambda c: Decimal(c).scaleb(-2))


def _customer_ids(n: int) -> list[str]:
    return [f"c{i:02d}" for i in range(1, n + 1)]


@st.composite
def _subscription_rows(draw: st.DrawFn, grain: str, customer_id: str, subscription_id: str) -> list[dict[str, Any]]:
    """Rows of one subscription: consecutive segments between distinct sorted instants.

    Each segment is a paid row, a row with mrr 0, a gap (no row: churn, then reactivation
    when a later row follows) or, as the first segment only, a trial row.  Two consecutive
    rows are a price change: the first ends at the instant the second starts.  The last row
    may stay open.
    """
    ts = sorted(set(draw(st.lists(instants(grain), min_size=1, max_size=6))))
    rows: list[dict[str, Any]] = []

    def add(start: datetime, end: datetime | None, mrr: Decimal, trial: bool | None) -> None:
        rows.append(
            {
                "subscription_id": subscription_id,
                "customer_id": customer_id,
                "started_at": start,
                "ended_at": end,
                "mrr": mrr,
                "is_trial": trial,
            }
        )

    not_trial = st.sampled_from((False, None))
    for i, (start, end) in enumerate(zip(ts, ts[1:])):
        kinds = ["paid", "paid", "paid", "zero", "gap"] + (["trial"] if i == 0 else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "paid":
            add(start, end, draw(amounts(zero=False)), draw(not_trial))
        elif kind == "zero":
            add(start, end, Decimal("0.00"), draw(not_trial))
        elif kind == "trial":
            add(start, end, draw(amounts()), True)
    # the last instant either starts an open row or ends the subscription
    if len(ts) == 1 or draw(st.booleans()):
        add(ts[-1], None, draw(amounts()), draw(not_trial))
    return rows


@st.composite
def subscription_histories(draw: st.DrawFn, grain: str = "month") -> list[dict[str, Any]]:
    """Subscription rows (canonical columns) for 2–8 customers."""
    rows: list[dict[str, Any]] = []
    for customer_id in _customer_ids(draw(st.integers(2, 8))):
        for j in range(draw(st.integers(1, 3))):
            rows += draw(_subscription_rows(grain, customer_id, f"{customer_id}-s{j}"))
        # a stray trial running beside the paid subscriptions: ignored, whatever its mrr
        if draw(st.integers(0, 4)) == 0:
            a, b = sorted(draw(st.lists(instants(grain), min_size=2, max_size=2, unique=True)))
            rows.append(
                {
                    "subscription_id": f"{customer_id}-t",
                    "customer_id": customer_id,
                    "started_at": a,
                    "ended_at": draw(st.sampled_from((b, None))),
                    "mrr": draw(amounts()),
                    "is_trial": True,
                }
            )
        # zero-length rows carry no time and are ignored everywhere
        for k in range(draw(st.integers(0, 2)) if draw(st.integers(0, 2)) == 0 else 0):
            t = draw(instants(grain))
            rows.append(
                {
                    "subscription_id": f"{customer_id}-z{k}",
                    "customer_id": customer_id,
                    "started_at": t,
                    "ended_at": t,
                    "mrr": draw(amounts(zero=False)),
                    "is_trial": draw(st.sampled_from((False, None, True))),
                }
            )
    return rows


def customers_of(subscriptions: list[dict[str, Any]]) -> list[str]:
    """The distinct customer ids of some subscription rows, sorted."""
    return sorted({r["customer_id"] for r in subscriptions})


def invoices_for(customers: list[Any], grain: str = "month") -> st.SearchStrategy[list[dict[str, Any]]]:
    """Paid invoices of the given customers, with unique ids and every ``kind`` (NULL too)."""
    if not customers:
        return st.just([])
    one = st.fixed_dictionaries(
        {
            "customer_id": st.sampled_from(list(customers)),
            "paid_at": instants(grain),
            "amount": amounts(),
            "kind": st.sampled_from((None, "subscription", "upsell", "cross_sell", "one_time")),
        }
    )
    return st.lists(one, max_size=25).map(
        lambda rows: [{"invoice_id": f"inv{i:03d}", **r} for i, r in enumerate(rows)]
    )


def _dates(grain: str) -> st.SearchStrategy[date]:
    return instants(grain).map(lambda t: t.date())


def renewals_for(customers: list[Any], grain: str = "month") -> st.SearchStrategy[list[dict[str, Any]]]:
    """Contracts reaching renewal (``due_at`` a DATE); ``renewed_value`` is 0 when not renewed."""
    if not customers:
        return st.just([])

    @st.composite
    def one(draw: st.DrawFn) -> dict[str, Any]:
        renewed = draw(st.booleans())
        return {
            "customer_id": draw(st.sampled_from(list(customers))),
            "due_at": draw(_dates(grain)),
            "value_up": draw(amounts()),
            "renewed": renewed,
            "renewed_value": draw(amounts()) if renewed else Decimal("0.00"),
        }

    return st.lists(one(), max_size=15).map(
        lambda rows: [{"contract_id": f"k{i:03d}", **r} for i, r in enumerate(rows)]
    )


def costs_rows(grain: str = "month") -> st.SearchStrategy[list[dict[str, Any]]]:
    """Cost lines (no key) of category ``acquisition`` or ``retention``; ``incurred_at`` a DATE."""
    one = st.fixed_dictionaries(
        {
            "incurred_at": _dates(grain),
            "category": st.sampled_from(("acquisition", "retention")),
            "amount": amounts(),
        }
    )
    return st.lists(one, max_size=15)


SEGMENTS = ("smb", "mid", "ent")


def customers_for(customers: list[Any], grain: str = "month", *, missing: bool = True,
                  ) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A ``customers`` row per customer, ``segment`` one of SEGMENTS or NULL; with ``missing``,
    some customers have no row at all (they belong to no ``--by`` group)."""
    segment = st.sampled_from((*SEGMENTS, None))
    present = st.sampled_from((True, True, True, False)) if missing else st.just(True)

    @st.composite
    def rows(draw: st.DrawFn) -> list[dict[str, Any]]:
        out = []
        for c in customers:
            if draw(present):
                out.append({"customer_id": c, "created_at": draw(instants(grain)), "segment": draw(segment),
                            "history": None})
        return out

    return rows()


@st.composite
def revenue_data(draw: st.DrawFn, grain: str = "month") -> dict[str, list[dict[str, Any]]]:
    """All four revenue sources at once, invoices and renewals for the same customers, and
    ``customers`` rows for them (see :func:`customers_for`)."""
    subscriptions = draw(subscription_histories(grain))
    customers = customers_of(subscriptions)
    return {
        "subscriptions": subscriptions,
        "invoices": draw(invoices_for(customers, grain)),
        "renewals": draw(renewals_for(customers, grain)),
        "costs": draw(costs_rows(grain)),
        "customers": draw(customers_for(customers, grain)),
    }
