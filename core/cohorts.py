"""``--by cohort``: each customer's cohort is the period (at the run's grain) holding
first_paid_c (data-contract.md), a dimension derived from ``subscriptions`` rather than a
column of ``customers``.

The compiler reads customers joined to their cohort instead of the customers scan alone
(:func:`customers_with_cohort`); customers who never paid have no cohort and belong to no
group, so they are in no row. The result keeps only periods at or after each row's cohort
(:func:`at_or_after_cohort`).
"""

from __future__ import annotations

__all__ = ["COHORT", "has_cohort", "customers_with_cohort", "at_or_after_cohort", "cohort_sources"]

from collections.abc import Callable, Sequence

import sqlglot
from sqlglot import exp

COHORT = "cohort"
_PAID_ROW = "NOT COALESCE(s.is_trial, FALSE) AND s.mrr > 0 AND (s.ended_at IS NULL OR s.ended_at <> s.started_at)"


def has_cohort(by: Sequence[str]) -> bool:
    """Whether ``--by`` names the cohort (any case)."""
    return any(d.lower() == COHORT for d in by)


def cohort_sources() -> tuple[str, ...]:
    """The sources a run with ``--by cohort`` reads besides its metrics' own."""
    return ("customers", "subscriptions")


def customers_with_cohort(customers: exp.Select, subscriptions: exp.Select, by: Sequence[str],
                          customer_columns: Sequence[str],
                          bucket: Callable[[exp.Expression], exp.Expression]) -> exp.Select:
    """The ``src_customers`` step of a ``--by cohort`` run: ``customers`` (the scan with the
    other ``--by`` dimensions, ungrouped) joined to each customer's cohort, BUCKET(first_paid_c)
    over ``subscriptions`` (the scan, ungrouped), and ``grp`` numbering the distinct values
    of the dimensions in ``by``'s order. An inner join: a customer who never paid has no cohort."""
    first_paid = (exp.select(exp.column("customer_id", table="s"),
                             exp.alias_(bucket(exp.Min(this=exp.column("started_at", table="s"))), COHORT))
                  .from_(subscriptions.subquery("s"))
                  .where(sqlglot.parse_one(_PAID_ROW))
                  .group_by(exp.column("customer_id", table="s")))
    selects: list[exp.Expression] = [exp.column(c, table="c") for c in customer_columns]
    for d in by:
        if d.lower() == COHORT:
            selects.append(exp.alias_(exp.column(COHORT, table="f"), COHORT, quoted=True))
        else:
            selects.append(exp.column(exp.to_identifier(d, quoted=True), table="c"))
    joined = exp.select(*selects).from_(customers.subquery("c")).join(
        first_paid.subquery("f"),
        on=exp.EQ(this=exp.column("customer_id", table="f"), expression=exp.column("customer_id", table="c")))
    dims = [exp.column(exp.to_identifier(COHORT if d.lower() == COHORT else d, quoted=True)) for d in by]
    rank = exp.Window(this=exp.DenseRank(), order=exp.Order(
        expressions=[exp.Ordered(this=d, nulls_first=False) for d in dims]))
    return exp.select(exp.Star(), exp.alias_(rank, "grp")).from_(joined.subquery("r"))


def at_or_after_cohort(period_start: exp.Expression, cohort: exp.Expression) -> exp.Expression:
    """The condition keeping a row of the result: its period is the cohort's or a later one."""
    return exp.GTE(this=period_start, expression=cohort)
