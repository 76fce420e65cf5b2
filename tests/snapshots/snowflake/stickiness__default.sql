WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_events AS (
  /* step: read events as the data contract names it */
  SELECT
    CAST(t."user_id" AS VARCHAR) AS user_id,
    CAST(t."occurred_at" AS TIMESTAMP) AS occurred_at,
    0 AS grp
  FROM "events" AS t
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
), active_user_periods AS (
  WITH active_days AS (
    SELECT DISTINCT
      grp,
      user_id,
      CAST(occurred_at AS DATE) AS day,
      CAST(DATE_TRUNC('MONTH', occurred_at) AS DATE) AS period_start
    FROM src_events
    WHERE
      occurred_at >= CAST('2023-12-01' AS DATE)
      AND occurred_at < CAST('2024-07-01' AS DATE)
      AND NOT user_id IS NULL /* an event of no user makes no user active, on any day */
      AND (
        TRUE OR FALSE
      )
  )
  /* step: distinct users with an event named in :active_events (NULL: any) in each period, and the sum over the days of the period (the calendar's local days) of each day's distinct such users */
  SELECT
    0 AS grp,
    period_start,
    COUNT(DISTINCT user_id) AS period_active_users,
    COUNT(*) AS active_user_days
  FROM active_days
  GROUP BY
    period_start
), period_days AS (
  /* step: the length of each period in days (a month has 28 to 31) */
  SELECT
    grp,
    period_start,
    (
      EXTRACT(epoch_second FROM period_end) - EXTRACT(epoch_second FROM period_start)
    ) / 86400 AS days_in_period
  FROM grid
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(active_user_periods.period_active_users, 0) AS period_active_users,
    COALESCE(active_user_periods.active_user_days, 0) AS active_user_days,
    period_days.days_in_period AS days_in_period
  FROM grid
  LEFT JOIN active_user_periods
    ON active_user_periods.grp = grid.grp
    AND active_user_periods.period_start = grid.period_start
  LEFT JOIN period_days
    ON period_days.grp = grid.grp AND period_days.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      CAST((
        active_user_days
      ) AS DOUBLE) / NULLIF(CAST((
        days_in_period
      ) AS DOUBLE), 0)
    ) AS DOUBLE) / NULLIF(CAST((
      period_active_users
    ) AS DOUBLE), 0) AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'stickiness' AS metric,
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
