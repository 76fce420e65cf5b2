"""The shared building blocks of the data contract over ``subscriptions``: paying
status B_c(b), the sets S, E, N, L, R, A and the MRR movements of every period.

How it stays fast: each subscription row becomes a +mrr event at ``started_at`` and a
−mrr event at ``ended_at``. An event at instant t changes B_c(b) for every boundary
b > t, so it is bucketed in the period holding t (an event exactly at p.start belongs
to p: a row starting at p.start is new in p, a row ending at p.end is lost in p+1).
Running sums per customer over their event periods give B_c at the start and end of
each period in which the customer changed; periods without a change carry their
level, so levels (|E|, M) are running sums over the period spine of per-period
deltas. Each subscription row is read once; nothing joins rows to a calendar.
Paying status is B_c > 0, as the data contract defines it: money sums are exact decimals and
mrr ≥ 0 is checked, so a balance that should be 0 is 0 on every engine (no running count
of paying rows is needed beside the balance).

A run that reads only the MRR levels (``mrr`` alone) needs no per-customer step: M(b) is the
running sum of every +mrr/−mrr event before b. ``sub_mrr_levels`` computes them so, and the
planner reads M from it when nothing else of ``sub_levels``' steps is in the run
(``Node.alternative_to``, core/node_choice.py); both give the same numbers.
"""

from __future__ import annotations

__all__ = ["NODES"]

from csframe.core.models import Measure, Node

from .subscription_windows import LEVELS_SQL, MOVEMENTS_SQL

_W = "PARTITION BY grp, customer_id ORDER BY period_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
_W_BEFORE = "PARTITION BY grp, customer_id ORDER BY period_start ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
_G = "PARTITION BY g.grp ORDER BY g.period_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"

NODES = (
    Node(
        "sub_rows",
        "non-trial subscription rows that carry time (rows with ended_at = started_at are ignored)",
        """
        SELECT grp, customer_id, started_at, ended_at, mrr
        FROM src_subscriptions
        WHERE NOT COALESCE(is_trial, FALSE) AND (ended_at IS NULL OR ended_at <> started_at)
        """,
        window="as_is",
    ),
    Node(
        "sub_customer_periods",
        "B_c at the start and end of every period in which customer c changed (+mrr at started_at, −mrr at ended_at, "
        "running sums), and first_paid_c, the customer's first start of a non-trial row with mrr > 0",
        f"""
        WITH events AS (
          SELECT r.grp, r.customer_id,
                 CASE WHEN e.is_start THEN r.started_at ELSE r.ended_at END AS t,
                 CASE WHEN e.is_start THEN r.mrr ELSE -r.mrr END AS d_mrr,
                 CASE WHEN e.is_start AND r.mrr > 0 THEN 1 ELSE 0 END AS paid_start,
                 CASE WHEN NOT e.is_start AND r.mrr > 0 THEN r.ended_at END AS paid_end_at,
                 CASE WHEN e.is_start AND r.mrr > 0 THEN r.started_at END AS paid_start_at
          FROM sub_rows AS r
          CROSS JOIN (VALUES (TRUE), (FALSE)) AS e(is_start)
          WHERE e.is_start OR r.ended_at IS NOT NULL
        ), per_period AS (
          SELECT grp, customer_id, GREATEST(BUCKET(t), :spine_start) AS period_start,
                 SUM(d_mrr) AS d_mrr,
                 MAX(paid_start) AS paid_start, MAX(paid_end_at) AS paid_end_at,
                 MIN(paid_start_at) AS paid_start_at
          FROM events
          WHERE t < :spine_end
          GROUP BY grp, customer_id, GREATEST(BUCKET(t), :spine_start)
        ), running AS (
          SELECT grp, customer_id, period_start, paid_start, d_mrr,
                 SUM(d_mrr) OVER ({_W}) AS b_end,
                 MAX(paid_end_at) OVER ({_W}) AS last_paid_end_at,
                 MAX(paid_end_at) OVER ({_W_BEFORE}) AS previous_last_paid_end_at,
                 LAG(period_start) OVER (PARTITION BY grp, customer_id ORDER BY period_start) AS previous_period_start,
                 MIN(paid_start_at) OVER (PARTITION BY grp, customer_id) AS first_paid_at
          FROM per_period
        )
        SELECT grp, customer_id, period_start, paid_start, b_end - d_mrr AS b_start, b_end,
               -- paying (1) or not (0) at p.start and at p.end: B_c > 0
               CASE WHEN b_end - d_mrr > 0 THEN 1 ELSE 0 END AS n_start, CASE WHEN b_end > 0 THEN 1 ELSE 0 END AS n_end,
               last_paid_end_at, previous_last_paid_end_at, previous_period_start, first_paid_at
        FROM running
        """,
        window="as_is",  # per grain period: sub_movements lifts it to windows
    ),
    Node(
        "sub_movements",
        "per period: the sets N, L, R and A \\ S and the MRR movements, customer by customer",
        """
        SELECT c.grp, c.period_start,
          SUM(CASE WHEN c.n_end > 0 THEN 1 ELSE 0 END - CASE WHEN c.n_start > 0 THEN 1 ELSE 0 END) AS d_customers,
          SUM(c.b_end - c.b_start) AS d_mrr,
          SUM(CASE WHEN BUCKET(c.first_paid_at) = c.period_start THEN 1 ELSE 0 END) AS new_customers,
          SUM(CASE WHEN BUCKET(c.first_paid_at) = c.period_start AND c.n_end > 0 THEN c.b_end ELSE 0 END) AS new_mrr,
          SUM(CASE WHEN c.n_start > 0 AND c.n_end = 0 THEN 1 ELSE 0 END) AS churned_customers,
          SUM(CASE WHEN c.n_start > 0 AND c.n_end = 0 THEN c.b_start ELSE 0 END) AS churned_mrr,
          SUM(CASE WHEN c.n_start = 0 AND c.n_end > 0 AND BUCKET(c.first_paid_at) < c.period_start THEN 1 ELSE 0 END)
            AS reactivated_customers,
          SUM(CASE WHEN c.n_start = 0 AND c.n_end > 0 AND BUCKET(c.first_paid_at) < c.period_start THEN c.b_end ELSE 0 END)
            AS reactivation_mrr,
          SUM(CASE WHEN c.n_start > 0 AND c.n_end > 0 AND c.b_end > c.b_start THEN c.b_end - c.b_start ELSE 0 END)
            AS expansion_mrr,
          SUM(CASE WHEN c.n_start > 0 AND c.n_end > 0 AND c.b_end < c.b_start THEN c.b_start - c.b_end ELSE 0 END)
            AS contraction_mrr,
          SUM(CASE WHEN c.n_start = 0 AND c.paid_start = 1 THEN 1 ELSE 0 END) AS active_not_at_start,
          SUM(CASE WHEN c.n_start > 0 THEN c.b_end - c.b_start ELSE 0 END) AS start_cohort_mrr_change
        FROM sub_customer_periods AS c
        GROUP BY c.grp, c.period_start
        """,
        measures=(
            Measure("new_customers", "|N|: customers whose first paid start is in p"),
            Measure("new_mrr", "Σ over N ∩ E of B_c(p.end)"),
            Measure("churned_customers", "|L| = |S \\ E|"),
            Measure("churned_mrr", "Σ over L of B_c(p.start)"),
            Measure("reactivated_customers", "|R|: paying at the end, not at the start, paid before p"),
            Measure("reactivation_mrr", "Σ over R of B_c(p.end)"),
            Measure("expansion_mrr", "Σ over S ∩ E with Δ_c > 0 of Δ_c"),
            Measure("contraction_mrr", "Σ over S ∩ E with Δ_c < 0 of −Δ_c"),
            Measure("active_not_at_start", "|A \\ S|: customers not paying at p.start with a paid row starting in p"),
            Measure("start_cohort_mrr_change", "Σ over S of B_c(p.end) − B_c(p.start)"),
        ),
        window_sql=MOVEMENTS_SQL,
    ),
    Node(
        "sub_levels",
        "|S|, |E|, M(p.start), M(p.end): running sums of the per-period changes over the spine",
        f"""
        SELECT g.grp, g.period_start,
          SUM(COALESCE(m.d_customers, 0)) OVER ({_G}) - COALESCE(m.d_customers, 0) AS customers_start,
          SUM(COALESCE(m.d_customers, 0)) OVER ({_G}) AS customers_end,
          SUM(COALESCE(m.d_mrr, 0)) OVER ({_G}) - COALESCE(m.d_mrr, 0) AS mrr_start,
          SUM(COALESCE(m.d_mrr, 0)) OVER ({_G}) AS mrr_end
        FROM grid AS g
        LEFT JOIN sub_movements AS m ON m.grp = g.grp AND m.period_start = g.period_start
        """,
        measures=(
            Measure("customers_start", "|S|: customers paying at p.start"),
            Measure("customers_end", "|E|: customers paying at p.end"),
            Measure("mrr_start", "M(p.start)"),
            Measure("mrr_end", "M(p.end)"),
        ),
        window_sql=LEVELS_SQL,
    ),
    Node(
        "sub_mrr_levels",
        "M(p.start), M(p.end) alone: running sums over the spine of the +mrr/−mrr events of each period, "
        "with no per-customer step (sub_levels' MRR, for runs that need nothing else of its steps)",
        f"""
        WITH pairs AS (
          -- the rows summed per (period of their start, period of their end; NULL: still running): a few
          -- hundred groups, then each pair is a +mrr and a −mrr event
          SELECT grp, BUCKET(started_at) AS start_period, BUCKET(ended_at) AS end_period, SUM(mrr) AS mrr
          FROM sub_rows
          GROUP BY grp, BUCKET(started_at), BUCKET(ended_at)
        ), per_period AS (
          -- each event in its period, the earlier ones in the spine's first (the later ones meet no grid row)
          SELECT p.grp, GREATEST(CASE WHEN e.is_start THEN p.start_period ELSE p.end_period END, :spine_start)
                   AS period_start,
            SUM(CASE WHEN e.is_start THEN p.mrr ELSE -p.mrr END) AS d_mrr
          FROM pairs AS p
          CROSS JOIN (VALUES (TRUE), (FALSE)) AS e(is_start)
          WHERE CASE WHEN e.is_start THEN p.start_period ELSE p.end_period END IS NOT NULL
          GROUP BY p.grp, GREATEST(CASE WHEN e.is_start THEN p.start_period ELSE p.end_period END, :spine_start)
        )
        SELECT g.grp, g.period_start,
          SUM(COALESCE(p.d_mrr, 0)) OVER ({_G}) - COALESCE(p.d_mrr, 0) AS mrr_start,
          SUM(COALESCE(p.d_mrr, 0)) OVER ({_G}) AS mrr_end
        FROM grid AS g
        LEFT JOIN per_period AS p ON p.grp = g.grp AND p.period_start = g.period_start
        """,
        measures=(
            Measure("mrr_start", "M(p.start)"),
            Measure("mrr_end", "M(p.end)"),
        ),
        alternative_to="sub_levels",  # not on windows: there sub_levels' window SQL reads M
    ),
    Node(
        "sub_observed_lifespans",
        "as of each p.end: lifespans (first paid start to last paid end, in exact seconds: decimal running sums) "
        "of customers who paid and no longer pay",
        f"""
        WITH changes AS (
          -- the customer's contribution as of this period's end, minus the one as of the end of
          -- their previous changing period (first_paid_c < P.end  ⇔  BUCKET(first_paid_c) <= P)
          SELECT grp, period_start,
            CASE WHEN n_end = 0 AND BUCKET(first_paid_at) <= period_start
                 THEN CAST(EPOCH_SECONDS(last_paid_end_at) - EPOCH_SECONDS(first_paid_at) AS DECIMAL(38, 6))
                 ELSE 0 END
            - CASE WHEN n_start = 0 AND BUCKET(first_paid_at) <= previous_period_start
                   THEN CAST(EPOCH_SECONDS(previous_last_paid_end_at) - EPOCH_SECONDS(first_paid_at) AS DECIMAL(38, 6))
                   ELSE 0 END AS d_lifespan,
            CASE WHEN n_end = 0 AND BUCKET(first_paid_at) <= period_start THEN 1 ELSE 0 END
            - CASE WHEN n_start = 0 AND BUCKET(first_paid_at) <= previous_period_start THEN 1 ELSE 0 END AS d_ended
          FROM sub_customer_periods
        ), per_period AS (
          SELECT grp, period_start, SUM(d_lifespan) AS d_lifespan, SUM(d_ended) AS d_ended
          FROM changes GROUP BY grp, period_start
        )
        SELECT g.grp, g.period_start,
          SUM(COALESCE(p.d_lifespan, 0)) OVER ({_G}) AS ended_lifespan_seconds,
          SUM(COALESCE(p.d_ended, 0)) OVER ({_G}) AS ended_customers
        FROM grid AS g
        LEFT JOIN per_period AS p ON p.grp = g.grp AND p.period_start = g.period_start
        """,
        measures=(
            Measure("ended_lifespan_seconds",
                    "Σ of the observed lifespans (seconds, exact) of customers who stopped paying by p.end"),
            Measure("ended_customers", "customers who had paid before p.end and are not paying at p.end"),
        ),
        window="as_is",  # as of p.end
    ),
)
