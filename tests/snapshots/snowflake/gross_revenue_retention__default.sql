WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_subscriptions AS (
  /* step: read subscriptions as the data contract names it */
  SELECT
    CAST(t."customer_id" AS VARCHAR) AS customer_id,
    CAST(t."started_at" AS TIMESTAMP) AS started_at,
    CAST(t."ended_at" AS TIMESTAMP) AS ended_at,
    CAST(t."mrr" AS DECIMAL(38, 9)) AS mrr,
    CAST(t."is_trial" AS BOOLEAN) AS is_trial
  FROM "subscriptions" AS t
), spine AS (
  /* step: one row per month, from the period before the first reported one */
  SELECT
    CAST(d AS DATE) AS period_start,
    CAST(d + INTERVAL '1 MONTH' AS DATE) AS period_end
  FROM (
    SELECT
      DATEADD(MONTH, CAST(d AS INT), CAST('2023-12-01' AS DATE)) AS d
    FROM TABLE(FLATTEN(INPUT => ARRAY_GENERATE_RANGE(0, DATEDIFF(MONTH, CAST('2023-12-01' AS DATE), CAST('2024-06-01' AS DATE)) + 1))) AS t(seq, key, path, index, d, this)
  ) AS t(d)
), grid AS (
  /* step: every period × group */
  SELECT
    g.grp,
    s.period_start,
    s.period_end
  FROM groups AS g
  CROSS JOIN spine AS s
), sub_rows AS (
  /* step: non-trial subscription rows that carry time (rows with ended_at = started_at are ignored) */
  SELECT
    customer_id,
    started_at,
    ended_at,
    mrr
  FROM src_subscriptions
  WHERE
    NOT COALESCE(is_trial, FALSE)
    AND (
      ended_at IS NULL OR ended_at <> started_at
    )
), sub_customer_periods AS (
  WITH events AS (
    SELECT
      r.customer_id,
      CASE WHEN e.is_start THEN r.started_at ELSE r.ended_at END AS t,
      CASE WHEN e.is_start THEN r.mrr ELSE -r.mrr END AS d_mrr
    FROM sub_rows AS r
    CROSS JOIN (VALUES
      (TRUE),
      (FALSE)) AS e(is_start)
    WHERE
      e.is_start OR NOT r.ended_at IS NULL
  ), per_period AS (
    SELECT
      customer_id,
      GREATEST_IGNORE_NULLS(CAST(DATE_TRUNC('MONTH', t) AS DATE), CAST('2023-12-01' AS DATE)) AS period_start,
      SUM(d_mrr) AS d_mrr
    FROM events
    WHERE
      t < CAST('2024-07-01' AS DATE)
    GROUP BY
      customer_id,
      GREATEST_IGNORE_NULLS(CAST(DATE_TRUNC('MONTH', t) AS DATE), CAST('2023-12-01' AS DATE))
  ), running AS (
    SELECT
      customer_id,
      period_start,
      d_mrr,
      SUM(d_mrr) OVER (
        PARTITION BY customer_id
        ORDER BY period_start NULLS FIRST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS b_end
    FROM per_period
  )
  /* step: B_c at the start and end of every period in which customer c changed (+mrr at started_at, −mrr at ended_at, running sums), and first_paid_c, the customer's first start of a non-trial row with mrr > 0 */
  SELECT
    period_start,
    b_end - d_mrr AS b_start,
    b_end,
    CASE WHEN b_end - d_mrr > 0 THEN 1 ELSE 0 END AS n_start, /* paying (1) or not (0) at p.start and at p.end: B_c > 0 */
    CASE WHEN b_end > 0 THEN 1 ELSE 0 END AS n_end
  FROM running
), sub_movements AS (
  /* step: per period: the sets N, L, R and A \ S and the MRR movements, customer by customer */
  SELECT
    0 AS grp,
    c.period_start,
    SUM(c.b_end - c.b_start) AS d_mrr,
    SUM(CASE WHEN c.n_start > 0 AND c.n_end = 0 THEN c.b_start ELSE 0 END) AS churned_mrr,
    SUM(
      CASE
        WHEN c.n_start > 0 AND c.n_end > 0 AND c.b_end < c.b_start
        THEN c.b_start - c.b_end
        ELSE 0
      END
    ) AS contraction_mrr
  FROM sub_customer_periods AS c
  GROUP BY
    c.period_start
), sub_levels AS (
  /* step: |S|, |E|, M(p.start), M(p.end): running sums of the per-period changes over the spine */
  SELECT
    g.grp,
    g.period_start,
    SUM(COALESCE(m.d_mrr, 0)) OVER (
      ORDER BY g.period_start NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) - COALESCE(m.d_mrr, 0) AS mrr_start
  FROM grid AS g
  LEFT JOIN sub_movements AS m
    ON m.grp = g.grp AND m.period_start = g.period_start
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(sub_levels.mrr_start, 0) AS mrr_start,
    COALESCE(sub_movements.churned_mrr, 0) AS churned_mrr,
    COALESCE(sub_movements.contraction_mrr, 0) AS contraction_mrr
  FROM grid
  LEFT JOIN sub_levels
    ON sub_levels.grp = grid.grp AND sub_levels.period_start = grid.period_start
  LEFT JOIN sub_movements
    ON sub_movements.grp = grid.grp AND sub_movements.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      (
        mrr_start - contraction_mrr - churned_mrr
      )
    ) AS DOUBLE) / NULLIF(CAST((
      mrr_start
    ) AS DOUBLE), 0) AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'gross_revenue_retention' AS metric,
    'default' AS variant,
    0 AS metric_order,
    grp,
    period_start,
    period_end,
    v0 AS value
  FROM metric_values
)
SELECT
  l.metric,
  l.variant,
  l.period_start,
  l.period_end,
  l.value
FROM long_values AS l
JOIN groups AS g
  ON l.grp = g.grp
ORDER BY
  l.metric_order,
  l.period_start
