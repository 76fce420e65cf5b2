"""Comparing csframe's revenue results with the reference, on any engine.

The engine tests (tests/engine/test_mrr_identity.py on DuckDB, one example at a time;
tests/engine/test_reference_engines.py on DuckDB, PostgreSQL and the BigQuery emulator, many
histories at once) share what is here: the canonical tables typed as the contract wants them
(money DECIMAL(18, 2), instants TIMESTAMP, due and incurred dates DATE), the reference's answer
per ``--by`` group, the MRR identity on csframe's own numbers, and the comparison.

Numbers are compared at relative 1e-9 with no absolute slack, except that an expected 0 accepts
|got| ≤ 1e-12.  Why a tolerance at all: the reference is exact (Fractions), but csframe's
``value`` column is a DOUBLE, so a value arrives rounded to a float (money sums are exact DECIMAL
in the engine, then converted once; ratios, durations in months and products such as
``arpa_x_lifespan`` take a few float roundings, ~1e-15 relative each).  1e-9 is far above that
and far below any real mistake (a cent in a million).  The MRR identity is checked on csframe's
own floats, to 1e-9 absolute: a handful of amounts of at most ~10^4 with two decimals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from . import revenue as ref

__all__ = [
    "SCHEMAS",
    "ALL_KEYS",
    "COST_KEYS",
    "SPLIT_KEYS",
    "MOVEMENTS",
    "NO_GROUP",
    "dataset",
    "same",
    "got_values",
    "reference_values",
    "first_balances",
    "identity_errors",
    "mismatches",
]

SCHEMAS: dict[str, dict[str, str]] = {
    "subscriptions": {"subscription_id": "VARCHAR", "customer_id": "VARCHAR", "started_at": "TIMESTAMP",
                      "ended_at": "TIMESTAMP", "mrr": "DECIMAL(18,2)", "is_trial": "BOOLEAN"},
    "invoices": {"invoice_id": "VARCHAR", "customer_id": "VARCHAR", "paid_at": "TIMESTAMP",
                 "amount": "DECIMAL(18,2)", "kind": "VARCHAR"},
    "renewals": {"contract_id": "VARCHAR", "customer_id": "VARCHAR", "due_at": "DATE",
                 "value_up": "DECIMAL(18,2)", "renewed": "BOOLEAN", "renewed_value": "DECIMAL(18,2)"},
    "costs": {"incurred_at": "DATE", "category": "VARCHAR", "amount": "DECIMAL(18,2)"},
    "customers": {"customer_id": "VARCHAR", "created_at": "TIMESTAMP", "segment": "VARCHAR", "history": "VARCHAR"},
}

# every variant of the "Revenue and retention" table of metrics.md, as ``metric:variant``
ALL_KEYS: tuple[str, ...] = tuple(f"{m}:{v}" for m, vs in ref.REVENUE_METRICS.items() for v in vs)
# the variants that read ``costs``, which has no customer: they cannot be computed ``--by``
COST_KEYS: tuple[str, ...] = tuple(k for k in ALL_KEYS if "costs" in ref.SOURCES[tuple(k.split(":"))])
SPLIT_KEYS: tuple[str, ...] = tuple(k for k in ALL_KEYS if k not in COST_KEYS)
MOVEMENTS = ("new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr")

# a customer with this ``segment`` has no row in ``customers``
NO_GROUP = "<no customers row>"

Group = Any  # a tuple of dimension values; () without --by


def dataset(data: Mapping[str, list[dict[str, Any]]]) -> Any:
    """The sources of ``data`` (those of SCHEMAS it has) as a csframe Dataset, columns typed."""
    from csframe.core.dataset import Column, Dataset, Table

    return Dataset(tuple(
        Table(name, tuple(Column(c, t) for c, t in SCHEMAS[name].items()),
              [tuple(r.get(c) for c in SCHEMAS[name]) for r in data[name]])
        for name in SCHEMAS if name in data))


def same(got: float | None, want: float | None) -> bool:
    if want is None or got is None:
        return got is None and want is None
    # relative 1e-9 with no absolute slack (pytest.approx would accept anything within 1e-12 of
    # a lifespan of a few seconds, 1e-7 months), unless 0 is expected
    return got == pytest.approx(want, rel=1e-9, abs=0 if want else 1e-12)


def got_values(result: Any, by: Sequence[str] = ()) -> dict[tuple[str, str, dt.date, Group], float | None]:
    """csframe's rows as ``{(metric, variant, period_start, group): value}``."""
    index = [result.columns.index(d) for d in by]
    out: dict[tuple[str, str, dt.date, Group], float | None] = {}
    for row in result.rows:
        key = (row[0], row[1], row[2], tuple(row[i] for i in index))
        assert key not in out, f"two rows for {key}"
        out[key] = row[-1]
    return out


def _groups(data: Mapping[str, list[dict[str, Any]]], by: Sequence[str]) -> dict[Group, set[Any]]:
    """--by: each distinct value (tuple) among ``customers`` and the customers that have it."""
    groups: dict[Group, set[Any]] = {}
    for c in data["customers"]:
        groups.setdefault(tuple(c[d] for d in by), set()).add(c["customer_id"])
    return groups


def reference_values(periods: Sequence[tuple[dt.datetime, dt.datetime]], grain: str,
                     data: Mapping[str, list[dict[str, Any]]], keys: Iterable[str], by: Sequence[str] = (),
                     ) -> dict[tuple[str, str, dt.date, Group], float | None]:
    """The reference's value of each key, period and ``--by`` group.

    data-contract.md: "--by DIMENSION restricts every set and every source row to the customers
    with that value; each distinct value among customers gets its rows": each group is the
    reference run on the rows of its customers alone (``costs`` has no customer; the keys that
    read it are not asked for with ``--by``)."""
    wanted = {tuple(k.split(":")) for k in keys}
    groups = _groups(data, by) if by else {(): None}
    out: dict[tuple[str, str, dt.date, Group], float | None] = {}
    for group, members in groups.items():
        def rows(source: str) -> list[dict[str, Any]] | None:
            if source not in data:
                return None
            if members is None:
                return data[source]
            assert source != "costs"
            return [r for r in data[source] if r["customer_id"] in members]

        values = ref.revenue_metrics(periods, grain, rows("subscriptions"), rows("invoices"), rows("renewals"),
                                     data.get("costs") if not by else None)
        for (metric, variant, start), value in values.items():
            if (metric, variant) in wanted:
                out[(metric, variant, start, group)] = value
    return out


def first_balances(data: Mapping[str, list[dict[str, Any]]], first: dt.datetime, by: Sequence[str] = (),
                   ) -> dict[Group, float]:
    """M(first) per ``--by`` group, from the reference: where the identity's chain of periods starts."""
    groups = _groups(data, by) if by else {(): None}
    return {g: float(ref.Ledger(r for r in data["subscriptions"] if members is None or r["customer_id"] in members)
                     .M(first)) for g, members in groups.items()}


def identity_errors(got: Mapping[tuple[str, str, dt.date, Group], float | None], m_first: Mapping[Group, float],
                    starts: Sequence[dt.date]) -> list[str]:
    """The MRR identity of data-contract.md on csframe's own numbers, period by period, group by group:
    M(p.end) = M(p.start) + new + reactivation + expansion − contraction − churned, M(p.start) being
    the ``mrr`` of p−1 (``m_first[group]``, the reference's M, for the first period); and
    ``net_new_mrr`` is that same sum.  To 1e-9 absolute: the sums are of money with two decimals,
    exact in DECIMAL; the float they come back as is off by far less."""
    errors = []
    for group, m_start in m_first.items():
        for p in starts:
            mv = {m: got[(m, "default", p, group)] for m in MOVEMENTS}
            if any(v is None for v in mv.values()):
                errors.append(f"{group} {p}: a movement is NULL: {mv}")
                continue
            flow = (mv["new_mrr"] + mv["reactivation_mrr"] + mv["expansion_mrr"] - mv["contraction_mrr"]
                    - mv["churned_mrr"])
            m_end = got[("mrr", "default", p, group)]
            if m_end is None or abs(m_end - (m_start + flow)) > 1e-9:
                errors.append(f"{group} {p}: mrr {m_end!r} != {m_start!r} + {flow!r} ({mv})")
            net_new = got[("net_new_mrr", "default", p, group)]
            if net_new is None or abs(net_new - flow) > 1e-9:
                errors.append(f"{group} {p}: net_new_mrr {net_new!r} != {flow!r}")
            m_start = m_end if m_end is not None else m_start
    return errors


def mismatches(got: Mapping[tuple[str, str, dt.date, Group], float | None],
               want: Mapping[tuple[str, str, dt.date, Group], float | None]) -> list[str]:
    """Every key where csframe and the reference differ (a key only one of them has, too)."""
    wrong = [f"{k}: csframe has no row, reference {want[k]!r}" for k in want if k not in got]
    wrong += [f"{k}: csframe {got[k]!r}, reference has no such row" for k in got if k not in want]
    wrong += [f"{k}: csframe {got[k]!r}, reference {want[k]!r}" for k in want if k in got and not same(got[k], want[k])]
    return sorted(wrong)
