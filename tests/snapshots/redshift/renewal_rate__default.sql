WITH RECURSIVE _generated_dates(d) AS (
  SELECT
    CAST('2023-12-01' AS DATE) AS d
  UNION ALL
  SELECT
    CAST(DATEADD(MONTH, 1, d) AS DATE)
  FROM _generated_dates
  WHERE
    CAST(DATEADD(MONTH, 1, d) AS DATE) <= CAST('2024-06-01' AS DATE)
), groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_renewals AS (
  /* step: read renewals as the data contract names it */
  SELECT
    CAST(t."due_at" AS TIMESTAMP) AS due_at,
    CAST(t."renewed" AS BOOLEAN) AS renewed
  FROM "renewals" AS t
), spine AS (
  /* step: one row per month, from the period before the first reported one */
  SELECT
    CAST(d AS DATE) AS period_start,
    CAST(d + INTERVAL '1 MONTH' AS DATE) AS period_end
  FROM (
    SELECT
      d
    FROM _generated_dates
  ) AS _generated_dates
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
    COUNT(*) AS renewals_due,
    SUM(CASE WHEN renewed THEN 1 ELSE 0 END) AS renewals_renewed
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
    COALESCE(renewal_periods.renewals_renewed, 0) AS renewals_renewed,
    COALESCE(renewal_periods.renewals_due, 0) AS renewals_due
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
      renewals_renewed
    ) AS DOUBLE PRECISION) / NULLIF(CAST((
      renewals_due
    ) AS DOUBLE PRECISION), 0) AS DOUBLE PRECISION) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'renewal_rate' AS metric,
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
