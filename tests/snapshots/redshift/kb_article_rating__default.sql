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
), src_kb_ratings AS (
  /* step: read kb_ratings as the data contract names it */
  SELECT
    CAST(t."rated_at" AS TIMESTAMP) AS rated_at,
    CAST(t."rating" AS DOUBLE PRECISION) AS rating
  FROM "kb_ratings" AS t
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
), kb_rating_periods AS (
  /* step: knowledge-base ratings in each period: how many and their sum */
  SELECT
    0 AS grp,
    CAST(DATE_TRUNC('MONTH', rated_at) AS DATE) AS period_start,
    COUNT(*) AS kb_ratings,
    SUM(rating) AS kb_rating_sum
  FROM src_kb_ratings
  WHERE
    rated_at >= CAST('2023-12-01' AS DATE) AND rated_at < CAST('2024-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', rated_at) AS DATE)
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(kb_rating_periods.kb_rating_sum, 0) AS kb_rating_sum,
    COALESCE(kb_rating_periods.kb_ratings, 0) AS kb_ratings
  FROM grid
  LEFT JOIN kb_rating_periods
    ON kb_rating_periods.grp = grid.grp
    AND kb_rating_periods.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      kb_rating_sum
    ) AS DOUBLE PRECISION) / NULLIF(CAST((
      kb_ratings
    ) AS DOUBLE PRECISION), 0) AS DOUBLE PRECISION) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'kb_article_rating' AS metric,
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
