WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_survey_responses AS (
  /* step: read survey_responses as the data contract names it */
  SELECT
    CAST(t."survey" AS VARCHAR) AS survey,
    CAST(t."score" AS DOUBLE) AS score,
    CAST(t."responded_at" AS TIMESTAMP) AS responded_at
  FROM "survey_responses" AS t
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
), csat_satisfied_periods AS (
  /* step: csat responses in each period with score ≥ :csat_satisfied_min */
  SELECT
    0 AS grp,
    CAST(DATE_TRUNC('MONTH', responded_at) AS DATE) AS period_start,
    COUNT(*) AS csat_satisfied
  FROM src_survey_responses
  WHERE
    survey = 'csat'
    AND score >= 4.0
    AND responded_at >= CAST('2023-12-01' AS DATE)
    AND responded_at < CAST('2024-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', responded_at) AS DATE)
), survey_periods AS (
  /* step: nps, csat and ces responses in each period: counts, NPS promoters (score ≥ 9) and detractors (≤ 6), score sums */
  SELECT
    0 AS grp,
    CAST(DATE_TRUNC('MONTH', responded_at) AS DATE) AS period_start,
    SUM(CASE WHEN survey = 'csat' THEN 1 ELSE 0 END) AS csat_responses
  FROM src_survey_responses
  WHERE
    survey IN ('nps', 'csat', 'ces')
    AND responded_at >= CAST('2023-12-01' AS DATE)
    AND responded_at < CAST('2024-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', responded_at) AS DATE)
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(csat_satisfied_periods.csat_satisfied, 0) AS csat_satisfied,
    COALESCE(survey_periods.csat_responses, 0) AS csat_responses
  FROM grid
  LEFT JOIN csat_satisfied_periods
    ON csat_satisfied_periods.grp = grid.grp
    AND csat_satisfied_periods.period_start = grid.period_start
  LEFT JOIN survey_periods
    ON survey_periods.grp = grid.grp AND survey_periods.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      csat_satisfied
    ) AS DOUBLE) / NULLIF(CAST((
      csat_responses
    ) AS DOUBLE), 0) AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'csat' AS metric,
    'percent_satisfied' AS variant,
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
