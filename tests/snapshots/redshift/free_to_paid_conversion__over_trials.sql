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
), src_trials AS (
  /* step: read trials as the data contract names it */
  SELECT
    CAST(t."started_at" AS TIMESTAMP) AS started_at,
    CAST(t."converted_at" AS TIMESTAMP) AS converted_at,
    0 AS grp
  FROM "trials" AS t
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
    SUM(started) AS trials_started,
    SUM(converted) AS trials_converted
  FROM trial_events
  GROUP BY
    period_start
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(trial_periods.trials_converted, 0) AS trials_converted,
    COALESCE(trial_periods.trials_started, 0) AS trials_started
  FROM grid
  LEFT JOIN trial_periods
    ON trial_periods.grp = grid.grp AND trial_periods.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      trials_converted
    ) AS DOUBLE PRECISION) / NULLIF(CAST((
      trials_started
    ) AS DOUBLE PRECISION), 0) AS DOUBLE PRECISION) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'free_to_paid_conversion' AS metric,
    'over_trials' AS variant,
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
