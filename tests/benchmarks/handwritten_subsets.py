"""Hand-written DuckDB queries for subsets of the revenue catalog (issue 12: a run that asks for
a few metrics must cost about what a hand-written query for those few costs).

Each query is what an expert would write for just that subset, from ``data-contract.md`` and
``metrics.md``, with the conventions of ``handwritten.py`` (months as integers
``k = year * 12 + month - 1``, boundary ``b = k + 1`` is the 1st of the month after ``k``; a
row counts in ``B_c(b)`` for ``started_at < b <= ended_at``; money exact until the final cast):

* ``kpis``: customers, new_customers, churned_customers, mrr, churn_rate, net_new_mrr (the six
  KPIs of the issue). One scan of subscriptions, one window pass per customer, levels on a spine;
  net new MRR is ``M(p.end) - M(p.start)``.
* ``mrr``: M(p.end) alone, without any per-customer step: ``+mrr``/``-mrr`` events summed per
  boundary and a running sum.
* ``bridge``: the MRR movements new, expansion, contraction, churned, reactivation and net new;
  per customer and boundary only (no spine of levels: a movement is zero in a month without
  events), net new is the sum of the deltas.
* ``lifespans``: average_customer_lifespan:observed and customer_lifetime_value:arpa_x_lifespan
  (ARPA x 1 / churn): the observed population's summed lifespans as running sums, with |S|,
  |E|, |L| and M(p.end).

``test_handwritten.py`` checks them, like the whole-catalog query, against a row-by-row oracle;
``subset_benchmark.py`` checks them against csframe on the benchmark data before timing them.
"""

from __future__ import annotations

__all__ = ["SUBSETS", "SUBSET_SQL", "run_subset"]

import datetime

# the (metric, variant) keys of each subset; "catalog" is handwritten.HANDWRITTEN_SQL
SUBSETS: dict[str, tuple[tuple[str, str], ...]] = {
    "kpis": (("customers", "default"), ("new_customers", "default"), ("churned_customers", "default"),
             ("mrr", "default"), ("churn_rate", "lost_over_start"), ("net_new_mrr", "default")),
    "mrr": (("mrr", "default"),),
    "bridge": (("new_mrr", "default"), ("expansion_mrr", "default"), ("contraction_mrr", "default"),
               ("churned_mrr", "default"), ("reactivation_mrr", "default"), ("net_new_mrr", "default")),
    "lifespans": (("average_customer_lifespan", "observed"), ("customer_lifetime_value", "arpa_x_lifespan")),
}

_PARAMS = r"""
params AS (
    SELECT
        year(CAST($start AS DATE)) * 12 + month(CAST($start AS DATE)) - 1          AS ks,  -- first reported month
        year(CAST($end AS DATE) - 1) * 12 + month(CAST($end AS DATE) - 1)          AS ke   -- boundary ending the last one
)"""

_UNPIVOT = r"""
SELECT split_part(name, '|', 1) AS metric,
       split_part(name, '|', 2) AS variant,
       period_start,
       value
FROM wide
UNPIVOT INCLUDE NULLS (value FOR name IN (COLUMNS(* EXCLUDE (period_start))))
ORDER BY metric, variant, period_start
"""

_PERIOD_START = "make_date(CAST(k // 12 AS BIGINT), CAST(k % 12 + 1 AS BIGINT), 1)"

# the non-trial rows that carry time, as +mrr at the start boundary and -mrr at the end one
_SUB_EVENTS = r"""
sub_events AS (
    SELECT s.customer_id,
           CASE WHEN e.is_start THEN year(s.started_at) * 12 + month(s.started_at)
                ELSE year(s.ended_at) * 12 + month(s.ended_at) END                       AS b,
           CASE WHEN e.is_start THEN s.mrr ELSE -s.mrr END                                AS d,
           e.is_start AND s.mrr > 0                                                       AS paid_start
    FROM subscriptions AS s
    CROSS JOIN (VALUES (true), (false)) AS e(is_start)
    WHERE NOT coalesce(s.is_trial, false)
      AND (s.ended_at IS NULL OR s.ended_at > s.started_at)
      AND (e.is_start OR s.ended_at IS NOT NULL)
)"""

KPIS_SQL = "WITH" + _PARAMS + "," + _SUB_EVENTS + r""",
cust_bnd AS (
    SELECT customer_id, b, sum(d) AS d, bool_or(paid_start) AS paid_start
    FROM sub_events, params
    WHERE b <= ke
    GROUP BY customer_id, b
),
cust_state AS (
    SELECT b, d,
           sum(d) OVER (PARTITION BY customer_id ORDER BY b ROWS UNBOUNDED PRECEDING) AS bal,   -- B_c(b)
           min(CASE WHEN paid_start THEN b END) OVER (PARTITION BY customer_id)     AS first_paid_b
    FROM cust_bnd
),
sub_agg AS (
    SELECT greatest(b, ks - 1)                                                     AS bnd,
           sum(d)                                                                  AS d_mrr,
           sum(CAST(bal > 0 AS INTEGER) - CAST(bal - d > 0 AS INTEGER))            AS d_customers,
           count(*) FILTER (WHERE first_paid_b = b)                                AS n_new,
           count(*) FILTER (WHERE bal - d > 0 AND bal = 0)                         AS n_lost
    FROM cust_state, params
    GROUP BY 1
),
levels AS (
    SELECT sp.b,
           sum(coalesce(s.d_mrr, 0))       OVER o AS m_lvl,
           sum(coalesce(s.d_customers, 0)) OVER o AS e_lvl,
           coalesce(s.n_new, 0)                   AS n_new,
           coalesce(s.n_lost, 0)                  AS n_lost
    FROM (SELECT unnest(range(ks - 1, ke + 1)) AS b FROM params) AS sp
    LEFT JOIN sub_agg AS s ON s.bnd = sp.b
    WINDOW o AS (ORDER BY sp.b ROWS UNBOUNDED PRECEDING)
),
per AS (
    SELECT b - 1 AS k, lag(e_lvl) OVER (ORDER BY b) AS n_s, e_lvl AS n_e, n_new, n_lost,
           lag(m_lvl) OVER (ORDER BY b) AS m_start, m_lvl AS m_end
    FROM levels
    QUALIFY b > (SELECT ks FROM params)
),
wide AS (
    SELECT """ + _PERIOD_START + r"""                   AS period_start,
           CAST(n_e AS DOUBLE)                           AS "customers|default",
           CAST(n_new AS DOUBLE)                         AS "new_customers|default",
           CAST(n_lost AS DOUBLE)                        AS "churned_customers|default",
           CAST(m_end AS DOUBLE)                         AS "mrr|default",
           CAST(n_lost AS DOUBLE) / nullif(n_s, 0)       AS "churn_rate|lost_over_start",
           CAST(m_end - m_start AS DOUBLE)               AS "net_new_mrr|default"
    FROM per
)""" + _UNPIVOT

MRR_SQL = "WITH" + _PARAMS + r""",
deltas AS (
    SELECT greatest(b, ks - 1) AS b, sum(d) AS d
    FROM (
        SELECT year(started_at) * 12 + month(started_at) AS b, mrr AS d
        FROM subscriptions
        WHERE NOT coalesce(is_trial, false) AND (ended_at IS NULL OR ended_at > started_at)
        UNION ALL
        SELECT year(ended_at) * 12 + month(ended_at), -mrr
        FROM subscriptions
        WHERE NOT coalesce(is_trial, false) AND ended_at > started_at
    ) AS e, params
    WHERE b <= ke
    GROUP BY 1
),
levels AS (
    SELECT sp.b, sum(coalesce(d.d, 0)) OVER (ORDER BY sp.b ROWS UNBOUNDED PRECEDING) AS m
    FROM (SELECT unnest(range(ks - 1, ke + 1)) AS b FROM params) AS sp
    LEFT JOIN deltas AS d ON d.b = sp.b
)
SELECT 'mrr' AS metric, 'default' AS variant,
       make_date(CAST((b - 1) // 12 AS BIGINT), CAST((b - 1) % 12 + 1 AS BIGINT), 1) AS period_start,
       CAST(m AS DOUBLE) AS value
FROM levels, params
WHERE b > ks
ORDER BY period_start
"""

BRIDGE_SQL = "WITH" + _PARAMS + "," + _SUB_EVENTS + r""",
cust_bnd AS (
    SELECT customer_id, b, sum(d) AS d, bool_or(paid_start) AS paid_start
    FROM sub_events, params
    WHERE b <= ke
    GROUP BY customer_id, b
),
cust_state AS (
    SELECT b, d,
           sum(d) OVER (PARTITION BY customer_id ORDER BY b ROWS UNBOUNDED PRECEDING) AS bal,
           min(CASE WHEN paid_start THEN b END) OVER (PARTITION BY customer_id)     AS first_paid_b
    FROM cust_bnd
),
moves AS (
    SELECT b,
           sum(bal)       FILTER (WHERE bal - d = 0 AND bal > 0 AND first_paid_b = b)  AS mv_new,
           sum(bal)       FILTER (WHERE bal - d = 0 AND bal > 0 AND first_paid_b < b)  AS mv_react,
           sum(d)         FILTER (WHERE bal - d > 0 AND bal > 0 AND d > 0)             AS mv_exp,
           sum(-d)        FILTER (WHERE bal - d > 0 AND bal > 0 AND d < 0)             AS mv_contr,
           sum(bal - d)   FILTER (WHERE bal - d > 0 AND bal = 0)                       AS mv_churn,
           sum(d)                                                                      AS net
    FROM cust_state, params
    WHERE b BETWEEN ks + 1 AND ke
    GROUP BY b
),
wide AS (
    SELECT """ + _PERIOD_START + r"""                        AS period_start,
           CAST(coalesce(mv_new, 0) AS DOUBLE)                AS "new_mrr|default",
           CAST(coalesce(mv_exp, 0) AS DOUBLE)                AS "expansion_mrr|default",
           CAST(coalesce(mv_contr, 0) AS DOUBLE)              AS "contraction_mrr|default",
           CAST(coalesce(mv_churn, 0) AS DOUBLE)              AS "churned_mrr|default",
           CAST(coalesce(mv_react, 0) AS DOUBLE)              AS "reactivation_mrr|default",
           CAST(coalesce(net, 0) AS DOUBLE)                   AS "net_new_mrr|default"
    FROM (SELECT unnest(range(ks, ke)) AS k FROM params) AS months
    LEFT JOIN moves ON moves.b = months.k + 1
)""" + _UNPIVOT

LIFESPANS_SQL = "WITH" + _PARAMS + r""",
sub_events AS (
    SELECT s.customer_id,
           CASE WHEN e.is_start THEN year(s.started_at) * 12 + month(s.started_at)
                ELSE year(s.ended_at) * 12 + month(s.ended_at) END                       AS b,
           CASE WHEN e.is_start THEN s.mrr ELSE -s.mrr END                                AS d,
           CASE WHEN e.is_start AND s.mrr > 0 THEN epoch_us(s.started_at) END             AS paid_start_us,
           CASE WHEN e.is_start AND s.mrr > 0
                THEN coalesce(epoch_us(s.ended_at), 9223372036854775807) END              AS paid_end_us
    FROM subscriptions AS s
    CROSS JOIN (VALUES (true), (false)) AS e(is_start)
    WHERE NOT coalesce(s.is_trial, false)
      AND (s.ended_at IS NULL OR s.ended_at > s.started_at)
      AND (e.is_start OR s.ended_at IS NOT NULL)
),
cust_bnd AS (
    SELECT customer_id, b, sum(d) AS d, min(paid_start_us) AS paid_start_us, max(paid_end_us) AS paid_end_us
    FROM sub_events, params
    WHERE b <= ke
    GROUP BY customer_id, b
),
cust_run AS (
    SELECT b, d,
           sum(d)             OVER w_run  AS bal,
           max(paid_end_us)   OVER w_run  AS last_end_us,
           max(paid_end_us)   OVER w_prev AS prev_last_end_us,
           lag(b)             OVER w_run  AS prev_b,
           min(paid_start_us) OVER w_all  AS first_paid_us,
           min(CASE WHEN paid_start_us IS NOT NULL THEN b END) OVER w_all AS first_paid_b
    FROM cust_bnd
    WINDOW w_run  AS (PARTITION BY customer_id ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           w_prev AS (PARTITION BY customer_id ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
           w_all  AS (PARTITION BY customer_id)
),
cust_state AS (
    SELECT *,
           coalesce(bal = 0 AND first_paid_b <= b, false)          AS in_obs,
           coalesce(bal - d = 0 AND first_paid_b <= prev_b, false) AS prev_in_obs
    FROM cust_run
),
sub_agg AS (
    SELECT greatest(b, ks - 1)                                                            AS bnd,
           sum(d)                                                                         AS d_mrr,
           sum(CAST(bal > 0 AS INTEGER) - CAST(bal - d > 0 AS INTEGER))                   AS d_customers,
           sum(CAST(in_obs AS INTEGER) - CAST(prev_in_obs AS INTEGER))                    AS d_obs_n,
           sum(CASE WHEN in_obs THEN last_end_us - first_paid_us ELSE 0 END
             - CASE WHEN prev_in_obs THEN prev_last_end_us - first_paid_us ELSE 0 END)     AS d_obs_us,
           count(*) FILTER (WHERE bal - d > 0 AND bal = 0)                                AS n_lost
    FROM cust_state, params
    GROUP BY 1
),
levels AS (
    SELECT sp.b,
           sum(coalesce(s.d_mrr, 0))       OVER o AS m_lvl,
           sum(coalesce(s.d_customers, 0)) OVER o AS e_lvl,
           sum(coalesce(s.d_obs_n, 0))     OVER o AS obs_n,
           sum(coalesce(s.d_obs_us, 0))    OVER o AS obs_us,
           coalesce(s.n_lost, 0)                  AS n_lost
    FROM (SELECT unnest(range(ks - 1, ke + 1)) AS b FROM params) AS sp
    LEFT JOIN sub_agg AS s ON s.bnd = sp.b
    WINDOW o AS (ORDER BY sp.b ROWS UNBOUNDED PRECEDING)
),
per AS (
    SELECT b - 1 AS k, lag(e_lvl) OVER (ORDER BY b) AS n_s, e_lvl AS n_e, n_lost, m_lvl AS m_end, obs_n, obs_us
    FROM levels
    QUALIFY b > (SELECT ks FROM params)
),
wide AS (
    SELECT """ + _PERIOD_START + r"""                                               AS period_start,
           CAST(obs_us AS DOUBLE) / 1e6 / 86400 / 30.4375 / nullif(obs_n, 0)         AS "average_customer_lifespan|observed",
           (CAST(m_end AS DOUBLE) / nullif(n_e, 0))
             * (1.0 / nullif(CAST(n_lost AS DOUBLE) / nullif(n_s, 0), 0))            AS "customer_lifetime_value|arpa_x_lifespan"
    FROM per
)""" + _UNPIVOT

SUBSET_SQL: dict[str, str] = {"kpis": KPIS_SQL, "mrr": MRR_SQL, "bridge": BRIDGE_SQL, "lifespans": LIFESPANS_SQL}


def run_subset(con, name: str, start: datetime.date, end: datetime.date) -> list[tuple]:
    """``(metric, variant, period_start, value)`` rows of subset ``name`` for the months
    ``start <= period_start < end``, ordered by metric, variant and period."""
    return con.execute(SUBSET_SQL[name], {"start": start, "end": end}).fetchall()
