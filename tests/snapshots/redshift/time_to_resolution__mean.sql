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
), src_tickets AS (
  /* step: read tickets as the data contract names it */
  SELECT
    CAST(t."created_at" AS TIMESTAMP) AS created_at,
    CAST(t."resolved_at" AS TIMESTAMP) AS resolved_at
  FROM "tickets" AS t
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
), resolution_durations AS (
  WITH duration_values AS (
    SELECT
      CAST(DATE_TRUNC('MONTH', resolved_at) AS DATE) AS period_start,
      CAST(DATE_PART('epoch', resolved_at) - DATE_PART('epoch', created_at) AS DECIMAL(38, 6)) AS x
    FROM src_tickets
    WHERE
      resolved_at >= CAST('2023-12-01' AS DATE)
      AND resolved_at < CAST('2024-07-01' AS DATE)
  ), duration_ranks AS (
    SELECT
      period_start,
      x
    FROM duration_values
  )
  /* step: tickets resolved in each period: seconds from created_at to resolved_at — count, exact sum and interpolated median */
  SELECT
    0 AS grp,
    period_start,
    COUNT(*) AS resolution_count,
    SUM(x) AS resolution_seconds_sum
  FROM duration_ranks
  GROUP BY
    period_start
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(resolution_durations.resolution_count, 0) AS resolution_count,
    COALESCE(resolution_durations.resolution_seconds_sum, 0) AS resolution_seconds_sum
  FROM grid
  LEFT JOIN resolution_durations
    ON resolution_durations.grp = grid.grp
    AND resolution_durations.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      CAST((
        resolution_seconds_sum
      ) AS DOUBLE PRECISION) / NULLIF(CAST((
        3600
      ) AS DOUBLE PRECISION), 0)
    ) AS DOUBLE PRECISION) / NULLIF(CAST((
      resolution_count
    ) AS DOUBLE PRECISION), 0) AS DOUBLE PRECISION) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'time_to_resolution' AS metric,
    'mean' AS variant,
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
