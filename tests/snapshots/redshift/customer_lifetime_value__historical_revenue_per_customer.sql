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
), src_invoices AS (
  /* step: read invoices as the data contract names it */
  SELECT
    CAST(t."customer_id" AS VARCHAR) AS customer_id,
    CAST(t."paid_at" AS TIMESTAMP) AS paid_at,
    CAST(t."amount" AS DECIMAL(38, 9)) AS amount
  FROM "invoices" AS t
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
), invoice_history AS (
  WITH per_customer AS (
    SELECT
      customer_id,
      GREATEST(CAST(DATE_TRUNC('MONTH', paid_at) AS DATE), CAST('2023-12-01' AS DATE)) AS period_start,
      SUM(amount) AS amount,
      MAX(paid_at) AS last_at
    FROM src_invoices
    WHERE
      paid_at < CAST('2024-07-01' AS DATE)
    GROUP BY
      customer_id,
      GREATEST(CAST(DATE_TRUNC('MONTH', paid_at) AS DATE), CAST('2023-12-01' AS DATE))
  ), changes AS (
    SELECT
      period_start,
      amount,
      CASE
        WHEN LAG(last_at) OVER (PARTITION BY customer_id ORDER BY period_start NULLS FIRST) IS NULL
        THEN 1
        ELSE 0
      END AS is_first
    FROM per_customer
  ), per_period AS (
    SELECT
      0 AS grp,
      period_start,
      SUM(amount) AS amount,
      SUM(is_first) AS customers
    FROM changes
    GROUP BY
      period_start
  )
  /* step: invoices paid before each p.end: amount, count, customers, and each customer's first-to-last span (days) */
  SELECT
    g.grp,
    g.period_start,
    SUM(COALESCE(p.amount, 0)) OVER (
      ORDER BY g.period_start NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS invoiced_amount_to_date,
    SUM(COALESCE(p.customers, 0)) OVER (
      ORDER BY g.period_start NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS invoiced_customers_to_date
  FROM grid AS g
  LEFT JOIN per_period AS p
    ON p.grp = g.grp AND p.period_start = g.period_start
), measures AS (
  /* step: every measure per period and group (0 for counts and sums with no rows) */
  SELECT
    grid.grp,
    grid.period_start,
    grid.period_end,
    COALESCE(invoice_history.invoiced_amount_to_date, 0) AS invoiced_amount_to_date,
    COALESCE(invoice_history.invoiced_customers_to_date, 0) AS invoiced_customers_to_date
  FROM grid
  LEFT JOIN invoice_history
    ON invoice_history.grp = grid.grp
    AND invoice_history.period_start = grid.period_start
), metric_values AS (
  /* step: each metric's formula over the measures, from the first reported period */
  SELECT
    grp,
    period_start,
    period_end,
    CAST(CAST((
      invoiced_amount_to_date
    ) AS DOUBLE PRECISION) / NULLIF(CAST((
      invoiced_customers_to_date
    ) AS DOUBLE PRECISION), 0) AS DOUBLE PRECISION) AS v0
  FROM measures
  WHERE
    period_start >= CAST('2024-01-01' AS DATE)
), long_values AS (
  /* step: one row per metric, variant, period and group */
  SELECT
    'customer_lifetime_value' AS metric,
    'historical_revenue_per_customer' AS variant,
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
