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
), src_customers AS (
  /* step: read customers as the data contract names it */
  SELECT
    CAST(t."customer_id" AS VARCHAR) AS customer_id,
    CAST(t."created_at" AS TIMESTAMP) AS created_at,
    0 AS grp
  FROM "customers" AS t
), src_events AS (
  /* step: read events as the data contract names it */
  SELECT
    CAST(t."customer_id" AS VARCHAR) AS customer_id,
    CAST(t."name" AS VARCHAR) AS name,
    CAST(t."occurred_at" AS TIMESTAMP) AS occurred_at
  FROM "events" AS t
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
), activation_cohorts AS (
  WITH signup_cohort AS (
    SELECT
      grp,
      customer_id,
      created_at,
      CAST(DATE_TRUNC('MONTH', created_at) AS DATE) AS period_start
    FROM src_customers
    WHERE
      created_at >= CAST('2023-12-01' AS DATE)
      AND created_at < CAST('2024-07-01' AS DATE)
  ), reached AS (
    SELECT DISTINCT
      c.grp,
      c.customer_id,
      c.period_start
    FROM signup_cohort AS c
    JOIN src_events AS e
      ON e.customer_id = c.customer_id
    WHERE
      e.name = 'activated'
      AND e.occurred_at >= c.created_at
      AND CAST(DATE_PART('epoch', e.occurred_at) - DATE_PART('epoch', c.created_at) AS DECIMAL(38, 6)) <= 30 * 86400
  )
  /* step: customers created in each period with a :activation_event event within :window_days days of created_at */
  SELECT
    0 AS grp,
    period_start,
    COUNT(*) AS customers_activated
  FROM reached
  GROUP BY
    period_start
), customer_signups AS (
  /* step: customers whose created_at falls in each period */
  SELECT
    0 AS grp,
    CAST(DATE_TRUNC('MONTH', created_at) AS DATE) AS period_start,
    COUNT(*) AS customers_created
  FROM src_customers
  WHERE
    created_at >= CAST('2023-12-01' AS DATE)
    AND created_at < CAST('2024-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', created_at) AS DATE)
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(activation_cohorts.customers_activated, 0) AS customers_activated,
    COALESCE(customer_signups.customers_created, 0) AS customers_created
  FROM grid
  LEFT JOIN activation_cohorts
    ON activation_cohorts.grp = grid.grp
    AND activation_cohorts.period_start = grid.period_start
  LEFT JOIN customer_signups
    ON customer_signups.grp = grid.grp
    AND customer_signups.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      customers_activated
    ) AS DOUBLE PRECISION) / NULLIF(CAST((
      customers_created
    ) AS DOUBLE PRECISION), 0) AS DOUBLE PRECISION) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'activation_rate' AS metric,
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
