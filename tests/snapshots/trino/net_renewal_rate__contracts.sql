WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_renewals AS (
  /* step: read renewals as the data contract names it */
  SELECT
    CAST(t."due_at" AS TIMESTAMP) AS due_at,
    CAST(t."value_up" AS DECIMAL(38, 9)) AS value_up,
    CAST(t."renewed_value" AS DECIMAL(38, 9)) AS renewed_value
  FROM "renewals" AS t
), spine AS (
  /* step: one row per month, from the period before the first reported one */
  SELECT
    CAST(d AS DATE) AS period_start,
    CAST(d + INTERVAL '1' MONTH AS DATE) AS period_end
  FROM UNNEST(SEQUENCE(CAST('2023-12-01' AS DATE), CAST('2024-06-01' AS DATE), INTERVAL '1' MONTH)) AS t(d)
), grid AS (
  /* step: every period × group */
  SELECT
    g.grp,
    s.period_start,
    s.period_end
  FROM groups AS g
  CROSS JOIN spine AS s
), renewal_periods AS (
  /* step: contracts whose due_at is in each period: how many, how many renewed, value up and value renewed */
  SELECT
    0 AS grp,
    CAST(DATE_TRUNC('MONTH', due_at) AS DATE) AS period_start,
    SUM(value_up) AS renewal_value_up,
    SUM(renewed_value) AS renewal_value_renewed
  FROM src_renewals
  WHERE
    due_at < CAST('2024-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', due_at) AS DATE)
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(renewal_periods.renewal_value_renewed, 0) AS renewal_value_renewed,
    COALESCE(renewal_periods.renewal_value_up, 0) AS renewal_value_up
  FROM grid
  LEFT JOIN renewal_periods
    ON renewal_periods.grp = grid.grp
    AND renewal_periods.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      renewal_value_renewed
    ) AS DOUBLE) / NULLIF(CAST((
      renewal_value_up
    ) AS DOUBLE), 0) AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'net_renewal_rate' AS metric,
    'contracts' AS variant,
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
