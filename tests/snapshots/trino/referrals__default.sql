WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_referrals AS (
  /* step: read referrals as the data contract names it */
  SELECT
    CAST(t."referred_at" AS TIMESTAMP) AS referred_at
  FROM "referrals" AS t
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
), referral_periods AS (
  /* step: referrals made in each period */
  SELECT
    0 AS grp,
    CAST(DATE_TRUNC('MONTH', referred_at) AS DATE) AS period_start,
    COUNT(*) AS referrals_made
  FROM src_referrals
  WHERE
    referred_at >= CAST('2023-12-01' AS DATE)
    AND referred_at < CAST('2024-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', referred_at) AS DATE)
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(referral_periods.referrals_made, 0) AS referrals_made
  FROM grid
  LEFT JOIN referral_periods
    ON referral_periods.grp = grid.grp
    AND referral_periods.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(referrals_made AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'referrals' AS metric,
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
