"""Cohort metrics (issue 13): computed with ``--by cohort``, where each group is one cohort
N_c — the customers whose first_paid_c falls in the cohort period c — and each row one
period p at or after c (age 0 is c itself). Registered by :mod:`.revenue`'s hook.

Σ_{N_c} B(c.end) needs no period spine: a row runs at c.end exactly when
BUCKET(started_at) ≤ c and (ended_at is NULL or BUCKET(ended_at) > c), since
started_at < c.end ⇔ BUCKET(started_at) ≤ c and ended_at ≥ c.end ⇔ BUCKET(ended_at) > c.
"""

from __future__ import annotations

__all__ = ["NODES", "METRICS"]

from csframe.core.models import Example as X
from csframe.core.models import Measure, Metric, Node, Variant

NODES = (
    Node(
        "cohort_levels",
        "per cohort group: |N_c|, Σ_{N_c} B(c.end) at the end of the cohort period, and per period |N_c ∩ E| "
        "and Σ_{N_c} B(p.end)",
        """
        WITH paid AS (
          SELECT grp, customer_id, BUCKET(MIN(started_at)) AS cohort_start
          FROM sub_rows
          WHERE mrr > 0
          GROUP BY grp, customer_id
        ), at_cohort_end AS (
          SELECT p.grp, p.customer_id, SUM(r.mrr) AS b_cohort_end
          FROM paid AS p
          JOIN sub_rows AS r ON r.grp = p.grp AND r.customer_id = p.customer_id
          WHERE BUCKET(r.started_at) <= p.cohort_start
            AND (r.ended_at IS NULL OR BUCKET(r.ended_at) > p.cohort_start)
          GROUP BY p.grp, p.customer_id
        ), per_group AS (
          SELECT p.grp, COUNT(*) AS cohort_size, SUM(COALESCE(e.b_cohort_end, 0)) AS cohort_start_mrr
          FROM paid AS p
          LEFT JOIN at_cohort_end AS e ON e.grp = p.grp AND e.customer_id = p.customer_id
          GROUP BY p.grp
        )
        SELECT l.grp, l.period_start, l.customers_end AS cohort_customers,
          COALESCE(g.cohort_size, 0) AS cohort_size, l.mrr_end AS cohort_mrr,
          COALESCE(g.cohort_start_mrr, 0) AS cohort_start_mrr
        FROM sub_levels AS l
        LEFT JOIN per_group AS g ON g.grp = l.grp
        """,
        measures=(
            Measure("cohort_customers", "|N_c ∩ E|: customers of the cohort paying at p.end"),
            Measure("cohort_size", "|N_c|: customers whose first_paid_c is in the cohort period c"),
            Measure("cohort_mrr", "Σ over N_c of B_c(p.end)"),
            Measure("cohort_start_mrr", "Σ over N_c of B_c(c.end), c.end = the end of the cohort period"),
        ),
        needs_by="cohort",
    ),
)

_NOTE = "Needs --by cohort (a usage error without it): each group is one cohort N_c, each row a period p ≥ c."


def _cohort(name: str, unit: str, description: str, formula: str, examples: tuple[X, ...] = ()) -> Metric:
    return Metric(name, unit, description, (Variant("default", formula, ("industry",), description,
                                                    examples=examples),),
                  family="revenue", notes=(_NOTE,))


METRICS: tuple[Metric, ...] = (
    _cohort("cohort_customers", "count", "|N_c ∩ E|: customers of cohort c paying at p.end", "cohort_customers", (
        X("100 joined in January, 80 still paying at the end of April", {"cohort_customers": 80}, 80),)),
    _cohort("cohort_size", "count", "|N_c|: customers whose first paid start is in cohort period c", "cohort_size", (
        X("100 customers first paid in January", {"cohort_size": 100}, 100),)),
    _cohort("logo_retention", "share", "|N_c ∩ E| / |N_c|: the share of cohort c still paying at p.end",
            "cohort_customers / cohort_size", (
                X("80 of 100 still paying", {"cohort_customers": 80, "cohort_size": 100}, 0.80),
                X("an empty cohort", {"cohort_customers": 0, "cohort_size": 0}, None))),
    _cohort("revenue_retention", "share",
            "Σ_{N_c} B(p.end) / Σ_{N_c} B(c.end): cohort c's MRR now over its MRR at the end of its own period; "
            "NULL when that is 0", "cohort_mrr / cohort_start_mrr", (
                X("MRR 10,000 at the end of January, 11,000 in April", {"cohort_mrr": 11_000,
                                                                       "cohort_start_mrr": 10_000}, 1.10),
                X("no MRR at the cohort's end", {"cohort_mrr": 50, "cohort_start_mrr": 0}, None))),
)
