WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_trials AS (
  /* step: read trials as the data contract names it */
  SELECT
    CAST(t."started_at" AS TIMESTAMP) AS started_at,
    CAST(t."converted_at" AS TIMESTAMP) AS converted_at,
    0 AS grp
  FROM "trials" AS t
), src_users AS (
  /* step: read users as the data contract names it */
  SELECT
    CAST(t."created_at" AS TIMESTAMP) AS created_at
  FROM "users" AS t
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
), trial_periods AS (
  WITH trial_events AS (
    SELECT
      grp,
      CAST(DATE_TRUNC('MONTH', started_at) AS DATE) AS period_start,
      1 AS started,
      CASE WHEN NOT converted_at IS NULL THEN 1 ELSE 0 END AS started_converted,
      0 AS converted
    FROM src_trials
    WHERE
      started_at >= CAST('2023-12-01' AS DATE)
      AND started_at < CAST('2024-07-01' AS DATE)
    UNION ALL
    SELECT
      grp,
      CAST(DATE_TRUNC('MONTH', converted_at) AS DATE) AS period_start,
      0 AS started,
      0 AS started_converted,
      1 AS converted
    FROM src_trials
    WHERE
      converted_at >= CAST('2023-12-01' AS DATE)
      AND converted_at < CAST('2024-07-01' AS DATE)
  )
  /* step: trials started in each period (and of them, those converted at any time), and trials converted in it */
  SELECT
    0 AS grp,
    period_start,
    SUM(converted) AS trials_converted
  FROM trial_events
  GROUP BY
    period_start
), user_population AS (
  WITH per_period AS (
    SELECT
      0 AS grp,
      GREATEST_IGNORE_NULLS(CAST(DATE_TRUNC('MONTH', created_at) AS DATE), CAST('2023-12-01' AS DATE)) AS period_start,
      COUNT(*) AS n
    FROM src_users
    WHERE
      created_at < CAST('2024-07-01' AS DATE)
    GROUP BY
      GREATEST_IGNORE_NULLS(CAST(DATE_TRUNC('MONTH', created_at) AS DATE), CAST('2023-12-01' AS DATE))
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
    COALESCE(trial_periods.trials_converted, 0) AS trials_converted,
    COALESCE(user_population.users_to_date, 0) AS users_to_date
  FROM grid
  LEFT JOIN trial_periods
    ON trial_periods.grp = grid.grp AND trial_periods.period_start = grid.period_start
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
      trials_converted
    ) AS DOUBLE) / NULLIF(CAST((
      users_to_date
    ) AS DOUBLE), 0) AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'free_to_paid_conversion' AS metric,
    'over_population' AS variant,
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
