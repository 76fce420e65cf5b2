WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_events AS (
  /* step: read events as the data contract names it */
  SELECT
    CAST(t."customer_id" AS VARCHAR) AS customer_id,
    CAST(t."name" AS VARCHAR) AS name,
    CAST(t."occurred_at" AS TIMESTAMP) AS occurred_at
  FROM "events" AS t
), src_customers AS (
  /* step: read customers as the data contract names it */
  SELECT
    CAST(t."customer_id" AS VARCHAR) AS customer_id,
    CAST(t."created_at" AS TIMESTAMP) AS created_at
  FROM "customers" AS t
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
), onboarding_durations AS (
  WITH duration_values AS (
    SELECT
      c.period_start,
      CAST(TO_UNIXTIME(MIN(e.occurred_at)) - TO_UNIXTIME(c.created_at) AS DECIMAL(38, 6)) AS x
    FROM (
      SELECT
        customer_id,
        created_at,
        CAST(DATE_TRUNC('MONTH', created_at) AS DATE) AS period_start
      FROM src_customers
      WHERE
        created_at >= CAST('2023-12-01' AS DATE)
        AND created_at < CAST('2024-07-01' AS DATE)
    ) AS c
    JOIN src_events AS e
      ON e.customer_id = c.customer_id
    WHERE
      e.name = 'onboarding_completed' AND e.occurred_at >= c.created_at
    GROUP BY
      c.period_start,
      c.customer_id,
      c.created_at
  ), duration_ranks AS (
    SELECT
      period_start,
      x
    FROM duration_values
  )
  /* step: customers created in each period that reached :onboarding_event (at any time): seconds from created_at to their first such event — count, exact sum and interpolated median */
  SELECT
    0 AS grp,
    period_start,
    COUNT(*) AS onboarding_time_count,
    SUM(x) AS onboarding_time_seconds_sum
  FROM duration_ranks
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
    COALESCE(onboarding_durations.onboarding_time_count, 0) AS onboarding_time_count,
    COALESCE(onboarding_durations.onboarding_time_seconds_sum, 0) AS onboarding_time_seconds_sum,
    COALESCE(customer_signups.customers_created, 0) AS customers_created
  FROM grid
  LEFT JOIN onboarding_durations
    ON onboarding_durations.grp = grid.grp
    AND onboarding_durations.period_start = grid.period_start
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
      CAST((
        onboarding_time_seconds_sum
      ) AS DOUBLE) / NULLIF(CAST((
        86400
      ) AS DOUBLE), 0)
    ) AS DOUBLE) / NULLIF(CAST((
      onboarding_time_count
    ) AS DOUBLE), 0) AS DOUBLE) AS v0,
    CAST(customers_created - onboarding_time_count AS DOUBLE) AS o0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'time_to_complete_onboarding' AS metric,
    'mean' AS variant,
    0 AS metric_order,
    grp,
    period_start,
    period_end,
    v0 AS value,
    o0 AS left_out
  FROM metric_values
)
SELECT
  l.metric,
  l.variant,
  l.period_start,
  l.period_end,
  l.value,
  l.left_out
FROM long_values AS l
JOIN groups AS g
  ON l.grp = g.grp
ORDER BY
  l.metric_order,
  l.period_start
