"""The sets S, E, N, L, R, A and the MRR movements on trailing windows (``--window``).

A window is k grain periods, keyed by its last one (the anchor; :mod:`csframe.core.windows`).
``sub_customer_periods`` has a row per customer per grain period in which B_c changed; each
such row belongs to the k windows holding its period (``window_map``): k rows per change,
never a row per event and window. Between changes B_c is constant, so in a window B_c at its
start is ``b_start`` of the customer's earliest change in it and B_c at its end ``b_end`` of
the latest; a customer without a change in the window is in neither N, L nor R and moves no
MRR. The movements then aggregate per window as they do per period. The levels at the
window's edges are the grain's levels: at the end the anchor's, at the start those k periods
earlier (LAG over the grid).
"""

from __future__ import annotations

__all__ = ["MOVEMENTS_SQL", "LEVELS_SQL"]

_G = "PARTITION BY g.grp ORDER BY g.period_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
_LAG = "PARTITION BY grp ORDER BY period_start"

MOVEMENTS_SQL = """
        WITH changes AS (
          SELECT grp, customer_id, period_start, b_start, b_end, n_start, n_end, paid_start, first_paid_at,
                 previous_period_start,
                 LEAD(period_start) OVER (PARTITION BY grp, customer_id ORDER BY period_start) AS next_period_start
          FROM sub_customer_periods
        ), lifted AS (
          -- each changing (customer, period) row in each of the k windows holding the period; it is the
          -- customer's earliest change in the window when the one before it is older than the window, its
          -- latest when the one after it is later (no sort of the k rows per change)
          SELECT c.grp, c.customer_id, m.window_period AS period_start, m.window_start, c.period_start AS changed_in,
                 c.b_start, c.b_end, c.n_start, c.n_end, c.paid_start, c.first_paid_at,
                 CASE WHEN c.previous_period_start IS NULL OR c.previous_period_start < m.window_start
                      THEN 1 ELSE 0 END AS first_change,
                 CASE WHEN c.next_period_start IS NULL OR c.next_period_start > m.window_period
                      THEN 1 ELSE 0 END AS last_change
          FROM changes AS c
          JOIN window_map AS m ON m.period_start = c.period_start
        ), per_window AS (
          -- B_c at the window's start (before its earliest change) and end (after its latest): a customer
          -- with one change in the window is that row as it is (most of them: no grouping); the others
          -- are grouped per (customer, window)
          SELECT grp, period_start, window_start, b_start, b_end, n_start, n_end, paid_start, first_paid_at,
            CASE WHEN changed_in = period_start
                 THEN CASE WHEN n_end > 0 THEN 1 ELSE 0 END - CASE WHEN n_start > 0 THEN 1 ELSE 0 END
                 ELSE 0 END AS d_customers,
            CASE WHEN changed_in = period_start THEN b_end - b_start ELSE 0 END AS d_mrr
          FROM lifted
          WHERE first_change = 1 AND last_change = 1
          UNION ALL
          SELECT grp, period_start, window_start,
            SUM(CASE WHEN first_change = 1 THEN b_start ELSE 0 END) AS b_start,
            SUM(CASE WHEN last_change = 1 THEN b_end ELSE 0 END) AS b_end,
            SUM(CASE WHEN first_change = 1 THEN n_start ELSE 0 END) AS n_start,
            SUM(CASE WHEN last_change = 1 THEN n_end ELSE 0 END) AS n_end,
            MAX(paid_start) AS paid_start, MIN(first_paid_at) AS first_paid_at,
            -- the change of the anchor period alone, for the levels (sub_levels)
            SUM(CASE WHEN changed_in = period_start
                     THEN CASE WHEN n_end > 0 THEN 1 ELSE 0 END - CASE WHEN n_start > 0 THEN 1 ELSE 0 END
                     ELSE 0 END) AS d_customers,
            SUM(CASE WHEN changed_in = period_start THEN b_end - b_start ELSE 0 END) AS d_mrr
          FROM lifted
          WHERE first_change = 0 OR last_change = 0
          GROUP BY grp, customer_id, period_start, window_start
        )
        SELECT c.grp, c.period_start,
          SUM(c.d_customers) AS d_customers,
          SUM(c.d_mrr) AS d_mrr,
          SUM(CASE WHEN BUCKET(c.first_paid_at) >= c.window_start AND BUCKET(c.first_paid_at) <= c.period_start
                   THEN 1 ELSE 0 END) AS new_customers,
          SUM(CASE WHEN BUCKET(c.first_paid_at) >= c.window_start AND BUCKET(c.first_paid_at) <= c.period_start
                    AND c.n_end > 0 THEN c.b_end ELSE 0 END) AS new_mrr,
          SUM(CASE WHEN c.n_start > 0 AND c.n_end = 0 THEN 1 ELSE 0 END) AS churned_customers,
          SUM(CASE WHEN c.n_start > 0 AND c.n_end = 0 THEN c.b_start ELSE 0 END) AS churned_mrr,
          SUM(CASE WHEN c.n_start = 0 AND c.n_end > 0 AND c.first_paid_at < c.window_start THEN 1 ELSE 0 END)
            AS reactivated_customers,
          SUM(CASE WHEN c.n_start = 0 AND c.n_end > 0 AND c.first_paid_at < c.window_start THEN c.b_end ELSE 0 END)
            AS reactivation_mrr,
          SUM(CASE WHEN c.n_start > 0 AND c.n_end > 0 AND c.b_end > c.b_start THEN c.b_end - c.b_start ELSE 0 END)
            AS expansion_mrr,
          SUM(CASE WHEN c.n_start > 0 AND c.n_end > 0 AND c.b_end < c.b_start THEN c.b_start - c.b_end ELSE 0 END)
            AS contraction_mrr,
          SUM(CASE WHEN c.n_start = 0 AND c.paid_start = 1 THEN 1 ELSE 0 END) AS active_not_at_start,
          SUM(CASE WHEN c.n_start > 0 THEN c.b_end - c.b_start ELSE 0 END) AS start_cohort_mrr_change
        FROM per_window AS c
        GROUP BY c.grp, c.period_start
        """

LEVELS_SQL = f"""
        WITH levels AS (
          SELECT g.grp, g.period_start,
            SUM(COALESCE(m.d_customers, 0)) OVER ({_G}) AS customers_end,
            SUM(COALESCE(m.d_mrr, 0)) OVER ({_G}) AS mrr_end
          FROM grid AS g
          LEFT JOIN sub_movements AS m ON m.grp = g.grp AND m.period_start = g.period_start
        )
        SELECT grp, period_start,
          LAG(customers_end, :window_periods) OVER ({_LAG}) AS customers_start,
          customers_end,
          LAG(mrr_end, :window_periods) OVER ({_LAG}) AS mrr_start,
          mrr_end
        FROM levels
        """
