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

The modules of this package: ``dataset`` (Column, Table, Dataset and the contract's columns),
``calendar`` (time and money), ``draws`` (random draws), ``customers``, ``billing`` (subscriptions,
trials, invoices, renewals), ``product`` (users, events), ``support`` (tickets, survey responses,
knowledge-base ratings) and ``growth`` (costs, referrals); this one holds :func:`generate`.
"""

from __future__ import annotations

import datetime as _dt
import random
from collections.abc import Collection
from typing import Any

from .billing import _simulate
from .calendar import _Calendar
from .customers import _make_customers
from .dataset import COLUMN_TYPES, SCHEMAS, SOURCES, Column, Dataset, Table
from .growth import _make_costs, _make_referrals
from .product import _make_events, _make_users
from .support import _make_kb_ratings, _make_surveys, _make_tickets

__all__ = [
    "COLUMN_TYPES",
    "SCHEMAS",
    "SOURCES",
    "Column",
    "Dataset",
    "Table",
    "generate",
]


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
