WITH groups AS (
  /* step: one group: no --by */
  SELECT
    0 AS grp
), src_invoices AS (
  /* step: read invoices as the data contract names it */
  SELECT
    CAST(t."paid_at" AS TIMESTAMP) AS paid_at,
    CAST(t."amount" AS DECIMAL(38, 9)) AS amount,
    CAST(t."kind" AS VARCHAR) AS kind
  FROM "invoices" AS t
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
), invoice_periods AS (
  /* step: invoices paid in each period: all of them, and those of kind upsell or cross_sell (a NULL kind is subscription) */
  SELECT
    0 AS grp,
    CAST(DATE_TRUNC('MONTH', paid_at) AS DATE) AS period_start,
    SUM(amount) AS invoiced_amount,
    SUM(
      CASE
        WHEN COALESCE(kind, 'subscription') IN ('upsell', 'cross_sell')
        THEN amount
        ELSE 0
      END
    ) AS upsell_invoiced_amount
  FROM src_invoices
  WHERE
    paid_at < CAST('2024-07-01' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', paid_at) AS DATE)
), invoice_previous_period AS (
  /* step: invoices paid in p−1, read from the data even before the first reported period */
  SELECT
    g.grp,
    g.period_start,
    LAG(COALESCE(i.invoiced_amount, 0)) OVER (ORDER BY g.period_start NULLS FIRST) AS invoiced_amount_previous
  FROM grid AS g
  LEFT JOIN invoice_periods AS i
    ON i.grp = g.grp AND i.period_start = g.period_start
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(invoice_periods.upsell_invoiced_amount, 0) AS upsell_invoiced_amount,
    invoice_previous_period.invoiced_amount_previous AS invoiced_amount_previous
  FROM grid
  LEFT JOIN invoice_periods
    ON invoice_periods.grp = grid.grp
    AND invoice_periods.period_start = grid.period_start
  LEFT JOIN invoice_previous_period
    ON invoice_previous_period.grp = grid.grp
    AND invoice_previous_period.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      upsell_invoiced_amount
    ) AS DOUBLE) / NULLIF(CAST((
      invoiced_amount_previous
    ) AS DOUBLE), 0) AS DOUBLE) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'expansion_rate' AS metric,
    'upsell_invoices' AS variant,
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
