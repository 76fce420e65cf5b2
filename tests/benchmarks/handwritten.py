"""A hand-written, single-pass DuckDB query for the whole revenue catalog.

This is the benchmark baseline: the SQL an expert would write by hand for the "Revenue and
retention" metrics of ``metrics.md`` at the monthly grain, straight from
``data-contract.md`` and written without looking at how csframe compiles its definitions.
The benchmark times csframe's generated SQL against it, and ``test_handwritten.py`` checks
its numbers against small datasets worked out by hand.

How it is built (every source is read once, nothing is joined row x month):

* Months are integers ``k = year * 12 + month - 1``; boundary ``k`` is the instant
  ``k``-th month, 1st, 00:00 (so period ``p = k`` runs from boundary ``k`` to ``k + 1``).
* A subscription row counts in ``B_c(b)`` for the boundaries ``b`` with
  ``started_at < b <= ended_at``, i.e. from ``month(started_at) + 1`` up to
  ``month(ended_at)`` inclusive (a row starting on the 1st at 00:00 first counts at the next
  1st; a row ending on the 1st at 00:00 still counts at that 1st).  So every row becomes a
  ``+mrr`` event at boundary ``month(started_at) + 1`` and, if it ends, a ``-mrr`` event at
  boundary ``month(ended_at) + 1``.
* Events are summed per (customer, boundary) and a running sum per customer gives
  ``B_c`` at that boundary (``bal``) and, by subtracting the boundary's own delta, at the
  previous month boundary (``prev_bal``) -- between two event boundaries ``B_c`` is constant.
  Each (customer, boundary) row is then classified for the period ending at that boundary:
  lost (``prev_bal > 0, bal = 0``), new or reactivated (``prev_bal = 0, bal > 0``, split by
  ``first_paid_c``), expansion / contraction (both > 0); customers without an event at a
  boundary have ``Delta_c = 0`` and move nothing.
* Levels (``M``, ``|E|``, the "observed" lifespan population and its summed lifespans, the
  cumulative invoice figures) are running sums of per-boundary deltas over a tiny spine of
  month boundaries.  Everything before the reported range is folded into the first spine
  boundary (``start`` - 1 month), so the spine has ``#months + 2`` rows whatever the history.
* Money is summed as exact DECIMAL; timestamps are compared as integer microseconds; values
  are cast to DOUBLE only in the final ratios.
"""

from __future__ import annotations

import datetime

# Parameters: $start and $end (DATE).  Periods reported: months with start >= $start
# (rounded down to the 1st) and start < $end.
HANDWRITTEN_SQL = r"""
WITH
params AS (
    SELECT
        year(CAST($start AS DATE)) * 12 + month(CAST($start AS DATE)) - 1          AS ks,  -- first reported month
        year(CAST($end AS DATE) - 1) * 12 + month(CAST($end AS DATE) - 1)          AS ke   -- boundary ending the last one
),

-- ---------------------------------------------------------------- subscriptions (one scan)
-- One +mrr event where a row starts counting and one -mrr event where it stops, each at a
-- month boundary b (= month index + 1).  Trials and zero-length rows are ignored.
sub_events AS (
    SELECT
        s.customer_id,
        CASE WHEN e.is_start THEN year(s.started_at) * 12 + month(s.started_at)
             ELSE year(s.ended_at) * 12 + month(s.ended_at) END                      AS b,
        CASE WHEN e.is_start THEN s.mrr ELSE -s.mrr END                               AS d,
        CASE WHEN e.is_start AND s.mrr > 0 THEN epoch_us(s.started_at) END            AS paid_start_us,
        CASE WHEN e.is_start AND s.mrr > 0
             THEN coalesce(epoch_us(s.ended_at), 9223372036854775807) END             AS paid_end_us
    FROM subscriptions AS s
    CROSS JOIN (VALUES (true), (false)) AS e(is_start)
    WHERE NOT coalesce(s.is_trial, false)
      AND (s.ended_at IS NULL OR s.ended_at > s.started_at)
      AND (e.is_start OR s.ended_at IS NOT NULL)
),

-- One row per customer and boundary where something happens (nothing after the range).
cust_bnd AS (
    SELECT customer_id, b,
           sum(d)             AS d,
           min(paid_start_us) AS paid_start_us,   -- earliest paying row starting in month b-1
           max(paid_end_us)   AS paid_end_us      -- latest end of those rows
    FROM sub_events, params
    WHERE b <= ke
    GROUP BY customer_id, b
),

cust_run AS (
    SELECT customer_id, b, d, paid_start_us,
           sum(d)             OVER w_run AS bal,             -- B_c(b)
           max(paid_end_us)   OVER w_run AS last_end_us,     -- latest end of paying rows started < b
           max(paid_end_us)   OVER w_prev AS prev_last_end_us,
           lag(b)             OVER w_run AS prev_b,
           min(paid_start_us) OVER w_all AS first_paid_us,   -- first_paid_c
           min(CASE WHEN paid_start_us IS NOT NULL THEN b END) OVER w_all AS first_paid_b  -- month(first_paid_c) + 1
    FROM cust_bnd
    WINDOW w_run  AS (PARTITION BY customer_id ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           w_prev AS (PARTITION BY customer_id ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
           w_all  AS (PARTITION BY customer_id ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),

cust_state AS (
    SELECT *,
           bal - d AS prev_bal,                                                      -- B_c(b - 1 month)
           -- "observed" lifespan population at b: paid once before b, not paying at b
           coalesce(bal = 0 AND first_paid_b <= b, false)                           AS in_obs,
           coalesce(bal - d = 0 AND first_paid_b <= prev_b, false)                  AS prev_in_obs
    FROM cust_run
),

-- Per boundary b (= p.end of the month p = b - 1): the movements of p and the deltas of the
-- levels.  Boundaries before the range are folded into ks - 1 (only their level deltas are used).
sub_agg AS (
    SELECT greatest(b, ks - 1) AS bnd,
           sum(d)                                                                     AS d_mrr,
           sum(CAST(bal > 0 AS INTEGER) - CAST(prev_bal > 0 AS INTEGER))              AS d_customers,
           sum(CAST(in_obs AS INTEGER) - CAST(prev_in_obs AS INTEGER))                AS d_obs_n,
           sum(CASE WHEN in_obs THEN last_end_us - first_paid_us ELSE 0 END
             - CASE WHEN prev_in_obs THEN prev_last_end_us - first_paid_us ELSE 0 END) AS d_obs_us,
           count(*)    FILTER (WHERE first_paid_b = b)                                AS n_new,
           count(*)    FILTER (WHERE prev_bal > 0 AND bal = 0)                        AS n_lost,
           count(*)    FILTER (WHERE prev_bal = 0 AND bal > 0 AND first_paid_b < b)   AS n_reactivated,
           count(*)    FILTER (WHERE prev_bal = 0 AND paid_start_us IS NOT NULL)      AS n_active_not_start,
           sum(bal)    FILTER (WHERE prev_bal = 0 AND bal > 0 AND first_paid_b = b)   AS new_mrr,
           sum(bal)    FILTER (WHERE prev_bal = 0 AND bal > 0 AND first_paid_b < b)   AS reactivation_mrr,
           sum(d)      FILTER (WHERE prev_bal > 0 AND bal > 0 AND d > 0)              AS expansion_mrr,
           sum(-d)     FILTER (WHERE prev_bal > 0 AND bal > 0 AND d < 0)              AS contraction_mrr,
           sum(prev_bal) FILTER (WHERE prev_bal > 0 AND bal = 0)                      AS churned_mrr
    FROM cust_state, params
    GROUP BY 1
),

-- ---------------------------------------------------------------- invoices (one scan)
inv_cust_bnd AS (
    SELECT customer_id,
           year(paid_at) * 12 + month(paid_at)                                        AS b,
           sum(amount)                                                                AS amount,
           count(*)                                                                   AS n,
           sum(amount) FILTER (WHERE kind IN ('upsell', 'cross_sell'))                AS upsell,
           min(epoch_us(paid_at))                                                     AS first_us,
           max(epoch_us(paid_at))                                                     AS last_us
    FROM invoices, params
    WHERE year(paid_at) * 12 + month(paid_at) <= ke
    GROUP BY customer_id, b
),

inv_cust_run AS (
    SELECT *, lag(last_us) OVER (PARTITION BY customer_id ORDER BY b) AS prev_last_us
    FROM inv_cust_bnd
),

inv_agg AS (
    SELECT greatest(b, ks - 1) AS bnd,
           sum(amount)                                            AS inv_amount,
           sum(n)                                                 AS inv_n,
           sum(upsell)                                            AS inv_upsell,
           count(*) FILTER (WHERE prev_last_us IS NULL)           AS d_inv_customers,
           -- sum over customers of (last paid_at - first paid_at) grows by these steps
           sum(last_us - coalesce(prev_last_us, first_us))        AS d_inv_span_us
    FROM inv_cust_run, params
    GROUP BY 1
),

-- ---------------------------------------------------------------- renewals, costs (one scan each)
ren_agg AS (
    SELECT year(due_at) * 12 + month(due_at)                    AS b,
           count(*)                                             AS n_due,
           count(*) FILTER (WHERE renewed)                      AS n_renewed,
           sum(value_up)                                        AS value_up,
           sum(renewed_value)                                   AS renewed_value
    FROM renewals, params
    WHERE year(due_at) * 12 + month(due_at) BETWEEN ks + 1 AND ke
    GROUP BY 1
),

cost_agg AS (
    SELECT year(incurred_at) * 12 + month(incurred_at)                      AS b,
           sum(amount) FILTER (WHERE category = 'acquisition')              AS acquisition,
           sum(amount) FILTER (WHERE category = 'retention')                AS retention
    FROM costs, params
    WHERE year(incurred_at) * 12 + month(incurred_at) BETWEEN ks + 1 AND ke
    GROUP BY 1
),

-- ---------------------------------------------------------------- levels on a month spine
spine AS (
    SELECT unnest(range(ks - 1, ke + 1)) AS b FROM params
),

levels AS (
    SELECT sp.b,
           sum(coalesce(s.d_mrr, 0))           OVER o AS m_lvl,          -- M(b)
           sum(coalesce(s.d_customers, 0))     OVER o AS e_lvl,          -- |{c : B_c(b) > 0}|
           sum(coalesce(s.d_obs_n, 0))         OVER o AS obs_n,
           sum(coalesce(s.d_obs_us, 0))        OVER o AS obs_us,
           sum(coalesce(i.inv_amount, 0))      OVER o AS inv_amount_cum, -- invoices paid before b
           sum(coalesce(i.inv_n, 0))           OVER o AS inv_n_cum,
           sum(coalesce(i.d_inv_customers, 0)) OVER o AS inv_customers_cum,
           sum(coalesce(i.d_inv_span_us, 0))   OVER o AS inv_span_us_cum,
           coalesce(i.inv_amount, 0)                  AS inv_amount,     -- paid in month b - 1
           s.n_new, s.n_lost, s.n_reactivated, s.n_active_not_start,
           s.new_mrr, s.reactivation_mrr, s.expansion_mrr, s.contraction_mrr, s.churned_mrr,
           i.inv_upsell,
           r.n_due, r.n_renewed, r.value_up, r.renewed_value,
           c.acquisition, c.retention
    FROM spine AS sp
    LEFT JOIN sub_agg  AS s ON s.bnd = sp.b
    LEFT JOIN inv_agg  AS i ON i.bnd = sp.b
    LEFT JOIN ren_agg  AS r ON r.b = sp.b
    LEFT JOIN cost_agg AS c ON c.b = sp.b
    WINDOW o AS (ORDER BY sp.b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),

-- One row per reported month p, b = p.end: the sets and movements of p.
per AS (
    SELECT b - 1                                      AS k,
           lag(e_lvl)      OVER (ORDER BY b)          AS n_s,           -- |S|
           e_lvl                                      AS n_e,           -- |E|
           coalesce(n_new, 0)                         AS n_n,           -- |N|
           coalesce(n_lost, 0)                        AS n_l,           -- |L|
           coalesce(n_reactivated, 0)                 AS n_r,           -- |R|
           coalesce(n_active_not_start, 0)            AS n_a_extra,     -- |A \ S|
           lag(m_lvl)      OVER (ORDER BY b)          AS m_start,
           m_lvl                                      AS m_end,
           coalesce(new_mrr, 0)                       AS mv_new,
           coalesce(reactivation_mrr, 0)              AS mv_react,
           coalesce(expansion_mrr, 0)                 AS mv_exp,
           coalesce(contraction_mrr, 0)               AS mv_contr,
           coalesce(churned_mrr, 0)                   AS mv_churn,
           inv_amount,
           lag(inv_amount) OVER (ORDER BY b)          AS inv_amount_prev,
           coalesce(inv_upsell, 0)                    AS inv_upsell,
           inv_amount_cum, inv_n_cum, inv_customers_cum, inv_span_us_cum,
           obs_n, obs_us,
           coalesce(n_due, 0)                         AS n_due,
           coalesce(n_renewed, 0)                     AS n_renewed,
           coalesce(value_up, 0)                      AS value_up,
           coalesce(renewed_value, 0)                 AS renewed_value,
           coalesce(acquisition, 0)                   AS cost_acq,
           coalesce(retention, 0)                     AS cost_ret
    FROM levels
    QUALIFY b > (SELECT ks FROM params)
),

calc AS (
    SELECT *,
           -- ratios: a zero or NULL denominator gives NULL
           CAST(n_l AS DOUBLE) / nullif(n_s, 0)                                       AS churn_lost_over_start,
           CAST(m_end AS DOUBLE) / nullif(n_e, 0)                                     AS arpu_mrr,
           CAST(cost_acq AS DOUBLE) / nullif(n_n, 0)                                  AS cac
    FROM per
),

calc2 AS (
    SELECT *,
           1.0 / nullif(churn_lost_over_start, 0)                                     AS lifespan_inverse_churn,
           arpu_mrr * (1.0 / nullif(churn_lost_over_start, 0))                        AS clv_arpa
    FROM calc
),

wide AS (
    SELECT make_date(CAST(k // 12 AS BIGINT), CAST(k % 12 + 1 AS BIGINT), 1)        AS period_start,
           CAST(n_e AS DOUBLE)                                                        AS "customers|default",
           CAST(n_n AS DOUBLE)                                                        AS "new_customers|default",
           CAST(n_l AS DOUBLE)                                                        AS "churned_customers|default",
           CAST(n_r AS DOUBLE)                                                        AS "reactivated_customers|default",
           churn_lost_over_start                                                      AS "churn_rate|lost_over_start",
           CAST(n_s - n_e AS DOUBLE) / nullif(n_s, 0)                                 AS "churn_rate|net_loss",
           CAST(n_l AS DOUBLE) / nullif(n_s + n_a_extra, 0)                           AS "churn_rate|lost_over_active",
           CAST(n_e - n_n AS DOUBLE) / nullif(n_s, 0)                                 AS "retention_rate|end_minus_new",
           CAST(n_s - n_l AS DOUBLE) / nullif(n_s, 0)                                 AS "retention_rate|cohort",
           CAST(m_end AS DOUBLE)                                                      AS "mrr|default",
           CAST(12 * m_end AS DOUBLE)                                                 AS "arr|default",
           CAST(mv_new AS DOUBLE)                                                     AS "new_mrr|default",
           CAST(mv_exp AS DOUBLE)                                                     AS "expansion_mrr|default",
           CAST(mv_contr AS DOUBLE)                                                   AS "contraction_mrr|default",
           CAST(mv_churn AS DOUBLE)                                                   AS "churned_mrr|default",
           CAST(mv_react AS DOUBLE)                                                   AS "reactivation_mrr|default",
           CAST(mv_new + mv_react + mv_exp - mv_contr - mv_churn AS DOUBLE)           AS "net_new_mrr|default",
           CAST(mv_new + mv_react + mv_exp AS DOUBLE) / nullif(mv_contr + mv_churn, 0) AS "quick_ratio|default",
           CAST(inv_amount AS DOUBLE) / nullif(n_s + n_a_extra, 0)                    AS "arpu|invoiced",
           arpu_mrr                                                                   AS "arpu|mrr",
           CAST(mv_exp AS DOUBLE) / nullif(m_start, 0)                                AS "expansion_rate|gross_mrr",
           -- sum over S of B_c(p.end) is M(p.start) + expansion - contraction - churned
           CAST(mv_exp - mv_contr - mv_churn AS DOUBLE) / nullif(m_start, 0)          AS "expansion_rate|cohort_net_change",
           CAST(inv_upsell AS DOUBLE) / nullif(inv_amount_prev, 0)                    AS "expansion_rate|upsell_invoices",
           CAST(m_start + mv_exp - mv_contr - mv_churn AS DOUBLE) / nullif(m_start, 0) AS "net_revenue_retention|default",
           CAST(m_start - mv_contr - mv_churn AS DOUBLE) / nullif(m_start, 0)         AS "gross_revenue_retention|default",
           CAST(mv_churn + mv_contr - mv_exp AS DOUBLE) / nullif(m_start, 0)          AS "net_mrr_churn_rate|default",
           CAST(mv_churn + mv_contr AS DOUBLE) / nullif(m_start, 0)                   AS "revenue_churn_rate|default",
           CAST(n_renewed AS DOUBLE) / nullif(n_due, 0)                               AS "renewal_rate|default",
           CAST(renewed_value AS DOUBLE) / nullif(value_up, 0)                        AS "net_renewal_rate|contracts",
           CAST(m_start + mv_exp - mv_contr - mv_churn AS DOUBLE) / nullif(m_start, 0) AS "net_renewal_rate|mrr",
           cac                                                                        AS "customer_acquisition_cost|default",
           CAST(cost_ret AS DOUBLE) / nullif(n_s - n_l, 0)                            AS "customer_retention_cost|default",
           lifespan_inverse_churn                                                     AS "average_customer_lifespan|inverse_churn",
           CAST(obs_us AS DOUBLE) / 1e6 / 86400 / 30.4375 / nullif(obs_n, 0)          AS "average_customer_lifespan|observed",
           clv_arpa                                                                   AS "customer_lifetime_value|arpa_x_lifespan",
           (CAST(inv_amount_cum AS DOUBLE) / nullif(inv_n_cum, 0))
             * (CAST(inv_n_cum AS DOUBLE) / nullif(inv_customers_cum, 0))
             * (CAST(inv_span_us_cum AS DOUBLE) / 1e6 / 86400 / 365 / nullif(inv_customers_cum, 0))
                                                                                      AS "customer_lifetime_value|aov_x_frequency_x_lifetime",
           CAST(inv_amount_cum AS DOUBLE) / nullif(inv_customers_cum, 0)              AS "customer_lifetime_value|historical_revenue_per_customer",
           clv_arpa - cac                                                             AS "customer_lifetime_value|net_of_cac",
           clv_arpa / nullif(cac, 0)                                                  AS "ltv_to_cac|default",
           CAST(n_e - n_s AS DOUBLE) / nullif(n_s, 0)                                 AS "customer_growth_rate|default"
    FROM calc2
)

SELECT split_part(name, '|', 1) AS metric,
       split_part(name, '|', 2) AS variant,
       period_start,
       value
FROM wide
UNPIVOT INCLUDE NULLS (value FOR name IN (COLUMNS(* EXCLUDE (period_start))))
ORDER BY metric, variant, period_start
"""


def run_handwritten(con, start: datetime.date, end: datetime.date) -> list[tuple]:
    """Run the hand-written query on a DuckDB connection holding the canonical tables.

    Returns ``(metric, variant, period_start, value)`` rows for every month with
    ``start <= period_start < end``, ordered by metric, variant and period.
    """
    return con.execute(HANDWRITTEN_SQL, {"start": start, "end": end}).fetchall()
