WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_events AS (
  /* step: read events as the data contract names it */
  SELECT
    CAST(t."user_id" AS VARCHAR) AS user_id,
    CAST(t."name" AS VARCHAR) AS name,
    CAST(t."occurred_at" AS TIMESTAMP) AS occurred_at
  FROM "events" AS t
), src_users AS (
  /* step: read users as the data contract names it */
  SELECT
    CAST(t."created_at" AS TIMESTAMP) AS created_at
  FROM "users" AS t
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
), engaged_user_periods AS (
  /* step: distinct users with an :engagement_event (NULL: any event) in each period */
  SELECT
    0 AS grp,
    CAST(DATE_TRUNC('MONTH', occurred_at) AS DATE) AS period_start,
    COUNT(DISTINCT user_id) AS engaged_users
  FROM src_events
  WHERE
    occurred_at >= CAST('2023-12-01' AS DATE)
    AND occurred_at < CAST('2024-07-01' AS DATE)
    AND (
      TRUE OR name = NULL
    )
  GROUP BY
    CAST(DATE_TRUNC('MONTH', occurred_at) AS DATE)
), user_population AS (
  WITH per_period AS (
    SELECT
      0 AS grp,
      GREATEST(CAST(DATE_TRUNC('MONTH', created_at) AS DATE), CAST('2023-12-01' AS DATE)) AS period_start,
      COUNT(*) AS n
    FROM src_users
    WHERE
      created_at < CAST('2024-07-01' AS DATE)
    GROUP BY
      GREATEST(CAST(DATE_TRUNC('MONTH', created_at) AS DATE), CAST('2023-12-01' AS DATE))
  )
  /* step: users created before each p.end: a running count over the periods */
  SELECT
    g.grp,
    g.period_start,
    SUM(COALESCE(p.n, 0)) OVER (
      ORDER BY g.period_start NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS users_to_date
  FROM grid AS g
  LEFT JOIN per_period AS p
    ON p.grp = g.grp AND p.period_start = g.period_start
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(engaged_user_periods.engaged_users, 0) AS engaged_users,
    COALESCE(user_population.users_to_date, 0) AS users_to_date
  FROM grid
  LEFT JOIN engaged_user_periods
    ON engaged_user_periods.grp = grid.grp
    AND engaged_user_periods.period_start = grid.period_start
  LEFT JOIN user_population
    ON user_population.grp = grid.grp
    AND user_population.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      engaged_users
    ) AS DOUBLE) / NULLIF(CAST((
      users_to_date
    ) AS DOUBLE), 0) AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'engagement_rate' AS metric,
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
